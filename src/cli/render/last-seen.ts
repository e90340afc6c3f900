import type { NoWorkerError, RolloutLastSeen } from '../../operator/errors';

/**
 * What `status` shows of a rollout no worker answers for: what visibility and the search
 * attributes hold (the state the rollout last recorded, its target, its workflow's status).
 */
export function renderLastSeenText(s: RolloutLastSeen): string {
  return [
    `rollout   ${s.rolloutId}`,
    `state     ${s.state ?? 'unknown'} (last recorded by the rollout; no worker is answering)`,
    `workflow  ${s.workflowStatus.toLowerCase()} on task queue ${s.taskQueue}`,
    `target    ${s.targetVersion ?? 'unknown'}`,
    `started   ${new Date(s.startedAt).toISOString()}${s.closedAt ? `, closed ${new Date(s.closedAt).toISOString()}` : ''}`,
  ].join('\n');
}

/** The `status --json` document when no worker answers: `workerAnswering: false`, the error, and what visibility holds. */
export function lastSeenJson(err: NoWorkerError, exitCode: number): Record<string, unknown> {
  const s = err.lastSeen;
  return {
    error: err.message,
    details: [],
    exitCode,
    rolloutId: err.rolloutId,
    workerAnswering: false,
    ...(s
      ? {
          state: s.state,
          workflowStatus: s.workflowStatus,
          closed: s.workflowStatus !== 'RUNNING',
          targetVersion: s.targetVersion,
          taskQueue: s.taskQueue,
          startedAt: new Date(s.startedAt).toISOString(),
          closedAt: s.closedAt === undefined ? undefined : new Date(s.closedAt).toISOString(),
        }
      : {}),
  };
}

/** One line for a watch: the state visibility holds meanwhile. */
export function lastSeenLine(err: NoWorkerError): string {
  const s = err.lastSeen;
  return s?.state ? `${err.message}; last recorded state: ${s.state}` : err.message;
}
