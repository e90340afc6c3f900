import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { auditQuery, devicesQuery, progressQuery } from '../../workflows/messages';
import type { DeviceStatus } from '../../workflows/types';

/** Reads a rollout's state through its queries (a closed workflow still answers them). */
export async function readRollout(client: Client, rolloutId: string) {
  const handle = client.workflow.getHandle(`rollout/${rolloutId}`);
  const progress = await handle.query(progressQuery);
  const devices: DeviceStatus[] = [];
  for (let offset = 0; ; ) {
    const page = await handle.query(devicesQuery, { offset, limit: 1000 });
    devices.push(...page.devices);
    offset += page.devices.length;
    if (page.devices.length === 0 || offset >= page.total) break;
  }
  const audit = await handle.query(auditQuery, 0);
  return { progress, devices, audit };
}

/** Writes the rollout's report as JSON Lines into `dir`; returns the paths written. */
export async function writeReportFiles(client: Client, rolloutId: string, dir: string): Promise<string[]> {
  const { progress, devices, audit } = await readRollout(client, rolloutId);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${rolloutId.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`);
  const lines = [
    JSON.stringify({ type: 'summary', ...progress }),
    ...audit.map((a) => JSON.stringify({ type: 'audit', ...a })),
    ...devices.map((d) => JSON.stringify({ type: 'device', ...d })),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return [file];
}
