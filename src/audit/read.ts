import type { Client } from '@temporalio/client';
import { auditQuery, devicesQuery, progressQuery } from '../../workflows/messages';
import type { AuditEntry, DeviceStatus, RolloutProgress } from '../../workflows/types';

/** A rollout's state as its queries answer it. */
export interface RolloutSnapshot {
  progress: RolloutProgress;
  devices: DeviceStatus[];
  audit: AuditEntry[];
}

/**
 * Reads a rollout's progress, every device (in pages of 1,000) and its whole audit log through
 * its queries. A closed rollout still answers them while a worker hosts `rolloutWorkflow`.
 * @throws WorkflowNotFoundError when no rollout has this ID.
 */
export async function readRollout(client: Client, rolloutId: string): Promise<RolloutSnapshot> {
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
