/**
 * The failure budget: when a rollout stops starting devices. One pure decision, used by every
 * path that counts failures (a wave part as devices finish, the health re-check after a bake), so
 * they cannot disagree. Replay-safe.
 */
import type { RolloutPolicy } from './types';

export interface BudgetRules {
  /** Breach when failures exceed this share of devices finished... */
  limitPercent: number;
  /** ...and at least this many devices failed. */
  minFailures: number;
  /** Breach on this many failures in a row (0 disables). */
  maxConsecutive: number;
  /** The canary tolerates no failure. */
  zeroTolerance: boolean;
}

/** Failures counted since the budget last started afresh (the rollout's start or a resume). */
export interface BudgetCount {
  failed: number;
  finished: number;
  consecutive: number;
}

export type BudgetVerdict = { breached: false } | { breached: true; reason: string };

/** The rules of a policy's failure budget; `zeroTolerance` for the canary. */
export function budgetRules(fb: RolloutPolicy['failureBudget'], zeroTolerance: boolean): BudgetRules {
  return {
    limitPercent: fb.maxFailurePercent,
    minFailures: fb.minFailures,
    maxConsecutive: fb.maxConsecutiveFailures,
    zeroTolerance,
  };
}

export function emptyBudget(): BudgetCount {
  return { failed: 0, finished: 0, consecutive: 0 };
}

/** The count after one more device finished, failed or not. */
export function countDevice(c: BudgetCount, failed: boolean): BudgetCount {
  return failed
    ? { failed: c.failed + 1, finished: c.finished + 1, consecutive: c.consecutive + 1 }
    : { failed: c.failed, finished: c.finished + 1, consecutive: 0 };
}

/**
 * `later` counted on top of `earlier`: failures and finished devices add up; the run of
 * consecutive failures is `later`'s, which carries on from `earlier`'s where it began there.
 */
export function addCounts(
  earlier: Pick<BudgetCount, 'failed' | 'finished'>,
  later: BudgetCount,
): BudgetCount {
  return {
    failed: earlier.failed + later.failed,
    finished: earlier.finished + later.finished,
    consecutive: later.consecutive,
  };
}

/**
 * The count after `n` devices that had counted as upgraded failed a later health re-check: each
 * one turns a success into a failure (a device not counted yet as finished is counted now).
 */
export function countRecheckFailures(c: BudgetCount, n: number): BudgetCount {
  let count = c;
  for (let i = 0; i < n; i++) {
    count = {
      failed: count.failed + 1,
      finished: Math.max(count.finished, count.failed + 1),
      consecutive: count.consecutive + 1,
    };
  }
  return count;
}

/**
 * Whether `n` more failures breach the share alone, as the health re-check decided before zero
 * tolerance and consecutive failures counted there (100% when nothing finished). Rollouts started
 * by that code replay with it.
 */
export function shareBreachedBeforeRules(
  c: Pick<BudgetCount, 'failed' | 'finished'>,
  n: number,
  rules: Pick<BudgetRules, 'limitPercent' | 'minFailures'>,
): boolean {
  const failed = c.failed + n;
  return (
    failed >= rules.minFailures && (c.finished > 0 ? (failed / c.finished) * 100 : 100) > rules.limitPercent
  );
}

/**
 * The failure budget as every screen shows it (status, the live view, the dashboard, webhooks,
 * the report): built from the same count the halt decision evaluates, never from a copy.
 */
export interface BudgetFigure {
  failed: number;
  finished: number;
  percent: number;
  limitPercent: number;
  minFailures: number;
  consecutive: number;
  breached: boolean;
  /** Breaches so far; the budget starts afresh after each resume. */
  breaches?: number;
}

/** The figure of count `c` under the policy's budget; `breached` and `breaches` as the rollout holds them. */
export function budgetFigure(
  c: BudgetCount,
  fb: { maxFailurePercent: number; minFailures: number },
  halt: { breached: boolean; breaches: number },
): BudgetFigure {
  return {
    failed: c.failed,
    finished: c.finished,
    percent: failurePercent(c),
    limitPercent: fb.maxFailurePercent,
    minFailures: fb.minFailures,
    consecutive: c.consecutive,
    breached: halt.breached,
    breaches: halt.breaches,
  };
}

/** `figure` with its count replaced by the live count `c` (a wave part's, as its devices finish). */
export function withCount(figure: BudgetFigure, c: BudgetCount): BudgetFigure {
  return {
    ...figure,
    failed: c.failed,
    finished: c.finished,
    consecutive: c.consecutive,
    percent: failurePercent(c),
  };
}

/** The share of finished devices that failed, in percent (0 when none finished). */
export function failurePercent(c: BudgetCount): number {
  return c.finished > 0 ? (c.failed / c.finished) * 100 : 0;
}

/**
 * Whether `c` breaches the rules, and why in words an operator reads (`last` is the device that
 * failed last, with its code). Zero tolerance first, then consecutive failures, then the share.
 */
export function evaluateBudget(
  c: BudgetCount,
  rules: BudgetRules,
  last: { smartAgId: string; code?: string },
): BudgetVerdict {
  if (rules.zeroTolerance && c.failed > 0)
    return { breached: true, reason: `canary device ${last.smartAgId} failed (${last.code ?? 'unknown'})` };
  if (rules.maxConsecutive > 0 && c.consecutive >= rules.maxConsecutive)
    return { breached: true, reason: `${c.consecutive} consecutive failures` };
  const pct = failurePercent(c);
  if (c.failed >= rules.minFailures && pct > rules.limitPercent) {
    return {
      breached: true,
      reason: `failure budget exceeded: ${c.failed}/${c.finished} failed (${pct.toFixed(1)}% > ${rules.limitPercent}%)`,
    };
  }
  return { breached: false };
}
