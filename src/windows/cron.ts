import { InputError } from '../common/errors';
import { instantOfWall, offsetAt, wallOf } from './zone';

/**
 * A parsed cron expression.
 *
 * Two forms are read:
 * - 5 fields, Vixie cron: `minute hour day-of-month month day-of-week`, day-of-week `0-7`
 *   (0 and 7 are Sunday) or names;
 * - 6 fields, Alibaba's Quartz form: `second minute hour day-of-month month day-of-week`
 *   (`0 0 4 1/1 * ?`). Day-of-week must be written with names (`MON-FRI`) or `*`/`?`: Quartz
 *   numbers Sunday 1 where Vixie cron numbers it 0, and a window that silently moves by a day
 *   is worse than an error.
 *
 * Each field takes `*`, `?` (day fields only), values, names (`JAN`, `MON`), ranges `a-b`,
 * lists `a,b`, and steps `*\/n`, `a-b/n`, `a/n` (from `a` to the field's maximum). `L`, `W`
 * and `#` are not supported. When both day fields are restricted (neither starts with `*` nor is
 * `?`), a day matches if either matches; otherwise both must match, as in Vixie cron (so
 * `*\/2` in one day field still combines with the other by AND).
 */
export interface CronSpec {
  /** The expression as given. */
  source: string;
  seconds: number[];
  minutes: number[];
  hours: number[];
  /** Index 1-31. */
  daysOfMonth: boolean[];
  /** Index 1-12. */
  months: boolean[];
  /** Index 0-6, Sunday 0. */
  daysOfWeek: boolean[];
  domStar: boolean;
  dowStar: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value of the first name (months start at 1, days at 0). */
  nameBase?: number;
  question?: boolean;
}

const SECOND: FieldDef = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldDef = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldDef = { name: 'hour', min: 0, max: 23 };
const DOM: FieldDef = { name: 'day-of-month', min: 1, max: 31, question: true };
const MONTH: FieldDef = { name: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 };
const DOW: FieldDef = { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0, question: true };

