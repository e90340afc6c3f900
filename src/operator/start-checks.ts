/**
 * What `start` checks before it acts: whether a worker polls the task queue, and which devices of
 * the inventory another running rollout holds (their `upgrade/<SmartAGId>` workflow is running:
 * the new rollout would report them `HeldByAnotherRollout` and leave them alone).
 */
import type { Client } from '@temporalio/client';
import { rolloutOfDeviceRun } from '../temporal/lock-holder';
import { deviceWorkflowId } from './ids';
import { workerCount } from './read';

/** A device of the inventory that a running rollout holds. */
export interface HeldDevice {
  smartAgId: string;
  /** The rollout that holds it (its ID), or the holding workflow's ID when it is not a rollout's. */
  heldBy: string;
}

export interface StartChecks {
  /** Workers that polled the task queue recently; -1 when the server did not say. */
  workers: number;
  held: HeldDevice[];
}

const DEVICE_PREFIX = deviceWorkflowId('');

/** The devices of `smartAgIds` whose upgrade workflow runs now, with the rollout holding each. */
async function heldDevices(client: Client, smartAgIds: string[]): Promise<HeldDevice[]> {
  const wanted = new Set(smartAgIds);
  const out: HeldDevice[] = [];
  const running = client.workflow.list({
    query: `WorkflowType = 'deviceUpgradeWorkflow' AND ExecutionStatus = 'Running'`,
  });
  for await (const w of running) {
    const id = w.workflowId.startsWith(DEVICE_PREFIX) ? w.workflowId.slice(DEVICE_PREFIX.length) : '';
    if (wanted.has(id))
      out.push({
        smartAgId: id,
        heldBy: rolloutOfDeviceRun(w) ?? w.parentExecution?.workflowId ?? '(no parent workflow)',
      });
  }
  return out.sort((a, b) => a.smartAgId.localeCompare(b.smartAgId));
}

/** Both checks of `start`. */
export async function startChecks(
  client: Client,
  taskQueue: string,
  smartAgIds: string[],
): Promise<StartChecks> {
  const [workers, held] = await Promise.all([
    workerCount(client, taskQueue),
    heldDevices(client, smartAgIds),
  ]);
  return { workers, held };
}

/** The held devices by holding rollout, for one line: `r-1 holds 3 (sag-1, sag-2, sag-3)`. */
export function describeHeld(held: HeldDevice[], shown = 5): string[] {
  const by = new Map<string, string[]>();
  for (const h of held) by.set(h.heldBy, [...(by.get(h.heldBy) ?? []), h.smartAgId]);
  return [...by].map(([holder, ids]) => {
    const list =
      ids.slice(0, shown).join(', ') + (ids.length > shown ? `, and ${ids.length - shown} more` : '');
    return `rollout ${holder} holds ${ids.length} (${list})`;
  });
}
