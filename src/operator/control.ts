/** The operator controls of a rollout: the same Updates and Signals from the CLI and the dashboard. */

import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  abortSignal,
  abortUpdate,
  approveUpdate,
  excludeUpdate,
  pauseSignal,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  retryFailedUpdate,
  setPaceUpdate,
  type AbortCommand,
  type ApproveCommand,
  type CommandResult,
  type ExcludeCommand,
  type OperatorCommand,
  type PaceCommand,
} from '../../workflows/messages';
import { SA_ROLLOUT_STATE } from '../../workflows/search-attributes';
import { ControlError, isDeadlineExceeded } from './errors';
import { rolloutWorkflowId } from './ids';
import { describeRollout, workerCount } from './read';

/** The operator controls of a rollout. */
export type ControlKind =
  'pause' | 'resume' | 'abort' | 'approve' | 'promote' | 'exclude' | 'retry-failed' | 'set-pace';

/** What a control reports (the CLI's `--json` and the dashboard's answer). */
export interface ControlResult {
  rolloutId: string;
  command: ControlKind;
  requestId: string;
  /** `update`: the rollout answered; `signal`: stored by the server, applied when a worker runs. */
  via: 'update' | 'signal';
  /** The rollout's answer (updates only). */
  result: CommandResult | null;
}

export interface ControlOptions {
  by: string;
  /** Who sends it as authenticated (see `OperatorCommand.identity`). */
  identity?: string;
  reason?: string;
  requestId?: string;
  /** pause/abort: send the Signal without waiting for an answer. */
  noWait?: boolean;
  /** How long to wait for a worker to answer the Update before falling back (pause/abort) or failing. */
  updateTimeoutMs?: number;
  compensate?: boolean;
  wave?: number;
  smartAgIds?: string[];
  /** set-pace: devices in flight and devices started per minute (0 removes the cap). */
  concurrency?: number;
  maxPerMinute?: number;
}

/**
 * Sends one operator control to a rollout. Pause and abort go as Signals when `noWait` is set,
 * when no worker polls the rollout's task queue, or when no worker answers the Update in time
 * (Signals are stored by the server and applied once a worker runs); every other control is an
 * Update and needs a live worker. One requestId per invocation makes a repeat harmless.
 *
 * @throws RolloutNotFoundError; ControlError `refused` when the rollout has closed or the update
 *   was rejected; ControlError `unanswered` when no worker answers an Update that has no Signal form.
 */
export async function sendControl(
  client: Client,
  rolloutId: string,
  kind: ControlKind,
  o: ControlOptions,
): Promise<ControlResult> {
  const description = await describeRollout(client, rolloutId);
  if (description.status.name !== 'RUNNING') {
    // The rollout's own close state (aborted, completed, failed) from its search attribute: an
    // aborted rollout's workflow completes too. Temporal's status for one closed otherwise.
    const state = description.typedSearchAttributes.get(SA_ROLLOUT_STATE);
    const closedAs =
      description.status.name === 'COMPLETED' && state ? state : description.status.name.toLowerCase();
    throw new ControlError(
      `rollout ${rolloutId} has closed (${closedAs}): ${kind} changes nothing`,
      'refused',
    );
  }
  const handle = client.workflow.getHandle(rolloutWorkflowId(rolloutId));
  const requestId = o.requestId ?? randomUUID();
  const base: OperatorCommand = {
    by: o.by,
    requestId,
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  };
  const signalable = kind === 'pause' || kind === 'abort';
  const sendSignal = async (): Promise<ControlResult> => {
    if (kind === 'pause') await handle.signal(pauseSignal, base);
    else await handle.signal(abortSignal, abortCommand(base, o));
    return { rolloutId, command: kind, requestId, via: 'signal', result: null };
  };
  if (signalable && o.noWait) return sendSignal();
  const taskQueue = description.taskQueue;
  if ((await workerCount(client, taskQueue)) === 0) {
    if (signalable) return sendSignal();
    throw new ControlError(
      `no worker is running on task queue ${taskQueue}: ${kind} needs one to answer; start one with \`sag-rollout worker\``,
      'unanswered',
    );
  }
  const timeout = o.updateTimeoutMs ?? 5000;
  try {
    const result = await client.withDeadline(Date.now() + timeout, () => runUpdate(handle, kind, base, o));
    return { rolloutId, command: kind, requestId, via: 'update', result };
  } catch (err) {
    if (isDeadlineExceeded(err)) {
      // The same requestId goes with the Signal: if the Update is applied later too, the rollout sees a duplicate.
      if (signalable) return sendSignal();
      throw new ControlError(
        `no worker answered ${kind} within ${Math.round(timeout / 1000)} s (task queue ${taskQueue})`,
        'unanswered',
      );
    }
    throw updateFailure(err, rolloutId, kind);
  }
}

function abortCommand(base: OperatorCommand, o: ControlOptions): AbortCommand {
  return { ...base, ...(o.compensate === false ? { compensate: false } : {}) };
}

/** What a failed Update means to the operator: a rejection, a closed rollout, or something else. */
function updateFailure(err: unknown, rolloutId: string, kind: ControlKind): unknown {
  if (err instanceof Error && err.name === 'WorkflowUpdateFailedError') {
    const cause = (err as { cause?: unknown }).cause;
    return new ControlError(
      `${kind} rejected: ${cause instanceof Error ? cause.message : err.message}`,
      'refused',
    );
  }
  if (err instanceof Error && /already completed|not found/i.test(err.message))
    return new ControlError(`rollout ${rolloutId} has closed: ${kind} changes nothing`, 'refused');
  return err;
}

async function runUpdate(
  handle: WorkflowHandle,
  kind: ControlKind,
  base: OperatorCommand,
  o: ControlOptions,
): Promise<CommandResult> {
  switch (kind) {
    case 'pause':
      return handle.executeUpdate(pauseUpdate, { args: [base] });
    case 'resume':
      return handle.executeUpdate(resumeUpdate, { args: [base] });
    case 'abort':
      return handle.executeUpdate(abortUpdate, { args: [abortCommand(base, o)] });
    case 'approve': {
      const cmd: ApproveCommand = { ...base, ...(o.wave !== undefined ? { wave: o.wave } : {}) };
      return handle.executeUpdate(approveUpdate, { args: [cmd] });
    }
    case 'promote':
      return handle.executeUpdate(promoteUpdate, { args: [base] });
    case 'set-pace': {
      const cmd: PaceCommand = {
        ...base,
        ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
        ...(o.maxPerMinute !== undefined ? { maxPerMinute: o.maxPerMinute } : {}),
      };
      return handle.executeUpdate(setPaceUpdate, { args: [cmd] });
    }
    case 'exclude': {
      const cmd: ExcludeCommand = { ...base, smartAgIds: o.smartAgIds ?? [] };
      return handle.executeUpdate(excludeUpdate, { args: [cmd] });
    }
    case 'retry-failed':
      return handle.executeUpdate(retryFailedUpdate, { args: [base] });
  }
}