function parseValue(text: string, def: FieldDef): number {
  const upper = text.toUpperCase();
  if (def.names) {
    const i = def.names.indexOf(upper);
    if (i >= 0) return i + (def.nameBase ?? 0);
  }
  if (!/^\d+$/.test(text)) {
    const unsupported = /[LW#]/i.test(text) ? ' (L, W and # are not supported)' : '';
    throw new Error(`"${text}" is not a ${def.name} value${unsupported}`);
  }
  const n = Number(text);
  if (n < def.min || n > def.max) throw new Error(`${def.name} ${n} is outside ${def.min}-${def.max}`);
  return n;
}

function parseField(text: string, def: FieldDef): { values: Set<number>; star: boolean } {
  if (text === '') throw new Error(`empty ${def.name} field`);
  if (text === '?') {
    if (!def.question) throw new Error(`"?" is allowed only in the day-of-month and day-of-week fields`);
    return { values: new Set(range(def.min, def.max, 1)), star: true };
  }
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [base = '', stepText, extra] = item.split('/');
    if (extra !== undefined) throw new Error(`${def.name} "${item}" has two steps`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
        throw new Error(`${def.name} "${item}": step must be a positive number`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (base === '*') {
      lo = def.min;
      hi = def.max;
    } else if (base.includes('-')) {
      const [a = '', b = '', more] = base.split('-');
      if (more !== undefined) throw new Error(`${def.name} "${item}" is not a range`);
      lo = parseValue(a, def);
      hi = parseValue(b, def);
      if (lo > hi) throw new Error(`${def.name} range "${base}" runs backwards (write it as a list)`);
    } else {
      lo = parseValue(base, def);
      hi = stepText !== undefined ? def.max : lo;
    }
    for (const v of range(lo, hi, step)) values.add(v);
  }
  return { values, star: text.startsWith('*') };
}

function range(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

function flags(values: Set<number>, size: number): boolean[] {
  const out = new Array<boolean>(size).fill(false);
  for (const v of values) out[v] = true;
  return out;
}

/**
 * Parses a 5-field or 6-field cron expression (see {@link CronSpec}).
 * @throws {InputError} naming `field` and what is wrong with the expression.
 */
export function parseCron(expr: string, field = 'cron'): CronSpec {
  try {
    if (typeof expr !== 'string') throw new Error('is not text');
    const parts = expr.trim().split(/\s+/);
    if (parts.length !== 5 && parts.length !== 6) {
      throw new Error(
        `has ${parts.length} fields; expected 5 (minute hour day month weekday) or 6 (Quartz: second first)`,
      );
    }
    const quartz = parts.length === 6;
    const [sec, min, hour, dom, month, dow] = (quartz ? parts : ['0', ...parts]) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (quartz && /\d/.test(dow)) {
      throw new Error(
        `day-of-week "${dow}": in the 6-field form write days as names (MON-FRI), since Quartz and Vixie cron number them differently`,
      );
    }
    const dowField = parseField(dow, DOW);
    if (dowField.values.delete(7)) dowField.values.add(0);
    const domField = parseField(dom, DOM);
    return {
      source: expr,
      seconds: [...parseField(sec, SECOND).values].sort((a, b) => a - b),
      minutes: [...parseField(min, MINUTE).values].sort((a, b) => a - b),
      hours: [...parseField(hour, HOUR).values].sort((a, b) => a - b),
      daysOfMonth: flags(domField.values, 32),
      months: flags(parseField(month, MONTH).values, 13),
      daysOfWeek: flags(dowField.values, 7),
      domStar: domField.star,
      dowStar: dowField.star,
    };
  } catch (err) {
    if (err instanceof InputError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new InputError([`${field}: ${JSON.stringify(expr)} is not a valid cron expression: ${why}`]);
  }
}

/** Whether the cron's day fields select a local calendar date (wall ms at midnight). */
export function cronMatchesDay(spec: CronSpec, dayWall: number): boolean {
  const d = new Date(dayWall);
  if (!spec.months[d.getUTCMonth() + 1]) return false;
  const dom = spec.daysOfMonth[d.getUTCDate()] === true;
  const dow = spec.daysOfWeek[d.getUTCDay()] === true;
  // Vixie cron: OR when both day fields are restricted, AND otherwise (a `*` field matches all).
  return !spec.domStar && !spec.dowStar ? dom || dow : dom && dow;
}

const DAY = 86_400_000;
const HOUR_MS = 3_600_000;

/** At most this many firings are produced by one call: a guard against a runaway expression. */
export const MAX_OCCURRENCES = 5_000_000;

/**
 * The instants (ms since the epoch, ascending, no repeats) at which a cron fires in a time zone,
 * from `fromMs` (inclusive) to `untilMs` (exclusive). Local times are resolved with
 * {@link instantOfWall}: a skipped local time fires at the end of the gap, a repeated one fires
 * once, at its first occurrence.
 *
 * @throws {InputError} if the expression fires more than {@link MAX_OCCURRENCES} times in the range.
 */
export function* cronOccurrences(
  spec: CronSpec,
  timeZone: string,
  fromMs: number,
  untilMs: number,
): Generator<number> {
  if (!(untilMs > fromMs)) return;
  const firstDay = Math.floor(wallOf(timeZone, fromMs) / DAY) * DAY - DAY;
  const lastDay = Math.floor(wallOf(timeZone, untilMs) / DAY) * DAY + DAY;
  let last = Number.NEGATIVE_INFINITY;
  let count = 0;
  for (let day = firstDay; day <= lastDay; day += DAY) {
    if (!cronMatchesDay(spec, day)) continue;
    // Offsets are constant over the local day unless a transition falls inside it.
    const before = offsetAt(timeZone, day - 14 * HOUR_MS);
    const middle = offsetAt(timeZone, day + 12 * HOUR_MS);
    const after = offsetAt(timeZone, day + 36 * HOUR_MS);
    const constant = before === middle && middle === after;
    for (const h of spec.hours) {
      for (const mi of spec.minutes) {
        for (const s of spec.seconds) {
          const wall = day + h * HOUR_MS + mi * 60_000 + s * 1000;
          const t = constant ? wall - before : instantOfWall(timeZone, wall, [before, middle, after]);
          if (t < fromMs || t <= last) continue;
          if (t >= untilMs) return;
          last = t;
          if (++count > MAX_OCCURRENCES) {
            throw new InputError([
              `cron ${JSON.stringify(spec.source)} fires more than ${MAX_OCCURRENCES} times in the range; use a coarser expression`,
            ]);
          }
          yield t;
        }
      }
    }
  }
}
