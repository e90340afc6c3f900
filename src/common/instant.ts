import { InputError } from './errors';

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses an ISO 8601 instant (`2025-12-20T00:00:00+08:00`, `2025-12-20T16:00Z`) into ms since
 * the epoch.
 *
 * The offset (`Z` or `±hh:mm`) is required: a time without one would be read in the time zone of
 * whichever machine parses it, so the same file could freeze a different hour on each worker.
 * Calendar fields are checked (no 30 February).
 *
 * @throws {InputError} naming `field` when the text is not such an instant.
 */
export function parseInstant(text: string, field: string): number {
  const bad = (why: string): never => {
    throw new InputError([`${field}: ${JSON.stringify(text)} ${why}`]);
  };
  if (typeof text !== 'string') return bad('is not text');
  const m = ISO.exec(text.trim());
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text.trim())) {
      return bad('has no time zone offset (write it as 2025-12-20T00:00:00+08:00 or with Z for UTC)');
    }
    return bad('is not an ISO 8601 instant (like 2025-12-20T00:00:00+08:00)');
  }
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return bad('is not a real date and time');
  }
  let offsetMin = 0;
  const zone = m[8] ?? 'Z';
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const oh = Number(digits.slice(1, 3));
    const om = Number(digits.slice(3, 5));
    if (oh > 14 || om > 59) return bad('has an impossible offset');
    offsetMin = (oh * 60 + om) * (digits.startsWith('-') ? -1 : 1);
  }
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC maps years 0-99 to 1900-1999; such instants are never meant here.
  if (year < 1970) return bad('is before 1970');
  return wall - offsetMin * 60_000;
}
