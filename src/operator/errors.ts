/**
 * What the operator client throws. Each screen maps these once: the CLI onto exit codes
 * (src/cli/errors.ts), the dashboard onto HTTP statuses (src/dashboard/http.ts).
 */

import { rolloutWorkflowId } from './ids';

/** The rollout does not exist in this namespace. */
export class RolloutNotFoundError extends Error {
  override readonly name = 'RolloutNotFoundError';
  constructor(readonly rolloutId: string) {
    super(`no rollout ${rolloutId} (workflow ${rolloutWorkflowId(rolloutId)}) in this namespace`);
  }
}

/** The rollout exists but no worker answered its queries in time. */
export class NoWorkerError extends Error {
  override readonly name = 'NoWorkerError';
  constructor(
    readonly rolloutId: string,
    readonly taskQueue: string,
    readonly workflowStatus: string,
    readonly pollers: number,
  ) {
    super(
      pollers === 0
        ? `no worker is running on task queue ${taskQueue}: rollout ${rolloutId} (${workflowStatus.toLowerCase()}) can only answer queries while one runs; start one with \`sag-rollout worker\``
        : `no worker answered the queries of rollout ${rolloutId} (${workflowStatus.toLowerCase()}) on task queue ${taskQueue} in time; is the worker overloaded or stopped?`,
    );
  }
}

/**
 * A control did not take effect. `refused`: the rollout has closed or rejected the command;
 * `unanswered`: the command needs a worker and none answered.
 */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    message: string,
    readonly reason: 'refused' | 'unanswered',
  ) {
    super(message);
  }
}

/** Whether a call failed because nobody answered in time (gRPC DEADLINE_EXCEEDED, code 4). */
export function isDeadlineExceeded(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 4) return true;
    if (e instanceof Error && /deadline/i.test(e.message)) return true;
  }
  return false;
}
