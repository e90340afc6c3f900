import type {
  ChangeWindow,
  FreezePeriod,
  InventoryDevice,
  RolloutPolicy,
  WindowInstant,
} from '../../domain/types';
import { parseDuration, formatDuration } from '../common/duration';
import { InputError, ProblemList } from '../common/errors';
import { parseInstant } from '../common/instant';
import { cronOccurrences, parseCron } from './cron';
import { isEmptySelector, matchesSelector, type SelectableDevice } from './selector';
import { isKnownTimeZone } from './zone';

const DAY = 86_400_000;

/** Without a deadline, feasibility looks this far ahead for a window. */
export const FEASIBILITY_HORIZON_MS = 400 * DAY;

/**
 * The periods in which a device may start an upgrade, between `fromMs` and `untilMs`: the open
 * periods of the change windows that apply to it, minus the freeze periods that apply to it,
 * sorted, with overlapping or touching periods merged, and clipped to `[fromMs, untilMs]`.
 *
 * - An empty `windows` list means always open (one period, `window: -1`, before freezes).
 * - With a `device`, a window or freeze applies when its `appliesTo` selects the device; a
 *   device that no window selects gets no period at all (it may never start).
 * - Without a `device` (the fleet view), every window counts and only fleet-wide freezes (no
 *   `appliesTo`) are subtracted: the result says when some device could start.
 * - A recurring window opens at each cron firing in its time zone and stays open for its
 *   duration of real elapsed time (so a 2h window across a DST change is still 2 hours long). A
 *   firing at a local time skipped by a spring-forward opens when the gap ends; a local time
 *   repeated by a fall-back fires once, at its first occurrence.
 * - A merged period keeps the `window` index of the period that opened it.
 *
 * Pure: time-zone rules come from the runtime's ICU data, so call it from an activity and keep
 * the result in history.
 *
 * @throws {InputError} when a window or freeze cannot be read (bad cron, zone, duration or instant).
 */
export function windowInstants(
  windows: ChangeWindow[],
  freezes: FreezePeriod[],
  fromMs: number,
  untilMs: number,
  device?: SelectableDevice,
): WindowInstant[] {
  if (!(untilMs > fromMs)) return [];
  const problems = new ProblemList();
  let periods: WindowInstant[] = [];
  if (windows.length === 0) {
    periods.push({ start: fromMs, end: untilMs, window: -1 });
  } else {
    windows.forEach((w, index) => {
      if (device && !matchesSelector(w.appliesTo, device)) return;
      problems.attempt(() => periods.push(...openPeriods(w, index, fromMs, untilMs)));
    });
  }
  const closed: Array<{ start: number; end: number }> = [];
  freezes.forEach((f, index) => {
    if (device ? !matchesSelector(f.appliesTo, device) : !isEmptySelector(f.appliesTo)) return;
    const start = problems.attempt(() => parseInstant(f.start, `freezes[${index}].start`));
    const end = problems.attempt(() => parseInstant(f.end, `freezes[${index}].end`));
    if (start === undefined || end === undefined) return;
    if (end <= start) problems.add(`freezes[${index}].end: must be after start`);
    else closed.push({ start, end });
  });
  problems.throwIfAny();

  periods = merge(
    periods.map((p) => ({ ...p, start: Math.max(p.start, fromMs), end: Math.min(p.end, untilMs) })),
  );
  for (const f of closed) periods = subtract(periods, f.start, f.end);
  return periods;
}

/** The open periods of one window overlapping `[fromMs, untilMs)`, unclipped and merged. */
function openPeriods(w: ChangeWindow, index: number, fromMs: number, untilMs: number): WindowInstant[] {
  const at = `windows[${index}]`;
  if (w.kind === 'once') {
    const problems = new ProblemList();
    const start = problems.attempt(() => parseInstant(w.start, `${at}.start`));
    const end = problems.attempt(() => parseInstant(w.end, `${at}.end`));
    problems.throwIfAny();
    if (start === undefined || end === undefined) return [];
    if (end <= start) throw new InputError([`${at}.end: must be after start`]);
    return end > fromMs && start < untilMs ? [{ start, end, window: index }] : [];
  }
  const problems = new ProblemList();
  const spec = problems.attempt(() => parseCron(w.cron, `${at}.cron`));
  const duration = problems.attempt(() => parseDuration(w.duration, `${at}.duration`));
  if (!isKnownTimeZone(w.timeZone))
    problems.add(
      `${at}.timeZone: unknown time zone ${JSON.stringify(w.timeZone)} (use an IANA name such as Asia/Shanghai)`,
    );
  if (duration === 0) problems.add(`${at}.duration: must be longer than 0`);
  problems.throwIfAny();
  if (!spec || !duration) return [];
  const out: WindowInstant[] = [];
  for (const t of cronOccurrences(spec, w.timeZone, fromMs - duration, untilMs)) {
    const end = t + duration;
    if (end <= fromMs) continue;
    const last = out[out.length - 1];
    if (last && t <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start: t, end, window: index });
  }
  return out;
}

function merge(periods: WindowInstant[]): WindowInstant[] {
  const sorted = periods
    .filter((p) => p.end > p.start)
    .sort((a, b) => a.start - b.start || a.window - b.window);
  const out: WindowInstant[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.start <= last.end) last.end = Math.max(last.end, p.end);
    else out.push({ ...p });
  }
  return out;
}

