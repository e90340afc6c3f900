/** The time zone a policy's change windows are written in. Pure. */
import type { ChangeWindow } from './types';

/**
 * The time zone the policy's change windows are written in, when they share one: each recurring
 * window's `timeZone`, UTC for a one-off window (its instants are absolute). Screens show a
 * window's next opening and closing as wall time in it, beside UTC.
 */
export function windowZoneOf(windows: readonly ChangeWindow[]): { windowZone?: string } {
  const zones = [...new Set(windows.map((w) => (w.kind === 'recurring' ? w.timeZone : 'UTC')))];
  return zones.length === 1 ? { windowZone: zones[0]! } : {};
}
