import { describe, expect, it } from 'vitest';
import { emptyBudget } from '../../domain/budget';
import {
  absorbCount,
  feedingSlots,
  freeSlots,
  othersCount,
  releaseStep,
  spareSlots,
  type PartShare,
} from '../../domain/overlap';
import { defer, markFinished, markStarted, newSchedule } from '../../domain/schedule';

const here = { regionId: 'cn-shanghai' };

/** A schedule of `n` devices all started. */
function allStarted(n: number) {
  const s = newSchedule(Array.from({ length: n }, (_, i) => i));
  for (let i = 0; i < n; i++) markStarted(s, here, i, 0);
  return s;
}

describe('the slots a part gives back', () => {
  it('are none while devices wait in its queue', () => {
    const s = newSchedule([0, 1, 2]);
    markStarted(s, here, 0, 0);
    expect(spareSlots(s, 10, 1)).toBe(0);
  });

  it('come a step at a time as its devices finish, then by halves of what it holds', () => {
    const s = allStarted(100);
    const step = releaseStep(100);
    expect(step).toBe(10);
    for (let i = 0; i < 9; i++) markFinished(s, here);
    expect(spareSlots(s, 100, step)).toBe(0);
    markFinished(s, here);
    expect(spareSlots(s, 100, step)).toBe(10);
    // Holding 8 with 7 finished: 7 ≥ half of 8.
    const tail = allStarted(8);
    for (let i = 0; i < 3; i++) markFinished(tail, here);
    expect(spareSlots(tail, 8, step)).toBe(0);
    markFinished(tail, here);
    expect(spareSlots(tail, 8, step)).toBe(4);
    // The last device in flight: it keeps one slot, gives back the rest.
    const last = allStarted(2);
    markFinished(last, here);
    expect(spareSlots(last, 2, step)).toBe(1);
  });

  it('keep a slot for each offline device waiting for another try', () => {
    const s = allStarted(4);
    markFinished(s, here);
    markFinished(s, here);
    defer(s, 0, 1000);
    expect(spareSlots(s, 4, 1)).toBe(1);
  });
});

describe('the slots the rollout shares', () => {
  const share = (held: number, feeding: boolean): PartShare => ({ held, feeding, seen: emptyBudget() });

  it('give the part started last what the others leave of the concurrency', () => {
    const draining = share(30, false);
    const feeding = share(50, true);
    expect(freeSlots(100, [draining, feeding])).toBe(20);
    expect(feedingSlots(100, [draining, feeding], feeding)).toBe(70);
    // A lower concurrency than the others hold leaves it nothing, never less.
    expect(feedingSlots(20, [draining, feeding], feeding)).toBe(0);
  });

  it('add each report to the count once, and tell a part what the others counted', () => {
    const p = share(10, false);
    let total = { failed: 1, finished: 5, consecutive: 0 };
    total = absorbCount(total, p.seen, { failed: 1, finished: 3, consecutive: 1 });
    p.seen = { failed: 1, finished: 3, consecutive: 1 };
    expect(total).toEqual({ failed: 2, finished: 8, consecutive: 1 });
    // Its next report adds only what is new.
    total = absorbCount(total, p.seen, { failed: 1, finished: 6, consecutive: 0 });
    p.seen = { failed: 1, finished: 6, consecutive: 0 };
    expect(total).toEqual({ failed: 2, finished: 11, consecutive: 0 });
    expect(othersCount(total, p)).toEqual({ failed: 1, finished: 5 });
  });
});
