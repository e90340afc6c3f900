/**
 * How a device's status follows the runs of its upgrade workflow: the outcome a result gives it,
 * what compensation and a later run need of a failed run, and how a rollout merges what a wave
 * part reports. Pure and replay-safe.
 */
import type {
  DeviceOutcome,
  DeviceStatus,
  DeviceStatusOutcome,
  DeviceUndo,
  DeviceUpgradeResult,
  PriorRecord,
} from './types';
import { mayBeFlashing } from './open-sends';

/** The status outcome of a finished run (deferred and interrupted runs are put back before this). */
export function statusOutcome(o: DeviceOutcome): DeviceStatusOutcome {
  return o === 'upgraded'
    ? 'upgraded'
    : o === 'skipped'
      ? 'skipped'
      : o === 'unconfirmed'
        ? 'unconfirmed'
        : 'failed';
}

/** What compensation needs of a run that failed or ended unconfirmed. */
export function undoOf(r: DeviceUpgradeResult): DeviceUndo {
  return {
    pinned: r.pinned,
    policiesRestored: r.policiesRestored,
    upgradeCalls: r.upgradeCalls,
    ...(r.openSends ? { openSends: r.openSends } : {}),
  };
}

/** What a run left open for the next run of the device: its open calls and unrestored policies. */
export function priorOf(r: Pick<DeviceUndo, 'openSends' | 'policiesRestored' | 'pinned'>): PriorRecord {
  return {
    openSends: r.openSends ?? [],
    ...(r.policiesRestored ? {} : { pinned: r.pinned }),
  };
}

/**
 * How a device interrupted by a credential halt ends when the rollout is aborted before it was
 * inspected again: `unconfirmed` when an upgrade it sent may still be in progress, else `failed`
 * with the credential code; it keeps what compensation needs.
 */
export function interruptedEnd(
  r: DeviceUpgradeResult,
): Pick<DeviceStatus, 'outcome' | 'errorCode' | 'message' | 'undo'> {
  const open = (r.openSends ?? []).some(mayBeFlashing);
  return {
    outcome: open ? 'unconfirmed' : 'failed',
    errorCode: r.errorCode,
    message: `interrupted by ${r.errorCode ?? 'a credential failure'}; the rollout was aborted before it was inspected again`,
    undo: undoOf(r),
  };
}

/** A device not started (yet, or again). */
export function pendingStatus(d: Pick<DeviceStatus, 'smartAgId' | 'regionId' | 'wave'>): DeviceStatus {
  return { smartAgId: d.smartAgId, regionId: d.regionId, wave: d.wave, outcome: 'pending', serials: [] };
}

/** Devices an operator's `retry-failed` may start again. */
export function retryable(d: DeviceStatus): boolean {
  return d.outcome === 'failed' || d.outcome === 'compensated' || d.outcome === 'unconfirmed';
}

/**
 * What a failed run left open, for the device's next run, if anything: an upgrade that may still
 * be in progress is watched, not sent again; policies it could not restore keep their originals.
 */
export function retryPrior(d: DeviceStatus): PriorRecord | undefined {
  if (d.undo?.openSends?.length || (d.undo && !d.undo.policiesRestored)) return priorOf(d.undo);
  return undefined;
}

/**
 * A device as a wave part reports it, merged into the rollout's record: it keeps its wave, and an
 * exclusion that reached the rollout but not the part in time still stands for unstarted devices.
 */
export function mergePartDevice(prev: DeviceStatus | undefined, d: DeviceStatus, wave: number): DeviceStatus {
  return prev?.outcome === 'excluded' && d.outcome === 'pending' ? prev : { ...d, wave: prev?.wave ?? wave };
}

/**
 * A device as a compensation part reports it, merged into the rollout's record: it keeps the wave,
 * error, phase and health analysis of the run that failed, and says what compensation did.
 */
export function mergeCompensated(prev: DeviceStatus, d: DeviceStatus): DeviceStatus {
  return {
    ...d,
    wave: prev.wave,
    errorCode: prev.errorCode,
    message: prev.message,
    phase: prev.phase,
    ...(prev.health ? { health: prev.health } : {}),
    compensation: d.compensation ?? 'nothing-to-undo',
  };
}
