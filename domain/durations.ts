import type { Duration } from './types';

/** The units of a duration and their length in ms, longest first. */
export const DURATION_UNIT_MS = Object.freeze({ d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 });

/** A duration unit: `d`, `h`, `m`, `s` or `ms`. */
export type DurationUnit = keyof typeof DURATION_UNIT_MS;

/**
 * Milliseconds of a policy duration: a number of ms, a numeric string of ms, or `500ms`, `30s`,
 * `10m`, `2h`, `1d`, `1h30m`. `undefined` for anything else (or a negative number), so a
 * malformed value never becomes a zero delay. Pure; shared by workflows, the policy loader and the SAG failure mapping.
 */
export function parseDurationMs(d: Duration | undefined): number | undefined {
  if (d === undefined) return undefined;
  if (typeof d === 'number') return Number.isFinite(d) && d >= 0 ? d : undefined;
  const text = d.replace(/\s+/g, '').toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * DURATION_UNIT_MS[m[2] as DurationUnit];
    consumed += m[0].length;
  }
  return consumed > 0 && consumed === text.length ? total : undefined;
}
