import { CronExpressionParser } from 'cron-parser';

/**
 * Orders firmware versions (`2.3.1.1`) and DPI signature versions (`20201117_1_0-0.0.1`) alike:
 * both are sequences of numbers with separators, compared number by number.
 */
export function compareVersions(a: string, b: string): number {
  const pa = numericParts(a);
  const pb = numericParts(b);
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function numericParts(v: string): number[] {
  return v
    .split(/[^0-9]+/)
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
}

/**
 * Translates a Quartz cron expression (seconds first, `?`, day of week 1 = Sunday, optional
 * year) into the form cron-parser reads (day of week 0 = Sunday).
 */
export function quartzToCron(expr: string): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length < 6 || fields.length > 7)
    throw new Error(`a Quartz cron expression has 6 or 7 fields: "${expr}"`);
  const dow = fields[5] ?? '*';
  fields[5] = dow.replace(/\d+/g, (n) => {
    const v = Number(n);
    if (v < 1 || v > 7) throw new Error(`day of week ${n} is outside 1-7 in "${expr}"`);
    return String(v - 1);
  });
  return fields.slice(0, 6).join(' ');
}

/** The first instant (ms) strictly after `afterMs` at which the Quartz expression fires in `timeZone`. */
export function nextCronFire(expr: string, timeZone: string, afterMs: number): number {
  const it = CronExpressionParser.parse(quartzToCron(expr), { currentDate: new Date(afterMs), tz: timeZone });
  return it.next().getTime();
}

/** Throws with a readable message when the Quartz expression cannot be parsed. */
export function validateCron(expr: string, timeZone: string): void {
  nextCronFire(expr, timeZone, Date.now());
}

/** `YYYY-MM-DD hh:mm:ss` in UTC+8, the form `DescribeSAGDeviceInfo` reports times in. */
export function formatDeviceTime(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** Parses `YYYY-MM-DD hh:mm:ss` (UTC+8) back to ms. */
export function parseDeviceTime(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s);
  if (!m) throw new Error(`expected "YYYY-MM-DD hh:mm:ss", got "${s}"`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) - 8 * 3600_000;
}
