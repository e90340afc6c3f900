/** Reads of a rollout's workflow that every operator screen needs: its description, its workers, its audit log. */

import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { AuditEntry } from '../../domain/types';
import { auditQuery } from '../../workflows/messages';
import { RolloutNotFoundError } from './errors';
import { rolloutWorkflowId } from './ids';

/**
 * Describes a rollout's workflow (the latest run).
 * @throws RolloutNotFoundError when no workflow `rollout/<rolloutId>` exists.
 */
export async function describeRollout(
  client: Client,
  rolloutId: string,
): Promise<WorkflowExecutionDescription> {
  const description = await describeIfExists(client, rolloutId);
  if (!description) throw new RolloutNotFoundError(rolloutId);
  return description;
}

/** Temporal's status of a rollout's workflow (`RUNNING`, `COMPLETED`, ...), or undefined when there is none. */
export async function rolloutWorkflowStatus(client: Client, rolloutId: string): Promise<string | undefined> {
  return (await describeIfExists(client, rolloutId))?.status.name;
}

/** Whether the rollout's workflow has closed. @throws RolloutNotFoundError. */
export async function isRolloutClosed(client: Client, rolloutId: string): Promise<boolean> {
  return (await describeRollout(client, rolloutId)).status.name !== 'RUNNING';
}

async function describeIfExists(
  client: Client,
  rolloutId: string,
): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(rolloutWorkflowId(rolloutId)).describe();
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowNotFoundError') return undefined;
    throw err;
  }
}

/** How many workers polled the task queue recently (0: no worker runs; -1: the server did not say). */
export async function workerCount(client: Client, taskQueue: string): Promise<number> {
  try {
    const r = await client.withDeadline(Date.now() + 5000, () =>
      client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    return r.pollers?.length ?? 0;
  } catch {
    return -1;
  }
}

/** A rollout's audit trail, oldest first (a query: needs a worker). */
export async function readAuditLog(client: Client, rolloutId: string): Promise<AuditEntry[]> {
  return client.workflow.getHandle(rolloutWorkflowId(rolloutId)).query(auditQuery, 0);
}
