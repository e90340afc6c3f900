/**
 * A device whose upgrade lock (`upgrade/<SmartAGId>`) another rollout holds is reported, never
 * touched; these say which rollout holds it, for the part's start and its compensation alike.
 */
import { patched } from '@temporalio/workflow';
import { bestEffortRead } from '../activity-options';

/** The message of a held device: names the holding rollout when it could be read. */
export function heldMessage(workflowId: string, holder: string | undefined): string {
  return holder !== undefined
    ? `held by rollout ${holder} (${workflowId} is running for it)`
    : `${workflowId} is running for another rollout`;
}

/**
 * Whether the part reads who holds a lock: parts that ran before the read existed have no such
 * command in their history. Called synchronously where the child's start failed, so that an
 * unpatched part records the device exactly when it did before.
 */
export function readsHolder(): boolean {
  return patched('held-names-rollout');
}

/**
 * The rollout that runs `workflowId` now; undefined when it cannot be read (the run closed
 * meanwhile, the server did not answer): the device is reported held all the same.
 */
export async function lockHolder(workflowId: string): Promise<string | undefined> {
  try {
    return (await bestEffortRead.readLockHolder({ workflowId })).rolloutId;
  } catch {
    return undefined;
  }
}
