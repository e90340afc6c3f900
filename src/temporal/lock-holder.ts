/**
 * Which rollout holds a device's upgrade lock (its running `upgrade/<SmartAGId>` workflow), read
 * the same way by `start`'s check of held devices and by the wave part that finds a device held.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { rolloutOfWorkflowId } from '../../domain/ids';
import { SA_ROLLOUT_ID } from '../../workflows/search-attributes';

/**
 * The rollout a device workflow runs for: its `SagRolloutId` search attribute, else the rollout
 * its parent (`rollout/<id>/<part>`) belongs to; undefined when neither names one (a device
 * workflow started by hand, or by a workflow that is not a rollout's).
 */
export function rolloutOfDeviceRun(
  run: Pick<WorkflowExecutionInfo, 'typedSearchAttributes' | 'parentExecution'>,
): string | undefined {
  const tagged = run.typedSearchAttributes.get(SA_ROLLOUT_ID);
  if (tagged) return tagged;
  const parent = run.parentExecution?.workflowId;
  return parent ? rolloutOfWorkflowId(parent) : undefined;
}

/**
 * The rollout whose run of `workflowId` is running now, by a describe of the workflow (no
 * visibility query, so no lag); undefined when no run is running any more or none names a rollout.
 * @throws the client's error when the server cannot be asked (unavailable, permission denied).
 */
export async function readLockHolder(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const run = await client.workflow.getHandle(workflowId).describe();
    return run.status.name === 'RUNNING' ? rolloutOfDeviceRun(run) : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
