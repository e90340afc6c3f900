/**
 * The lines `plan` and `start`'s confirmation share: the next change window, the pace and the
 * estimated duration, written the same way wherever an operator reads them.
 */
import type { RolloutPolicy } from '../../../domain/types';
import type { PlanEstimate } from '../../operator/plan-estimate';
import type { PlanWindow } from '../../operator/plan-window';
import { formatSpan } from './table';

/** The next window in its own time zone, and in UTC. */
export function windowText(w: PlanWindow): string {
  if (w.state === 'always') return 'no change window restricts the start (always open)';
  if (w.state === 'none') return 'no change window opens within the horizon or before the deadline';
  const utc = (iso: string | undefined) => `${(iso ?? '').slice(0, 16).replace('T', ' ')} UTC`;
  const name = w.window ? ` (${w.window})` : '';
  const span = w.timeZone
    ? `${w.localStart} to ${w.localEnd} ${w.timeZone} (${utc(w.start)} to ${utc(w.end)})`
    : `${utc(w.start)} to ${utc(w.end)}`;
  return `${w.state === 'open' ? 'open now' : 'next opens'}${name}: ${span}`;
}

/** `4 in flight, 30/min; expected upgrade time 10m 00s; bake 30m 00s; approval none`. */
export function paceText(
  p: Pick<RolloutPolicy, 'concurrency' | 'maxPerMinute' | 'bake' | 'approval'>,
  expectedUpgradeMs: number,
): string {
  const bake = typeof p.bake === 'number' ? formatSpan(p.bake) : p.bake;
  return [
    `${p.concurrency} in flight${p.maxPerMinute ? `, ${p.maxPerMinute}/min` : ''}`,
    `expected upgrade time ${formatSpan(expectedUpgradeMs)}`,
    `bake ${bake}`,
    `approval ${p.approval}`,
  ].join('; ');
}

/**
 * `1h 40m (3 waves, bakes 1h 00m; not counting time waiting for a change window)`; `assuming`
 * names what the per-wave counts took for granted.
 */
export function estimateText(e: PlanEstimate, waves: number, assuming?: string): string {
  const detail = [
    `${waves} ${waves === 1 ? 'wave' : 'waves'}${e.bakesMs > 0 ? `, bakes ${formatSpan(e.bakesMs)}` : ''}`,
    ...(assuming ? [assuming] : []),
    `not counting ${e.excludes.join(', ')}`,
  ];
  return `${formatSpan(e.totalMs)} (${detail.join('; ')})`;
}
