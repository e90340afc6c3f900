/**
 * Turns any failure of a smartag call into the `ApplicationFailure` an activity throws, so that
 * Temporal's retry policy and the workflows see the Alibaba `Code` as the failure `type` (a bare
 * pop-core error would reach Temporal as type "Error").
 */
import { ApplicationFailure } from '@temporalio/common';
import type { CodeOverrides, CodePolicy, ErrorClass, FailureAction, Persistence } from '../../domain/types';
import { resolveCodePolicy } from '../../domain/error-policy';
import { normalizeError } from './errors';
import { parseDurationMs as durationMs } from '../../domain/durations';

/** `details[0]` of every failure built by {@link toApplicationFailure}. JSON-native. */
export interface SagFailureDetails {
  code: string;
  httpStatus?: number;
  requestId?: string;
  action: string;
  errorClass: ErrorClass;
  persistence: Persistence;
  failureAction: FailureAction;
  /** The delay asked of Temporal for this retry, when the code sets one (throttling). */
  nextRetryDelayMs?: number;
}

export interface ToFailureOptions {
  /** The activity attempt (1-based) the failure ends; scales the throttling delay. Default 1. */
  attempt?: number;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Literal values to remove from the message (the client's credentials). */
  secrets?: readonly (string | undefined)[];
}

function isThrottling(code: string): boolean {
  return code.startsWith('Throttling') || code === 'Rejected.Throttling';
}

/**
 * The delay before retry `attempt` under `policy`: the row's initial interval grown by its
 * coefficient, capped at its maximum interval, then spread by ±50 % jitter (and capped again), so
 * that workers throttled together do not come back together. `undefined` when the row has no
 * usable initial interval.
 */
export function retryDelayMs(
  policy: CodePolicy,
  attempt = 1,
  random: () => number = Math.random,
): number | undefined {
  const initial = durationMs(policy.initialInterval);
  if (initial === undefined) return undefined;
  const max = durationMs(policy.maximumInterval) ?? Number.POSITIVE_INFINITY;
  const coefficient =
    policy.backoffCoefficient !== undefined && policy.backoffCoefficient >= 1 ? policy.backoffCoefficient : 2;
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const base = Math.min(initial * coefficient ** exponent, max);
  const jittered = base * (0.5 + Math.min(Math.max(random(), 0), 1));
  return Math.round(Math.min(jittered, max));
}

/**
 * Classifies `err` (anything a {@link SagClient} call or pop-core throws) once, at the edge:
 *
 * - `type`: the Alibaba `Code` or the client's transport code (`RequestTimeout`, ...);
 * - `nonRetryable`: the code's policy action is not `retry` (so `defer`, `skip`, `fail` and
 *   `halt` reach the workflow at once);
 * - `nextRetryDelay`: for throttling codes, the row's backoff with jitter for this attempt;
 * - `message`: scrubbed of credentials and signed URLs;
 * - `details`: one {@link SagFailureDetails}.
 *
 * `overrides` are the rollout policy's `errorOverrides`. Never throws; returns the failure for
 * the caller to throw.
 */
export function toApplicationFailure(
  err: unknown,
  action: string,
  overrides?: CodeOverrides,
  options: ToFailureOptions = {},
): ApplicationFailure {
  const sagError = normalizeError(err, action, options.secrets);
  const policy = resolveCodePolicy(sagError.code, overrides, sagError.httpStatus);
  const retryable = policy.action === 'retry';
  const details: SagFailureDetails = {
    code: sagError.code,
    action: sagError.action,
    errorClass: policy.class,
    persistence: policy.persistence,
    failureAction: policy.action,
  };
  if (sagError.httpStatus !== undefined) details.httpStatus = sagError.httpStatus;
  if (sagError.requestId !== undefined) details.requestId = sagError.requestId;
  let nextRetryDelay: number | undefined;
  if (retryable && isThrottling(sagError.code)) {
    nextRetryDelay = retryDelayMs(policy, options.attempt ?? 1, options.random);
    if (nextRetryDelay !== undefined) details.nextRetryDelayMs = nextRetryDelay;
  }
  return ApplicationFailure.create({
    message: sagError.message,
    type: sagError.code,
    nonRetryable: !retryable,
    details: [details],
    ...(nextRetryDelay !== undefined ? { nextRetryDelay } : {}),
    cause: sagError,
  });
}
