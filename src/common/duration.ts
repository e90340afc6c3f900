import { InputError } from './errors';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const UNIT_ORDER: Unit[] = ['d', 'h', 'm', 's', 'ms'];

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
    return Math.round(input);
  }
  if (typeof input !== 'string') return bad(`a ${typeof input} is neither text nor a number`);
  const text = input.trim();
  if (text === '') return bad('empty');
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text));
  if (text.startsWith('-')) return bad('negative');

  let total = 0;
  let pos = 0;
  let lastRank = -1;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return bad(`cannot read "${text.slice(pos)}"`);
    const unit = m[2] as Unit;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= lastRank) return bad(`unit "${unit}" out of order or repeated`);
    lastRank = rank;
    total += Number(m[1]) * UNIT_MS[unit];
    pos = PART.lastIndex;
    while (text[pos] === ' ') pos++;
  }
  return Math.round(total);
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
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
