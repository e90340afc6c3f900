/** Devices counted by outcome, for the progress of a rollout, a wave and a wave part. Pure. */
import type { DeviceStatusOutcome, OutcomeCounts } from './types';

export function emptyCounts(): OutcomeCounts {
  return {
    pending: 0,
    'in-progress': 0,
    upgraded: 0,
    skipped: 0,
    failed: 0,
    excluded: 0,
    compensated: 0,
    unconfirmed: 0,
  };
}

/** How many of `devices` have each outcome. */
export function countOutcomes(devices: Iterable<{ outcome: DeviceStatusOutcome }>): OutcomeCounts {
  const c = emptyCounts();
  for (const d of devices) c[d.outcome]++;
  return c;
}
