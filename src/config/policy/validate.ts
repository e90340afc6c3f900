import type { InventoryDevice, RolloutPolicy } from '../../../domain/types';
import { ProblemList } from '../../common/errors';
import { checkFeasible } from '../../windows/instants';
import { SMARTAG_REGIONS } from '../inventory';
import { inOrder } from './checks';
import * as rules from './rules';
import { freezesAndDeadline, windows } from './window-rules';

/** What {@link validatePolicy} needs besides the policy and the inventory. */
export interface ValidationContext {
  /** The change ticket the rollout runs under (`--ticket`). */
  ticket?: string;
  /** Who starts the rollout (`--operator`). */
  operator?: string;
  /** The current time, ms since the epoch (default `Date.now()`). */
  nowMs?: number;
}

/**
 * Checks a complete policy against the inventory it will run over, collecting every problem:
 * target version (required; firmware `2.4.1.0`, DPI `20201117_1_0-0.0.1`), canary (not larger
 * than the inventory, named devices and group present), waves (percentages in (0, 100],
 * strictly increasing, ending at 100; or positive sizes), pace (`concurrency` ≥ 1,
 * `maxPartSize` ≤ 1000), failure budget, durations (verify timeout longer than poll interval ×
 * consecutive polls), windows and freezes (cron, time zone, duration, one-off end after
 * start, selectors naming known devices and regions), deadline in the future, ticket when
 * `requireTicket`, error overrides' values, webhooks. When that all holds and windows, freezes
 * or a deadline are set, it also checks with {@link checkFeasible} that some device can start.
 *
 * @throws {InputError} listing every problem with its field path (`waves.cumulativePercents[2]`,
 *   `windows[0].timeZone`).
 */
export function validatePolicy(
  policy: RolloutPolicy,
  inventory: InventoryDevice[],
  context: ValidationContext = {},
): void {
  const run: rules.RolloutContext = {
    size: inventory.length,
    ids: new Set(inventory.map((d) => d.smartAgId)),
    groups: new Set(inventory.flatMap((d) => (d.group !== undefined ? [d.group] : []))),
    regions: new Set([...SMARTAG_REGIONS, ...inventory.map((d) => d.regionId)]),
    nowMs: context.nowMs ?? Date.now(),
    ticket: context.ticket,
    operator: context.operator,
  };
  const problems = new ProblemList();
  for (const issue of policyRules(run).safeParse(policy).error?.issues ?? [])
    problems.add(`${fieldPath(issue.path)}: ${issue.message}`);
  if (
    problems.problems.length === 0 &&
    (policy.windows.length > 0 || policy.freezes.length > 0 || policy.deadline !== undefined)
  ) {
    problems.attempt(() => checkFeasible(policy, run.nowMs, inventory));
  }
  problems.throwIfAny('the rollout policy is not valid:');
}

/** The rules, in the order their problems are reported. */
function policyRules(run: rules.RolloutContext) {
  return inOrder<RolloutPolicy>(
    rules.versionType,
    rules.targetVersions,
    rules.fleet(run),
    rules.canary(run),
    rules.approvalGate,
    rules.waves,
    rules.pace(run),
    rules.failureBudget,
    rules.durations,
    rules.verifyTiming,
    rules.approval,
    windows(run),
    freezesAndDeadline(run),
    rules.startedBy(run),
    rules.errorOverrides,
    rules.webhooks,
  );
}

/**
 * A field path as the policy's problems name it: `windows[0].appliesTo.devices[1]`,
 * `errorOverrides.Throttling.User.action` (keys as written, unquoted).
 */
function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}
