/**
 * The policy settings the night-window benchmark adds to today's design: the `apiBudget` levers
 * that cut API calls per device and pace the rollout by the account's budget, and overlapping
 * wave parts.
 */
import type { RolloutPolicy } from '../../domain/types';
import { DOWNLOAD_SECONDS, FLASH_SECONDS } from './night-fleet';

/** Expected calls of one device under the levers, for the pacing (measured at 1,000 devices). */
export const LEVER_CALLS_PER_DEVICE = 8;

/**
 * The levers at the time scale: the first poll when the quickest device (jitter -20%) can be
 * back, list pages for status, versions shared, starts paced by the budget (real requests/s);
 * a wave's parts overlap unless `sequentialParts`.
 */
export function nightLevers(opts: {
  scale: number;
  budget: number;
  sequentialParts?: boolean;
}): Pick<RolloutPolicy, 'apiBudget' | 'overlapParts'> {
  const quickestMs = 0.8 * (DOWNLOAD_SECONDS + FLASH_SECONDS) * 1000;
  return {
    ...(opts.sequentialParts ? {} : { overlapParts: true }),
    apiBudget: {
      requestsPerSecond: opts.budget * opts.scale,
      callsPerDevice: LEVER_CALLS_PER_DEVICE,
      firstPollAfter: Math.round(quickestMs / opts.scale),
      bulkStatus: true,
      shareVersions: true,
    },
  };
}
