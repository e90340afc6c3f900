/**
 * Decisions of one run of `upgrade/<SmartAGId>` that depend on nothing but their inputs: the codes
 * a run gives its own failures, and the outcome a failure leaves the device in. Read by the device
 * workflow; replay-safe.
 */
import type { CodePolicy, DeviceOutcome } from './types';

/** A device whose upgrade call proved nothing and which then showed no sign of it. */
export const UNCONFIRMED = 'UpgradeUnconfirmed';
/** A send withheld because an earlier one to the same serial number may still be in progress. */
export const SEND_IN_PROGRESS = 'SendInProgress';
/** A device on its target whose branch is worse than before the upgrade (the health analysis). */
export const HEALTH_CHECK_FAILED = 'HealthCheckFailed';
/** A send withheld because this rollout's earlier call of the same version to the serial number reverted. */
export const ALREADY_SENT = 'UpgradeAlreadySent';

/** Codes after which an upgrade call may or may not have been accepted, before `provesRefusal` decided it. */
export const AMBIGUOUS_BEFORE: ReadonlySet<string> = new Set([
  'ActivityTimeout',
  'RequestTimeout',
  'ConnectionReset',
  'NetworkError',
  'InvalidResponse',
  'InternalError',
  'ServiceUnavailable',
]);

/**
 * The outcome of a run that failed with `code` under `policy`: `unconfirmed` when an upgrade may
 * still be in progress; `interrupted` when the credentials or permissions failed (and `interrupts()`
 * says so: asked only then, it is where rollouts started by older code differ); else deferred or
 * skipped as the policy asks, but only while nothing was sent (`untouched`), and failed otherwise.
 */
export function outcomeOfFailure(
  code: string,
  policy: Pick<CodePolicy, 'action' | 'class'>,
  untouched: boolean,
  interrupts: () => boolean,
): DeviceOutcome {
  if (code === UNCONFIRMED || code === SEND_IN_PROGRESS) return 'unconfirmed';
  if ((policy.action === 'halt' || policy.class === 'rollout') && interrupts()) return 'interrupted';
  if (untouched && policy.action === 'defer') return 'deferred';
  if (untouched && policy.action === 'skip') return 'skipped';
  return 'failed';
}