function subtract(periods: WindowInstant[], start: number, end: number): WindowInstant[] {
  const out: WindowInstant[] = [];
  for (const p of periods) {
    if (end <= p.start || start >= p.end) {
      out.push(p);
      continue;
    }
    if (p.start < start) out.push({ ...p, end: start });
    if (end < p.end) out.push({ ...p, start: end });
  }
  return out;
}

/**
 * The first period, at or after `atMs`, in which a device can start with at least `neededMs`
 * left before it closes. Its `start` is the earliest such moment (never before `atMs`), its
 * `end` the period's close. `undefined` when there is none among `instants`.
 */
export function nextOpening(
  instants: WindowInstant[],
  atMs: number,
  neededMs = 0,
): WindowInstant | undefined {
  for (const p of instants) {
    const start = Math.max(p.start, atMs);
    if (p.end > start && p.end - start >= neededMs) return { start, end: p.end, window: p.window };
  }
  return undefined;
}

/** Whether a period is open at `atMs` with at least `neededMs` left before it closes. */
export function isOpenFor(instants: WindowInstant[], atMs: number, neededMs: number): boolean {
  return instants.some((p) => p.start <= atMs && atMs < p.end && p.end - atMs >= neededMs);
}

/**
 * Checks that the rollout can start at least one device: some change window opens, with
 * `expectedUpgradeTime` to spare, at or after `nowMs` and no later than the deadline (or within
 * {@link FEASIBILITY_HORIZON_MS} without one), and freezes do not cover it.
 *
 * With an `inventory`, every device is checked (devices sharing the same windows and freezes are
 * computed once) and the error names the devices left without a window. Without one, the fleet
 * view of {@link windowInstants} is checked.
 *
 * @returns the earliest instant (ms) at which a device may start.
 * @throws {InputError} when the deadline has passed, no window opens in time, freezes cover
 *   every window, or a window or freeze cannot be read.
 */
export function checkFeasible(policy: RolloutPolicy, nowMs: number, inventory?: InventoryDevice[]): number {
  const problems = new ProblemList();
  const needed =
    problems.attempt(() => parseDuration(policy.expectedUpgradeTime, 'expectedUpgradeTime')) ?? 0;
  let deadline: number | undefined;
  if (policy.deadline !== undefined) {
    deadline = problems.attempt(() => parseInstant(policy.deadline ?? '', 'deadline'));
    if (deadline !== undefined && deadline <= nowMs) {
      problems.add(`deadline: ${policy.deadline} has already passed`);
    }
  }
  problems.throwIfAny();
  const lastStart = deadline ?? nowMs + FEASIBILITY_HORIZON_MS;
  const until = lastStart + needed + 1;
  const byWhen =
    deadline !== undefined
      ? `before the deadline ${policy.deadline}`
      : `in the next ${Math.round(FEASIBILITY_HORIZON_MS / DAY)} days`;
  const enough = `with ${formatDuration(needed)} (expectedUpgradeTime) to spare`;

  const profiles = new Map<string, { device?: SelectableDevice; ids: string[] }>();
  if (inventory && inventory.length > 0) {
    for (const d of inventory) {
      const key = [
        policy.windows.map((w) => (matchesSelector(w.appliesTo, d) ? 1 : 0)).join(''),
        policy.freezes.map((f) => (matchesSelector(f.appliesTo, d) ? 1 : 0)).join(''),
      ].join('|');
      const profile = profiles.get(key);
      if (profile) profile.ids.push(d.smartAgId);
      else profiles.set(key, { device: d, ids: [d.smartAgId] });
    }
  } else {
    profiles.set('fleet', { ids: [] });
  }

  let earliest: number | undefined;
  for (const { device, ids } of profiles.values()) {
    const who = device ? ` for ${describeDevices(ids)}` : '';
    if (
      device &&
      policy.windows.length > 0 &&
      !policy.windows.some((w) => matchesSelector(w.appliesTo, device))
    ) {
      problems.add(`windows: no change window applies${who}; add one whose appliesTo selects them`);
      continue;
    }
    const open = windowInstants(policy.windows, policy.freezes, nowMs, until, device);
    const first = nextOpening(open, nowMs, needed);
    if (first && first.start <= lastStart) {
      earliest = earliest === undefined ? first.start : Math.min(earliest, first.start);
      continue;
    }
    const unfrozen = windowInstants(policy.windows, [], nowMs, until, device);
    const firstUnfrozen = nextOpening(unfrozen, nowMs, needed);
    if (firstUnfrozen && firstUnfrozen.start <= lastStart) {
      problems.add(`freezes: the freeze periods cover every change window${who} ${byWhen} (${enough})`);
    } else {
      problems.add(`windows: no change window opens${who} ${byWhen} ${enough}`);
    }
  }
  problems.throwIfAny('the rollout could never start a device:');
  return earliest ?? nowMs;
}

function describeDevices(ids: string[]): string {
  const shown = ids.slice(0, 5).join(', ');
  const more = ids.length > 5 ? ` and ${ids.length - 5} more` : '';
  return `${ids.length} device${ids.length === 1 ? '' : 's'} (${shown}${more})`;
}
