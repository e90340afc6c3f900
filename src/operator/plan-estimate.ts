/** The plan's estimate of a rollout's duration, from the policy's pace and expected upgrade time. */

import { parseDurationMs } from '../../domain/durations';
import { estimateRollout } from '../../domain/plan-estimate';
import type { RolloutPolicy } from '../../domain/types';

/** The `estimate` of `plan --json` (ms). */
export interface PlanEstimate {
  totalMs: number;
  /** Per wave: its upgrades at the pace. */
  wavesMs: number[];
  /** The bakes between waves, together. */
  bakesMs: number;
  expectedUpgradeMs: number;
  /** What the estimate leaves out. */
  excludes: string[];
}

/**
 * Estimates the rollout's duration: each wave's devices to upgrade (`perWave`) in batches of
 * `concurrency` taking `expectedUpgradeTime` each (or at `maxPerMinute` if slower), plus the bakes.
 */
export function planEstimate(policy: RolloutPolicy, perWave: number[]): PlanEstimate {
  const expectedUpgradeMs = parseDurationMs(policy.expectedUpgradeTime) ?? 0;
  const bakeMs = parseDurationMs(policy.bake) ?? 0;
  const e = estimateRollout({
    upgradesPerWave: perWave,
    concurrency: policy.concurrency,
    ...(policy.maxPerMinute !== undefined ? { maxPerMinute: policy.maxPerMinute } : {}),
    expectedUpgradeMs,
    bakeMs,
  });
  const excludes = ['time waiting for a change window'];
  if (policy.approval !== 'none') excludes.unshift('approvals');
  if (policy.caps?.perRegion || policy.caps?.perGroup) excludes.push('per-region and per-group caps');
  return { totalMs: e.totalMs, wavesMs: e.waves, bakesMs: e.bakes, expectedUpgradeMs, excludes };
}
