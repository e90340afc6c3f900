/**
 * The account's API budget as a rollout spends it (see `ApiBudget`): the pace of device starts
 * whose expected calls fit in the budget, and the reads a device run may save. Pure.
 */
import { parseDurationMs } from './durations';
import type { Pace } from './schedule';
import type { ApiBudget, DeviceReads, DeviceUpgradePolicy } from './types';

/** Calls one device is expected to cost when the policy does not say. */
export const DEFAULT_CALLS_PER_DEVICE = 8;

/**
 * The pace with the budget's cap: a device's calls spread over its upgrade, so starting `r`
 * devices a minute costs about `r × callsPerDevice` calls a minute once the rollout runs steadily.
 * The per-minute cap is the lower of the policy's and the budget's; without a budget the pace is
 * returned unchanged (the same object).
 */
export function budgetPace(pace: Pace, budget: ApiBudget | undefined): Pace {
  if (!budget?.requestsPerSecond) return pace;
  const calls = budget.callsPerDevice ?? DEFAULT_CALLS_PER_DEVICE;
  const fits = Math.max(1, Math.floor((budget.requestsPerSecond * 60) / calls));
  return { ...pace, maxPerMinute: Math.min(pace.maxPerMinute ?? Infinity, fits) };
}

/** The reads a device run saves under the budget; `undefined` when the policy asks for none. */
export function deviceReads(budget: ApiBudget | undefined, shareKey: string): DeviceReads | undefined {
  if (!budget) return undefined;
  const reads: DeviceReads = {};
  const first = parseDurationMs(budget.firstPollAfter);
  if (first) reads.firstPollAfterMs = first;
  if (budget.bulkStatus) reads.bulkStatus = true;
  if (budget.shareVersions) {
    reads.shareVersions = true;
    reads.shareKey = shareKey;
  }
  return Object.keys(reads).length > 0 ? reads : undefined;
}

/** The device policy with the budget's reads; the same object when there are none. */
export function withReads(
  policy: DeviceUpgradePolicy,
  budget: ApiBudget | undefined,
  shareKey: string,
): DeviceUpgradePolicy {
  const reads = deviceReads(budget, shareKey);
  return reads ? { ...policy, reads } : policy;
}

/**
 * The instant before which a verify of a call sent at `sentAt` does not poll: `firstPollAfterMs`
 * after it, but never so late that the polls the verify needs no longer fit before its deadline.
 * Undefined without the setting.
 */
export function quietUntil(
  policy: Pick<DeviceUpgradePolicy, 'reads' | 'pollIntervalMs' | 'consecutivePolls'>,
  sentAt: number,
  deadline: number,
): number | undefined {
  const first = policy.reads?.firstPollAfterMs;
  if (!first) return undefined;
  const latest = deadline - policy.pollIntervalMs * (policy.consecutivePolls + 1);
  return Math.max(sentAt, Math.min(sentAt + first, latest));
}
