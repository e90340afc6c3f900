import { ApplicationFailure } from '@temporalio/common';
import type { Duration } from './types';

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A policy duration in ms: a number of ms, or `500ms`, `30s`, `10m`, `2h`, `1d`, `1h30m`.
 * The config layer has already validated policy files; this guards inputs sent by other clients.
 * @throws ApplicationFailure `InvalidPolicy` (non-retryable) on a malformed value.
 */
export function durationMs(d: Duration | undefined, fallback: number): number {
  if (d === undefined) return fallback;
  if (typeof d === 'number') return d;
  const text = d.replace(/\s+/g, '');
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (UNIT[m[2]!] ?? 0);
    consumed += m[0].length;
  }
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (consumed === 0 || consumed !== text.length) throw ApplicationFailure.nonRetryable(`bad duration ${d}`, 'InvalidPolicy');
  return total;
}
