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

/**
 * What Temporal's visibility holds of a rollout without asking a worker: its search attributes
 * (`SagRolloutState` is the state the rollout last recorded) and its workflow's status and times.
 */
export interface RolloutLastSeen {
  rolloutId: string;
  workflowStatus: string;
  /** The state the rollout last recorded in `SagRolloutState`. */
  state?: string;
  targetVersion?: string;
  startedAt: number;
  closedAt?: number;
  taskQueue: string;
}

/** The rollout exists but no worker answered its queries. */
export class NoWorkerError extends Error {
  override readonly name = 'NoWorkerError';
  constructor(
    readonly rolloutId: string,
    readonly taskQueue: string,
    readonly workflowStatus: string,
    readonly pollers: number,
    /** What visibility shows of the rollout meanwhile. */
    readonly lastSeen?: RolloutLastSeen,
    /** The server's own answer, when it refused the query (FAILED_PRECONDITION). */
    readonly serverSaid?: string,
  ) {
    const status = workflowStatus.toLowerCase();
    super(
      pollers === 0
        ? `no worker is running on task queue ${taskQueue}: rollout ${rolloutId} (${status}) can only answer queries while one runs; start one with \`sag-rollout worker\``
        : serverSaid
          ? `no worker is answering rollout ${rolloutId} (${status}) on task queue ${taskQueue}: the server says "${serverSaid}" (it lists a stopped worker for about five minutes); start one with \`sag-rollout worker\``
          : `no worker is answering rollout ${rolloutId} (${status}) on task queue ${taskQueue} in time: is the worker stopped or overloaded?`,
    );
  }
}

/**
 * The server's answer when a query finds no worker polling recently (gRPC FAILED_PRECONDITION,
 * code 9: "no poller seen for task queue recently, worker may be down"), or when it cancelled a
 * query it had given to a worker that died (CANCELLED, code 1); else undefined.
 */
export function noPollerAnswer(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    for (const text of [(e as { details?: unknown }).details, e instanceof Error ? e.message : undefined]) {
      const m = typeof text === 'string' ? /no poller seen[^.;\n]*/i.exec(text) : null;
      if (m) return m[0].trim();
    }
    if (code === 9) return (e as { details?: string }).details || 'FAILED_PRECONDITION';
    // The query was dispatched to the worker that died and the server cancelled it.
    if (code === 1) return 'the query was cancelled before a worker answered it';
  }
  return undefined;
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
