/** Reading what a bench needs after a run: a rollout's device statuses and the simulator's counts. */
import type { WorkflowHandle } from '@temporalio/client';
import type { AcceptedUpgrade, FaultRule } from '../../src/simulator';
import { devicesQuery } from '../../workflows/messages';
import type { rolloutWorkflow } from '../../workflows/rollout';
import type { DeviceStatus } from '../../domain/types';

/** Every device status of a rollout, page by page (a closed rollout answers queries too). */
export async function rolloutDevices(
  handle: WorkflowHandle<typeof rolloutWorkflow>,
): Promise<DeviceStatus[]> {
  const devices: DeviceStatus[] = [];
  for (let offset = 0; ;) {
    const page = await handle.query(devicesQuery, { offset, limit: 1000 });
    devices.push(...page.devices);
    offset += page.devices.length;
    if (page.devices.length === 0 || offset >= page.total) break;
  }
  return devices;
}

/** A fault rule as the simulator reports it, with its counters. */
export type FiredRule = FaultRule & { seen: number; fired: number };

/** The simulator's fault rules with how often each matched (`seen`) and fired (GET /_admin/faults). */
export async function faultRules(endpoint: string): Promise<FiredRule[]> {
  const r = (await (await fetch(`${endpoint}/_admin/faults`)).json()) as { rules?: FiredRule[] };
  return r.rules ?? [];
}

/**
 * Accepted upgrade calls per serial number and version, from the simulator's ledger:
 * `counts['<SerialNumber> <VersionCode>']`, and how many pairs were accepted once, twice, ...
 */
export function acceptedPerSerialVersion(entries: AcceptedUpgrade[]): {
  counts: Record<string, number>;
  histogram: Record<string, number>;
  max: number;
} {
  const counts: Record<string, number> = {};
  for (const e of entries)
    counts[`${e.SerialNumber} ${e.VersionCode}`] = (counts[`${e.SerialNumber} ${e.VersionCode}`] ?? 0) + 1;
  const histogram: Record<string, number> = {};
  let max = 0;
  for (const n of Object.values(counts)) {
    histogram[String(n)] = (histogram[String(n)] ?? 0) + 1;
    max = Math.max(max, n);
  }
  return { counts, histogram, max };
}
