import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
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
} from '../../../workflows/messages';
import { workerCount } from '../context';
import { CliError, ExitCode } from '../errors';
import { RolloutNotFoundError, rolloutWorkflowId } from '../status';

/** The operator controls of a rollout. */
export type ControlKind =
  'pause' | 'resume' | 'abort' | 'approve' | 'promote' | 'exclude' | 'retry-failed' | 'set-pace';

/** What a control command reports (the `--json` contract). */
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

function isDeadline(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if ((e as { code?: unknown }).code === 4) return true;
    if (e instanceof Error && /deadline/i.test(e.message)) return true;
  }
  return false;
}

/**
 * Sends one operator control to a rollout. Pause and abort go as Signals when `noWait` is set,
 * when no worker polls the rollout's task queue, or when no worker answers the Update in time
 * (Signals are stored by the server and applied once a worker runs); every other control is an
 * Update and needs a live worker. One requestId per invocation makes a repeat harmless.
 *
 * @throws RolloutNotFoundError; CliError `refused` when the rollout has closed or the update was
 *   rejected; CliError `internal` when no worker answers an Update that has no Signal form.
 */
export async function sendControl(
  client: Client,
  rolloutId: string,
  kind: ControlKind,
  o: ControlOptions,
): Promise<ControlResult> {
  const handle = client.workflow.getHandle(rolloutWorkflowId(rolloutId));
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowNotFoundError')
      throw new RolloutNotFoundError(rolloutId);
    throw err;
  }
  if (description.status.name !== 'RUNNING') {
    throw new CliError(
      `rollout ${rolloutId} has closed (${description.status.name.toLowerCase()}): ${kind} changes nothing`,
      ExitCode.refused,
    );
  }
  const requestId = o.requestId ?? randomUUID();
  const base: OperatorCommand = { by: o.by, requestId, ...(o.reason ? { reason: o.reason } : {}) };
  const signalable = kind === 'pause' || kind === 'abort';
  const abortCmd: AbortCommand = { ...base, ...(o.compensate === false ? { compensate: false } : {}) };
  const sendSignal = async (): Promise<ControlResult> => {
    if (kind === 'pause') await handle.signal(pauseSignal, base);
    else await handle.signal(abortSignal, abortCmd);
    return { rolloutId, command: kind, requestId, via: 'signal', result: null };
  };
  if (signalable && o.noWait) return sendSignal();
  const workers = await workerCount(client, description.taskQueue);
  if (workers === 0) {
    if (signalable) return sendSignal();
    throw new CliError(
      `no worker is running on task queue ${description.taskQueue}: ${kind} needs one to answer; start one with \`sag-rollout worker\``,
      ExitCode.internal,
    );
  }
  const timeout = o.updateTimeoutMs ?? 5000;
  try {
    const result = await client.withDeadline(Date.now() + timeout, () =>
      runUpdate(handle, kind, base, abortCmd, o),
    );
    return { rolloutId, command: kind, requestId, via: 'update', result };
  } catch (err) {
    if (isDeadline(err)) {
      // The same requestId goes with the Signal: if the Update is applied later too, the rollout sees a duplicate.
      if (signalable) return sendSignal();
      throw new CliError(
        `no worker answered ${kind} within ${Math.round(timeout / 1000)} s (task queue ${description.taskQueue})`,
        ExitCode.internal,
      );
    }
    if (err instanceof Error && err.name === 'WorkflowUpdateFailedError') {
      const cause = (err as { cause?: unknown }).cause;
      throw new CliError(
        `${kind} rejected: ${cause instanceof Error ? cause.message : err.message}`,
        ExitCode.refused,
      );
    }
    if (err instanceof Error && /already completed|not found/i.test(err.message)) {
      throw new CliError(`rollout ${rolloutId} has closed: ${kind} changes nothing`, ExitCode.refused);
    }
    throw err;
  }
}

async function runUpdate(
  handle: ReturnType<Client['workflow']['getHandle']>,
  kind: ControlKind,
  base: OperatorCommand,
  abortCmd: AbortCommand,
  o: ControlOptions,
): Promise<CommandResult> {
  switch (kind) {
    case 'pause':
      return handle.executeUpdate(pauseUpdate, { args: [base] });
    case 'resume':
      return handle.executeUpdate(resumeUpdate, { args: [base] });
    case 'abort':
      return handle.executeUpdate(abortUpdate, { args: [abortCmd] });
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

/** The text line a control prints. */
export function renderControl(r: ControlResult): string {
  if (r.via === 'signal') {
    return `${r.command} sent to rollout ${r.rolloutId} as a signal (request ${r.requestId}); the server stores it and the rollout applies it when a worker runs`;
  }
  const res = r.result!;
  const head = res.accepted ? (res.duplicate ? 'already done' : 'accepted') : 'refused';
  return `${r.command} ${head}: ${res.message} (rollout ${r.rolloutId} is ${res.state})`;
}
