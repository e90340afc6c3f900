import { describe, expect, it } from 'vitest';
import {
  defer,
  markFinished,
  markStarted,
  newSchedule,
  pickNext,
  takeWaiting,
  unschedule,
  waiting,
  windowWait,
} from '../../domain/schedule';
import type { WindowInstant } from '../../domain/types';

const devices = [
  { regionId: 'cn-shanghai', group: 'a' },
  { regionId: 'cn-shanghai', group: 'b' },
  { regionId: 'cn-hangzhou', group: 'a' },
];
const open = () => 0;

describe('pickNext', () => {
  it('starts queued devices in order up to the concurrency', () => {
    const s = newSchedule([0, 1, 2]);
    expect(pickNext(s, devices, { concurrency: 2 }, undefined, open, 0)).toEqual({ kind: 'start', idx: 0 });
    markStarted(s, devices[0]!, 0, 0);
    markStarted(s, devices[1]!, 1, 0);
    expect(s.queue).toEqual([2]);
    expect(pickNext(s, devices, { concurrency: 2 }, undefined, open, 0)).toEqual({
      kind: 'wait',
      scanned: false,
    });
    markFinished(s, devices[0]!);
    expect(pickNext(s, devices, { concurrency: 2 }, undefined, open, 0)).toEqual({ kind: 'start', idx: 2 });
    expect(s.started).toBe(2);
  });

  it('waits for the per-minute cap to free up, counting starts of the last minute only', () => {
    const s = newSchedule([0, 1, 2]);
    markStarted(s, devices[0]!, 0, 1_000);
    markFinished(s, devices[0]!);
    const pace = { concurrency: 5, maxPerMinute: 1 };
    expect(pickNext(s, devices, pace, undefined, open, 30_000)).toEqual({
      kind: 'wait',
      until: 61_000,
      scanned: false,
    });
    expect(pickNext(s, devices, pace, undefined, open, 61_000)).toEqual({ kind: 'start', idx: 1 });
  });

  it('passes over devices whose region or group is at its cap', () => {
    const s = newSchedule([0, 1, 2]);
    markStarted(s, devices[0]!, 0, 0);
    const caps = { perRegion: { 'cn-shanghai': 1 } };
    expect(pickNext(s, devices, { concurrency: 5 }, caps, open, 0)).toEqual({ kind: 'start', idx: 2 });
    expect(pickNext(s, devices, { concurrency: 5 }, { perGroup: { a: 1 } }, open, 0)).toEqual({
      kind: 'start',
      idx: 1,
    });
  });

  it('waits for the earliest window or deferral when no queued device may start', () => {
    const s = newSchedule([0, 1]);
    defer(s, 2, 9_000);
    const waits: Record<number, number> = { 0: 5_000, 1: Number.POSITIVE_INFINITY };
    expect(pickNext(s, devices, { concurrency: 5 }, undefined, (i) => waits[i]!, 0)).toEqual({
      kind: 'wait',
      until: 5_000,
      scanned: true,
    });
    // The deferral is due: it joins the end of the queue.
    expect(pickNext(s, devices, { concurrency: 5 }, undefined, (i) => waits[i] ?? 0, 9_000)).toEqual({
      kind: 'start',
      idx: 2,
    });
    const none = newSchedule([1]);
    expect(pickNext(none, devices, { concurrency: 5 }, undefined, (i) => waits[i]!, 0)).toEqual({
      kind: 'wait',
      until: undefined,
      scanned: true,
    });
  });
});

describe('the schedule of waiting devices', () => {
  it('keeps deferrals earliest first, drops an excluded device from both lists, and empties at the deadline', () => {
    const s = newSchedule([0]);
    defer(s, 1, 5_000);
    defer(s, 2, 3_000);
    expect(s.deferred.map((x) => x.idx)).toEqual([2, 1]);
    expect(waiting(s)).toBe(3);
    unschedule(s, 2);
    expect(waiting(s)).toBe(2);
    expect(takeWaiting(s)).toEqual([0, 1]);
    expect(waiting(s)).toBe(0);
  });
});

describe('windowWait', () => {
  const instants: WindowInstant[] = [
    { start: 0, end: 1_500, window: 0 },
    { start: 10_000, end: 20_000, window: 0 },
  ];

  it('lets a device start inside a window with room for its upgrade', () => {
    expect(windowWait({}, instants, 1_000, 100)).toBe(0);
  });

  it('waits for the next window when the open one closes too soon, twice as long for an HA pair', () => {
    expect(windowWait({}, instants, 1_000, 800)).toBe(10_000);
    expect(windowWait({ serialNumbers: ['a', 'b'] }, instants, 1_000, 0)).toBe(10_000);
    expect(windowWait({}, instants, 20_000, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
