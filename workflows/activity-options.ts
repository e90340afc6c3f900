import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/**
 * Activity option presets, named by intent and always bounded.
 *
 * `apiCall`: short reads and idempotent writes run as local activities (one history marker, no
 * task-queue round trip); transient service failures retry here with backoff, everything else is
 * typed non-retryable at the edge and decided by the workflow.
 */
export const apiCall = proxyLocalActivities<Activities>({
  startToCloseTimeout: '60s',
  localRetryThreshold: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
});

/**
 * `upgradeCall`: `UpdateSmartAccessGatewayVersion`, a regular activity with exactly one attempt.
 * Its Scheduled event is in history before the call leaves, so after a crash the workflow knows a
 * call may have gone out and settles instead of sending blindly (a local activity would be re-run).
 */
export const upgradeCall = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  // A call that cannot start soon after it was scheduled (no worker polls) is given up: the
  // workflow's settle and verify windows count from the scheduling, so a late send must not leave.
  scheduleToCloseTimeout: '2m',
  retry: { maximumAttempts: 1 },
});

/** `awaitDevice`: a heartbeating poller; a retry after a worker crash resumes its count. */
export function awaitDeviceActivity(pollIntervalMs: number, maxWaitMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: maxWaitMs + 5 * 60_000,
    heartbeatTimeout: Math.max(30_000, pollIntervalMs * 2 + 15_000),
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20 },
  });
}

/** `rolloutStep`: window computation, notifications and report export. */
export const rolloutStep = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
});

/**
 * `bestEffortRead`: a read of the Temporal server whose answer only makes a message more precise
 * (which rollout holds a device); a local activity, given a few seconds, after which the caller
 * goes on without it.
 */
export const bestEffortRead = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 3 },
});

/** `workerCheck`: a question to a worker about its own configuration, answered at once or not at all. */
export const workerCheck = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 2 },
});

/**
 * `healthCall`: the health reads a policy asks for beyond what inspect and verify read (HA link
 * backup of a pair, a diagnosis, unsupported features); a diagnosis heartbeats while it runs.
 */
export const healthCall = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** `probeCall`: one HTTP probe of a device, bounded by its own attempts; it heartbeats between them. */
export function probeActivity(spec: {
  timeoutMs: number;
  intervalMs: number;
  successes: number;
  failureLimit: number;
}) {
  // The most answers a probe can ask for: each failure may follow a run one short of passing.
  const attempts = spec.successes * spec.failureLimit + spec.failureLimit;
  return proxyActivities<Activities>({
    startToCloseTimeout: attempts * (spec.timeoutMs + spec.intervalMs) + 60_000,
    heartbeatTimeout: Math.max(30_000, spec.timeoutMs + spec.intervalMs + 15_000),
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3 },
  });
}
