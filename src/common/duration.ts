import { DURATION_UNIT_MS, parseDurationMs, type DurationUnit } from '../../domain/durations';
import { InputError } from './errors';

const UNIT_ORDER = Object.keys(DURATION_UNIT_MS) as DurationUnit[];

const PART = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)/y;
const HINT = 'use forms like 30s, 10m, 2h, 1d, 1h30m, 500ms, or a number of milliseconds';

/**
 * Parses a duration into milliseconds.
 *
 * Accepts a number of milliseconds (`1500`, `"1500"`), or one or more `<number><unit>` parts in
 * descending unit order with units `d`, `h`, `m`, `s`, `ms` (`30s`, `10m`, `2h`, `1d`, `1h30m`,
 * `1.5h`, `500ms`). Units are lowercase (`M` could be read as months). The result is rounded to
 * a whole millisecond and is never negative.
 *
 * This is the strict reader for operator input: it refuses what the lenient `parseDurationMs` of
 * `domain/durations.ts` would also read (`10M`, `30m1h`), each with its reason, and leaves the
 * arithmetic to it.
 *
 * @param input - the duration as written in a file or a flag.
 * @param field - the field or flag it came from, named in the error.
 * @throws {InputError} when the value is not a duration.
 */
export function parseDuration(input: string | number, field?: string): number {
  const where = field ? `${field}: ` : '';
  const bad = (why: string): never => {
    throw new InputError([`${where}${JSON.stringify(input)} is not a duration (${why}; ${HINT})`]);
  };
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return bad('not a finite number');
    if (input < 0) return bad('negative');
  } else if (typeof input !== 'string') {
    return bad(`a ${typeof input} is neither text nor a number`);
  } else {
    const why = whyNotDuration(input.trim());
    if (why !== undefined) return bad(why);
  }
  return Math.round(parseDurationMs(input) ?? bad('cannot read it'));
}

/** Why trimmed text is not a strict duration, or `undefined` when it is one. */
function whyNotDuration(text: string): string | undefined {
  if (text === '') return 'empty';
  if (/^\d+(\.\d+)?$/.test(text)) return undefined;
  if (text.startsWith('-')) return 'negative';
  let pos = 0;
  let lastRank = -1;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return `cannot read "${text.slice(pos)}"`;
    const unit = m[2] as DurationUnit;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= lastRank) return `unit "${unit}" out of order or repeated`;
    lastRank = rank;
    pos = PART.lastIndex;
    while (text[pos] === ' ') pos++;
  }
  return undefined;
}

/**
 * Formats milliseconds as the shortest exact duration text (`1h30m`, `500ms`, `0s`), which
 * `parseDuration` reads back to the same number.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  for (const unit of UNIT_ORDER) {
    const size = DURATION_UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
