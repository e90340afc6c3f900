/** Starting a rollout: its workflow, its input and its search attributes. */

import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { planWaves } from '../../domain/plan';
import type { InventoryDevice, RolloutInput, RolloutPolicy } from '../../domain/types';
import type { rolloutWorkflow } from '../../workflows/rollout';
import {
  SA_FOLLOW_UP_OF,
  SA_ROLLOUT_ID,
  SA_ROLLOUT_STATE,
  SA_TARGET_VERSION,
} from '../../workflows/search-attributes';
import { rolloutWorkflowId } from './ids';

/** What starting a rollout reports (`start --json`): `started` false when the ID already existed. */
export interface StartResult {
  rolloutId: string;
  workflowId: string;
  started: boolean;
  taskQueue: string;
  devices: number;
  waves: { name: string; size: number }[];
  /** For an ID that already existed: that rollout's workflow status and rollout state. */
  existing?: { workflowStatus: string; state?: string };
}

const ROLLOUT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Whether a rollout ID is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export function isValidRolloutId(id: string): boolean {
  return ROLLOUT_ID.test(id);
}

/**
 * Starts `rolloutWorkflow` as `rollout/<rolloutId>`. Starting an ID that exists (running or
 * closed) starts nothing: the existing rollout is reported instead, so a retried `start` is safe.
 * The input holds the inventory, the policy, the operator and the ticket: never a credential.
 */
export async function startRollout(
  client: Client,
  args: {
    rolloutId: string;
    inventory: InventoryDevice[];
    policy: RolloutPolicy;
    operator: string;
    /** Who starts it as authenticated (see `OperatorCommand.identity`). */
    operatorIdentity?: string;
    ticket?: string;
    taskQueue: string;
    /** The closed rollout this one retries (`retry-failed`): recorded in the input and as `SagFollowUpOf`. */
    followUpOf?: string;
  },
): Promise<StartResult> {
  const workflowId = rolloutWorkflowId(args.rolloutId);
  const input: RolloutInput = {
    rolloutId: args.rolloutId,
    inventory: args.inventory,
    policy: args.policy,
    operator: args.operator,
    ...(args.operatorIdentity ? { operatorIdentity: args.operatorIdentity } : {}),
    sharedAccountRule: true,
    taskQueue: args.taskQueue,
    ...(args.ticket ? { ticket: args.ticket } : {}),
    ...(args.followUpOf ? { followUpOf: args.followUpOf } : {}),
  };
  const waves = planWaves(args.inventory, args.policy).map((w) => ({ name: w.name, size: w.devices.length }));
  const base = {
    rolloutId: args.rolloutId,
    workflowId,
    taskQueue: args.taskQueue,
    devices: args.inventory.length,
    waves,
  };
  try {
    await client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
      workflowId,
      taskQueue: args.taskQueue,
      args: [input],
      // One ID, one rollout: neither a running nor a closed rollout of this ID is started again.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: SA_ROLLOUT_ID, value: args.rolloutId },
        { key: SA_TARGET_VERSION, value: args.policy.targetVersion },
        { key: SA_ROLLOUT_STATE, value: 'running' },
        ...(args.followUpOf ? [{ key: SA_FOLLOW_UP_OF, value: args.followUpOf }] : []),
      ],
    });
    return { ...base, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const d = await client.workflow.getHandle(workflowId).describe();
    const state = d.typedSearchAttributes.get(SA_ROLLOUT_STATE);
    return {
      ...base,
      started: false,
      existing: { workflowStatus: d.status.name, ...(state ? { state } : {}) },
    };
  }
}
