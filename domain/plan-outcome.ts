/**
 * What a rollout would do with a device, predicted from what `plan` read: the preflight's decision
 * run through the error-code table exactly as the device workflow runs it (a preflight `fail` whose
 * code the table skips, such as `NotBoundCCN`, is a skip), and a failed inspection classified by the
 * same table. Pure; `plan` and its tests read it, so the prediction and the rollout share one table.
 */
import { outcomeOfFailure } from './device-run';
import { resolveCodePolicy } from './error-policy';
import type { PreflightDecision } from './preflight';
import type { CodeOverrides, CodePolicy } from './types';

/**
 * `upgrade`: the rollout sends the upgrade; `skip`: it leaves the device alone; `defer`: it puts
 * the device back in its wave and tries again later (offline), and fails it if that persists;
 * `fail`: it fails the device without sending anything; `unknown`: the inspection met a transient
 * error the rollout would retry, so the plan cannot say.
 */
export type PlanOutcome = 'upgrade' | 'skip' | 'defer' | 'fail' | 'unknown';

/** Every plan outcome, in the order summaries list them. */
export const PLAN_OUTCOMES: readonly PlanOutcome[] = ['upgrade', 'skip', 'defer', 'fail', 'unknown'];

/** A predicted outcome with the code and reason behind it (none for `upgrade`). */
export interface PlanPrediction {
  outcome: PlanOutcome;
  code?: string;
  reason?: string;
}

/**
 * Whether a code's policy stops the whole rollout: the credentials or permissions are wrong (the
 * table's `rollout` class, `halt` action), so every further device would fail the same way.
 */
export function stopsRollout(policy: Pick<CodePolicy, 'action' | 'class'>): boolean {
  return policy.action === 'halt' || policy.class === 'rollout';
}

/** The outcome a device gets when nothing was sent to it and it failed with `code`, as the device workflow maps it. */
function untouchedOutcome(code: string, overrides: CodeOverrides | undefined): PlanOutcome {
  const policy = resolveCodePolicy(code, overrides);
  if (policy.action === 'retry') return 'unknown';
  const o = outcomeOfFailure(code, policy, true, () => false);
  return o === 'skipped' ? 'skip' : o === 'deferred' ? 'defer' : 'fail';
}

/** The rollout's outcome for a preflight decision (the rollout skips or fails as the table says). */
export function predictFromPreflight(
  decision: PreflightDecision,
  overrides: CodeOverrides | undefined,
): PlanPrediction {
  if (decision.decision === 'go') return { outcome: 'upgrade' };
  if (decision.decision === 'skip') return { outcome: 'skip', code: decision.code, reason: decision.reason };
  return {
    outcome: untouchedOutcome(decision.code, overrides),
    code: decision.code,
    reason: decision.reason,
  };
}

/**
 * The rollout's outcome for a device whose inspection failed with `code`, or `stop` when the code
 * says the credentials or permissions are wrong (the rollout halts on it).
 */
export function predictFromInspectError(
  code: string,
  reason: string,
  overrides: CodeOverrides | undefined,
): PlanPrediction | { outcome: 'stop'; code: string; reason: string } {
  if (stopsRollout(resolveCodePolicy(code, overrides))) return { outcome: 'stop', code, reason };
  return { outcome: untouchedOutcome(code, overrides), code, reason };
}
