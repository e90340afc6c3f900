import { wallText } from '../../windows';

/** Pads every column to its widest cell; the first row is the header. */
export function renderTable(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `1m 05s`, `42s`, `2h 03m` for a span of milliseconds. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Local wall-clock time `HH:MM:SS`. */
export function clock(ms: number = Date.now()): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** `1 device`, `2 devices`: a count with its noun, plural as English wants it. */
export function plural(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

/** `2026-11-30 02:00 Asia/Shanghai`: an instant in a named zone (the zone a change window is written in). */
export function dateTimeIn(ms: number, zone: string): string {
  try {
    return `${wallText(zone, ms)} ${zone}`;
  } catch {
    return dateTimeZone(ms);
  }
}

/**
 * An instant as an operator reads it anywhere: local date, time and the zone,
 * `2026-11-29 12:12 +08:00 (Asia/Shanghai)`.
 */
export function dateTimeZone(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())} ${zone}${name ? ` (${name})` : ''}`;
}
