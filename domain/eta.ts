import type { OutcomeCounts } from './types';

/**
 * When the rollout's devices would all be done at the pace so far: the time since the start per
 * finished device, times those left. None before the first device finished or after the last.
 */
export function estimateEnd(c: OutcomeCounts, startedAt: number, now: number): number | undefined {
  const done = c.upgraded + c.failed + c.unconfirmed + c.skipped + c.compensated + c.excluded;
  const total = done + c['in-progress'] + c.pending;
  return done > 0 && done < total ? now + ((now - startedAt) / done) * (total - done) : undefined;
}
