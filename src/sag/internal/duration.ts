/**
 * Milliseconds of a policy `Duration` (`500ms`, `30s`, `10m`, `2h`, `1d`, a bare number of
 * milliseconds, or a numeric string of milliseconds). Returns `undefined` for anything else, so
 * a malformed override never turns into a zero delay.
 */
export function durationMs(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = (match[2] ?? 'ms').toLowerCase();
  const factor: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return amount * (factor[unit] ?? 1);
}
