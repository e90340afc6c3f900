import type { FollowUpResult } from '../follow-up';

/** The text line `retry-failed` prints for a follow-up. */
export function renderFollowUp(r: FollowUpResult): string {
  const by: Record<string, number> = {};
  for (const d of r.devices) by[d.outcome] = (by[d.outcome] ?? 0) + 1;
  const counts = Object.entries(by)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const waves = r.followUp.waves.map((w) => `${w.name} (${w.size})`).join(', ');
  return `retry-failed: started follow-up rollout ${r.followUp.rolloutId} of ${r.rolloutId}: ${r.followUp.devices} devices (${counts}) in ${waves}`;
}
