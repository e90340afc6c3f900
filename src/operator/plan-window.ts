/** When a planned rollout could start its first device: the next change window, in its own zone and in UTC. */

import { parseDurationMs } from '../../domain/durations';
import type { RolloutPolicy } from '../../domain/types';
import { FEASIBILITY_HORIZON_MS, nextOpening, wallText, windowInstants } from '../windows';

/** The next opening as `plan` shows it (instants as ISO 8601 UTC). */
export interface PlanWindow {
  /** `always`: no change window restricts the start; `open`: one is open now; `next`: one opens later; `none`: none opens within the horizon. */
  state: 'always' | 'open' | 'next' | 'none';
  start?: string;
  end?: string;
  /** The window's name, or `windows[i]`. */
  window?: string;
  /** The window's own time zone (recurring windows), and start and end as wall time there. */
  timeZone?: string;
  localStart?: string;
  localEnd?: string;
}

/**
 * The period in which the first device could start with `expectedUpgradeTime` to spare, at or
 * after `nowMs`: the fleet view of the windows minus fleet-wide freezes (see `windowInstants`).
 * @throws InputError when a window or freeze cannot be read (the policy check reports it first).
 */
export function nextPlanWindow(
  policy: Pick<RolloutPolicy, 'windows' | 'freezes' | 'expectedUpgradeTime' | 'deadline'>,
  nowMs: number,
): PlanWindow {
  if (policy.windows.length === 0 && policy.freezes.length === 0) return { state: 'always' };
  const deadline = policy.deadline ? Date.parse(policy.deadline) : NaN;
  const until = Number.isFinite(deadline) ? deadline : nowMs + FEASIBILITY_HORIZON_MS;
  const instants = windowInstants(policy.windows, policy.freezes, nowMs, until);
  const opening = nextOpening(instants, nowMs, parseDurationMs(policy.expectedUpgradeTime) ?? 0);
  if (!opening) return { state: 'none' };
  const w = opening.window >= 0 ? policy.windows[opening.window] : undefined;
  const timeZone = w?.kind === 'recurring' ? w.timeZone : undefined;
  return {
    state: opening.start <= nowMs ? 'open' : 'next',
    start: new Date(opening.start).toISOString(),
    end: new Date(opening.end).toISOString(),
    ...(w ? { window: w.name ?? `windows[${opening.window}]` } : {}),
    ...(timeZone
      ? { timeZone, localStart: wallText(timeZone, opening.start), localEnd: wallText(timeZone, opening.end) }
      : {}),
  };
}
