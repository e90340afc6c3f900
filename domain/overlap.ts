/**
 * Overlapping wave parts (`overlapParts`): a part that has nothing left to start gives the slots
 * its finished devices free to the wave's next part, so the devices of the next slice upgrade
 * while the previous slice's slowest devices are still watched. The rollout's concurrency is
 * shared: the parts hold slots, the sum of what they hold never exceeds it, and only the newest
 * part ("feeding") is given more. One failure budget spans the parts: each part reports its own
 * count when it gives slots back, halts and ends; the rollout adds the counts up and tells every
 * part what the others counted. Pure and replay-safe.
 */
import type { BudgetCount } from './budget';
import type { Schedule } from './schedule';

/** What the rollout knows of one running part. */
export interface PartShare {
  /** Slots the part holds: its concurrency. */
  held: number;
  /** The part still starts devices from its slice and is given the slots others free. */
  feeding: boolean;
  /** The part's own count as it last reported it (in the current budget epoch). */
  seen: BudgetCount;
  /** What the rollout last told the part: the others' count and, while feeding, its slots. */
  told?: { failed: number; finished: number; concurrency?: number };
}

/** Slots a part gives back at a time: a tenth of the rollout's concurrency, at least 1. */
export function releaseStep(concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency / 10));
}

/**
 * The slots a part holding `concurrency` may give back now: none while devices are queued to
 * start; otherwise those neither in flight nor kept for its deferred (offline) devices, once they
 * reach `step` or half of what it holds (so a part's last few devices hold no more than they need,
 * in a handful of reports).
 */
export function spareSlots(s: Schedule, concurrency: number, step: number): number {
  if (s.queue.length > 0) return 0;
  const spare = concurrency - s.inFlight - s.deferred.length;
  return spare > 0 && spare >= Math.min(step, Math.max(1, Math.floor(concurrency / 2))) ? spare : 0;
}

/** Slots no running part holds. */
export function freeSlots(concurrency: number, shares: Iterable<PartShare>): number {
  let held = 0;
  for (const s of shares) held += s.held;
  return concurrency - held;
}

/** The slots the feeding part `feeding` may hold: what the other parts leave of the concurrency. */
export function feedingSlots(concurrency: number, shares: PartShare[], feeding: PartShare): number {
  return Math.max(0, freeSlots(concurrency, shares) + feeding.held);
}

/**
 * The rollout's count after a part reported `own` (its count since it started, or since the
 * budget last started afresh), having reported `seen` before: the difference is added.
 */
export function absorbCount(total: BudgetCount, seen: BudgetCount, own: BudgetCount): BudgetCount {
  return {
    failed: total.failed + own.failed - seen.failed,
    finished: total.finished + own.finished - seen.finished,
    consecutive: own.consecutive,
  };
}

/** What part `share` is told the other parts counted: the rollout's count without its own. */
export function othersCount(total: BudgetCount, share: PartShare): { failed: number; finished: number } {
  return { failed: total.failed - share.seen.failed, finished: total.finished - share.seen.finished };
}
