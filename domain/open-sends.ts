/**
 * Upgrade calls whose effect was never seen to end, and what a device run derives from them.
 * Pure: read by the device workflow, replay-safe.
 */
import type { DeviceSnapshot } from './device-types';
import type { OpenSend, PinnedPolicy, VersionType } from './types';
import { compareVersions, serialVersion } from './versions';

/** One list from several, each call once (a call is its serial number, version and send time). */
export function mergeOpenSends(...lists: (OpenSend[] | undefined)[]): OpenSend[] {
  const out: OpenSend[] = [];
  for (const list of lists) {
    for (const o of list ?? []) {
      if (!out.some((x) => x.serialNumber === o.serialNumber && x.version === o.version && x.at === o.at))
        out.push(o);
    }
  }
  return out;
}

/** The list without the calls to `serialNumber`: the serial number was verified on its target. */
export function closeSends(open: OpenSend[], serialNumber: string): OpenSend[] {
  return open.filter((o) => o.serialNumber !== serialNumber);
}

/**
 * The list without the calls of another target whose serial number now reports the version they
 * asked for (an upgrade: that version or a newer one): they ended, whether or not a run saw it. Calls
 * of the current `target` stay: the run verifies them.
 */
export function closeReached(
  open: OpenSend[],
  snapshot: DeviceSnapshot,
  type: VersionType,
  target: string,
): OpenSend[] {
  return open.filter((o) => {
    if (o.versionType !== type || o.version === target) return true;
    const s = snapshot.serials.find((x) => x.serialNumber === o.serialNumber);
    const now = serialVersion(s, type);
    if (!now) return true;
    const cmp = compareVersions(now, o.version, type);
    const upgrade = o.fromVersion !== undefined && compareVersions(o.version, o.fromVersion, type) > 0;
    const downgrade = o.fromVersion !== undefined && compareVersions(o.version, o.fromVersion, type) < 0;
    const reached = cmp === 0 || (upgrade && cmp > 0) || (downgrade && cmp < 0);
    return !reached;
  });
}

/** The list with the calls to `serialNumber` marked as ended by a revert. */
export function markReverted(open: OpenSend[], serialNumber: string): OpenSend[] {
  return open.map((o) => (o.serialNumber === serialNumber ? { ...o, reverted: true } : o));
}

/**
 * The records that stand in the way of sending to `serialNumber` for `rolloutId`: every call
 * whose effect was never seen to end, and (unless an operator asked for a new attempt) the calls
 * of this same rollout that reverted.
 */
export function blockingSends(
  open: OpenSend[],
  serialNumber: string,
  rolloutId: string,
  operatorRetry = false,
): OpenSend[] {
  return open.filter(
    (o) =>
      o.serialNumber === serialNumber &&
      !o.verified &&
      (!o.reverted || (o.rolloutId === rolloutId && !operatorRetry)),
  );
}

/** Whether the call may still be flashing its device: neither seen to revert nor seen on its target. */
export function mayBeFlashing(o: OpenSend): boolean {
  return !o.reverted && !o.verified;
}

/** Whether an upgrade may still be in progress on `serialNumber`. */
export function inProgress(open: OpenSend[], serialNumber: string): boolean {
  return open.some((o) => o.serialNumber === serialNumber && mayBeFlashing(o));
}

/**
 * The snapshot as preflight should judge it: a serial number that is offline while an upgrade
 * call to it is open is presumed to be flashing, not to be an offline device to defer.
 */
export function presumeFlashing(snapshot: DeviceSnapshot, open: OpenSend[]): DeviceSnapshot {
  if (!open.some(mayBeFlashing)) return snapshot;
  return {
    ...snapshot,
    status: snapshot.status === 'Offline' ? 'Active' : snapshot.status,
    serials: snapshot.serials.map((s) =>
      s.hcState !== 'online' && inProgress(open, s.serialNumber) ? { ...s, hcState: 'online' } : s,
    ),
  };
}

/**
 * The policies to pin and later restore: as the snapshot found them, except where an earlier run
 * pinned them and could not put them back; there its record of the originals stands.
 */
export function restorablePolicies(
  found: PinnedPolicy[],
  earlier: PinnedPolicy[] | undefined,
): PinnedPolicy[] {
  if (!earlier || earlier.length === 0) return found;
  return found.map(
    (p) =>
      earlier.find(
        (e) =>
          e.serialNumber === p.serialNumber && e.versionType === p.versionType && e.upgradeType !== 'manual',
      ) ?? p,
  );
}

/**
 * What earlier calls mean for sending `target` to `serialNumber` now: `none` (send), `reverted`
 * (this rollout's call of the target reverted: never sent again), `other-version` (a call of
 * another version may still be in progress: nothing is sent), or `same-version` (a call of the
 * target may still be in progress: watched from the latest one, `accepted` when Alibaba accepted
 * one of them).
 */
export type EarlierSends =
  | { kind: 'none' }
  | { kind: 'reverted' }
  | { kind: 'other-version'; versions: string[] }
  | { kind: 'same-version'; since: number; accepted: boolean };

export function earlierSends(
  open: OpenSend[],
  serialNumber: string,
  target: string,
  rolloutId: string,
  operatorRetry?: boolean,
): EarlierSends {
  const earlier = blockingSends(open, serialNumber, rolloutId, operatorRetry);
  if (earlier.some((o) => o.reverted && o.version === target)) return { kind: 'reverted' };
  const pending = earlier.filter((o) => !o.reverted);
  if (pending.length === 0) return { kind: 'none' };
  const same = pending.filter((o) => o.version === target);
  if (same.length < pending.length) return { kind: 'other-version', versions: pending.map((o) => o.version) };
  return {
    kind: 'same-version',
    since: Math.max(...same.map((o) => o.at)),
    accepted: same.some((o) => o.accepted),
  };
}
