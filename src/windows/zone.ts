/**
 * Wall-clock arithmetic in IANA time zones, using only the runtime's ICU data through
 * `Intl.DateTimeFormat`. A "wall" value is the local date and time encoded as if it were UTC
 * milliseconds (`Date.UTC(y, m - 1, d, h, mi, s)`), which makes calendar arithmetic on local
 * times plain integer arithmetic.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the runtime's ICU data knows this IANA time zone. */
export function isKnownTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.trim() === '') return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall time of an instant in a time zone, as wall milliseconds. */
export function wallOf(timeZone: string, instantMs: number): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  const fields: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(whole))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    fields.year ?? 1970,
    (fields.month ?? 1) - 1,
    fields.day ?? 1,
    fields.hour ?? 0,
    fields.minute ?? 0,
    fields.second ?? 0,
  );
  return wall + (instantMs - whole);
}

/** The zone's UTC offset in ms at an instant (positive east of Greenwich). */
export function offsetAt(timeZone: string, instantMs: number): number {
  return wallOf(timeZone, instantMs) - instantMs;
}

/**
 * The instant at which a local wall time occurs.
 *
 * - An ambiguous wall time (the repeated hour when clocks go back) resolves to its first
 *   occurrence.
 * - A wall time that does not exist (skipped when clocks go forward) resolves to the first
 *   instant after the skipped span, i.e. the moment of the transition: a 02:30 start in
 *   Europe/Berlin on the last Sunday of March becomes 03:00 CEST. This is what Vixie cron does
 *   with jobs scheduled in the skipped hour (they run right after the change).
 *
 * @param hintOffsets - offsets known to be in effect around the wall time (optional speed-up).
 */
export function instantOfWall(timeZone: string, wall: number, hintOffsets?: number[]): number {
  const offsets = new Set<number>(hintOffsets ?? []);
  // Offsets in use 18 hours either side cover every offset the wall time could have.
  offsets.add(offsetAt(timeZone, wall - 18 * 3_600_000));
  offsets.add(offsetAt(timeZone, wall + 18 * 3_600_000));
  offsets.add(offsetAt(timeZone, wall));
  const candidates = [...offsets].map((o) => wall - o).sort((a, b) => a - b);
  for (const t of candidates) {
    if (wallOf(timeZone, t) === wall) return t;
  }
  // In a gap: find the first instant whose wall time is at or after the requested one.
  let lo = candidates[0] ?? wall;
  let hi = candidates[candidates.length - 1] ?? wall;
  if (wallOf(timeZone, lo) >= wall) return lo;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallOf(timeZone, mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** `2026-11-30 02:00`: the wall-clock date and minute in `timeZone` at an instant. */
export function wallText(timeZone: string, instantMs: number): string {
  return new Date(wallOf(timeZone, instantMs)).toISOString().slice(0, 16).replace('T', ' ');
}
