/**
 * The schedule of a wave part: which of its devices start when, under the pace (concurrency and a
 * per-minute cap), per-region and per-group caps and the change windows. Devices are positions in
 * the part's device list. The schedule is a plain record, changed only by these functions, which
 * read no clock: the part passes `now`. Replay-safe.
 */
import type { InventoryDevice, WindowInstant } from './types';

export interface Schedule {
  /** Devices waiting to start, in order. */
  queue: number[];
  /** Offline devices put back until an instant, earliest first. */
  deferred: { idx: number; notBefore: number }[];
  /** When devices started within the last minute (the per-minute cap). */
  recentStarts: number[];
  inFlight: number;
  started: number;
  regionInFlight: Record<string, number>;
  groupInFlight: Record<string, number>;
}

export interface Pace {
  concurrency: number;
  maxPerMinute?: number;
}

export interface Caps {
  perRegion?: Record<string, number>;
  perGroup?: Record<string, number>;
}

type Placed = Pick<InventoryDevice, 'regionId' | 'group'>;

/**
 * What may start next: `start` a device now, or `wait` until `until` (a window opens, a deferral is
 * due, the per-minute cap frees up; absent: nothing starts without a change). `scanned` says every
 * waiting device was considered, so `until` is when the earliest of them may start.
 */
export type NextStart = { kind: 'start'; idx: number } | { kind: 'wait'; until?: number; scanned: boolean };

export function newSchedule(queue: number[]): Schedule {
  return {
    queue,
    deferred: [],
    recentStarts: [],
    inFlight: 0,
    started: 0,
    regionInFlight: {},
    groupInFlight: {},
  };
}

/** Devices that wait to start, now or after a deferral. */
export function waiting(s: Schedule): number {
  return s.queue.length + s.deferred.length;
}

/** Device `idx` leaves the queue (it starts, or it ends without starting). */
export function dequeue(s: Schedule, idx: number): void {
  const i = s.queue.indexOf(idx);
  if (i >= 0) s.queue.splice(i, 1);
}

/** Device `idx` leaves the queue and the deferrals: it is excluded. */
export function unschedule(s: Schedule, idx: number): void {
  dequeue(s, idx);
  const di = s.deferred.findIndex((x) => x.idx === idx);
  if (di >= 0) s.deferred.splice(di, 1);
}

/** Device `idx` goes back to the front of the queue (its run was interrupted). */
export function requeueFirst(s: Schedule, idx: number): void {
  s.queue.unshift(idx);
}

/** Device `idx` waits until `notBefore` (it was offline). */
export function defer(s: Schedule, idx: number, notBefore: number): void {
  s.deferred.push({ idx, notBefore });
  s.deferred.sort((a, b) => a.notBefore - b.notBefore);
}

/** Every waiting device, queued then deferred, taken out of the schedule (the deadline passed). */
export function takeWaiting(s: Schedule): number[] {
  const all = [...s.queue, ...s.deferred.map((x) => x.idx)];
  s.queue.length = 0;
  s.deferred.length = 0;
  return all;
}

export function markStarted(s: Schedule, d: Placed, idx: number, now: number): void {
  dequeue(s, idx);
  s.inFlight++;
  s.started++;
  s.recentStarts.push(now);
  s.regionInFlight[d.regionId] = (s.regionInFlight[d.regionId] ?? 0) + 1;
  if (d.group) s.groupInFlight[d.group] = (s.groupInFlight[d.group] ?? 0) + 1;
}

export function markFinished(s: Schedule, d: Placed): void {
  s.inFlight--;
  s.regionInFlight[d.regionId] = (s.regionInFlight[d.regionId] ?? 1) - 1;
  if (d.group) s.groupInFlight[d.group] = (s.groupInFlight[d.group] ?? 1) - 1;
}

/**
 * 0 when a device may start now, else the instant one of its window `instants` next opens with room
 * for the upgrade (twice the expected time for an HA pair); infinity when none does.
 */
export function windowWait(
  d: Pick<InventoryDevice, 'serialNumbers'>,
  instants: WindowInstant[],
  expectedUpgradeMs: number,
  now: number,
): number {
  const needed = expectedUpgradeMs * ((d.serialNumbers?.length ?? 1) > 1 ? 2 : 1);
  for (const w of instants) {
    if (w.end - Math.max(now, w.start) < needed) continue;
    return w.start <= now ? 0 : w.start;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * Picks the next device to start at `now`: deferrals that are due join the queue, then the first
 * queued device within the pace and the caps whose window is open (`waitOf`: 0 when it may start
 * now, else when it may) starts.
 */
export function pickNext(
  s: Schedule,
  devices: Placed[],
  pace: Pace,
  caps: Caps | undefined,
  waitOf: (idx: number) => number,
  now: number,
): NextStart {
  while (s.deferred.length > 0 && s.deferred[0]!.notBefore <= now) s.queue.push(s.deferred.shift()!.idx);
  if (s.inFlight >= pace.concurrency) return { kind: 'wait', scanned: false };
  while (s.recentStarts.length > 0 && s.recentStarts[0]! <= now - 60_000) s.recentStarts.shift();
  if (pace.maxPerMinute && s.recentStarts.length >= pace.maxPerMinute)
    return { kind: 'wait', until: s.recentStarts[0]! + 60_000, scanned: false };
  let earliest = s.deferred[0]?.notBefore ?? Number.POSITIVE_INFINITY;
  for (const idx of s.queue) {
    const d = devices[idx]!;
    const regionCap = caps?.perRegion?.[d.regionId];
    if (regionCap !== undefined && (s.regionInFlight[d.regionId] ?? 0) >= regionCap) continue;
    const groupCap = d.group ? caps?.perGroup?.[d.group] : undefined;
    if (groupCap !== undefined && (s.groupInFlight[d.group!] ?? 0) >= groupCap) continue;
    const wait = waitOf(idx);
    if (wait === 0) return { kind: 'start', idx };
    earliest = Math.min(earliest, wait);
  }
  return { kind: 'wait', until: Number.isFinite(earliest) ? earliest : undefined, scanned: true };
}
