/**
 * How long a rollout should take, estimated before it starts: each wave's upgrades at the pace
 * (`concurrency` in flight, each taking `expectedUpgradeTime`; no faster than `maxPerMinute`),
 * then its bake before the next wave. Approval gates and closed change windows add to it and are
 * not counted. Pure.
 */

/** The pace and timings an estimate reads (durations in ms). */
export interface EstimateInput {
  /** Devices to upgrade in each wave, in wave order. */
  upgradesPerWave: number[];
  concurrency: number;
  maxPerMinute?: number;
  expectedUpgradeMs: number;
  /** Bake after each wave but the last (0 when the bake waits for an operator). */
  bakeMs: number;
}

/** The estimate: per wave and in total, in ms. */
export interface Estimate {
  waves: number[];
  bakes: number;
  totalMs: number;
}

/** A wave of `n` upgrades: batches of `concurrency`, or the per-minute cap if that is slower. */
export function waveDurationMs(n: number, i: Omit<EstimateInput, 'upgradesPerWave' | 'bakeMs'>): number {
  if (n <= 0) return 0;
  const batches = Math.ceil(n / Math.max(1, i.concurrency)) * i.expectedUpgradeMs;
  // The cap starts `maxPerMinute` devices a minute: the last starts after (n - 1) / cap minutes.
  const capped =
    i.maxPerMinute && i.maxPerMinute > 0 ? ((n - 1) / i.maxPerMinute) * 60_000 + i.expectedUpgradeMs : 0;
  return Math.max(batches, capped);
}

/** The estimated duration of the rollout from its first device to its last wave's end. */
export function estimateRollout(i: EstimateInput): Estimate {
  const waves = i.upgradesPerWave.map((n) => waveDurationMs(n, i));
  const bakes = Math.max(0, i.upgradesPerWave.length - 1) * i.bakeMs;
  return { waves, bakes, totalMs: waves.reduce((a, b) => a + b, 0) + bakes };
}
