/**
 * Compensation decisions: what a compensating run of `upgrade/<SmartAGId>` does to a device, which
 * devices a wave part compensates, and how a compensation's report reads on the device's status.
 * Pure and replay-safe.
 */
import type { DeviceSnapshot, SerialSnapshot } from './device-types';
import type {
  DeviceStatusOutcome,
  DeviceUndo,
  DeviceUpgradePolicy,
  DeviceUpgradeResult,
  SerialVersions,
} from './types';
import { compareVersions, serialVersion } from './versions';

/**
 * What compensation does to a device: `repair-ha` takes the lagging serial numbers of a split HA
 * pair forward to `target` (the API documents no firmware downgrade); `ha-offline` is a split pair
 * that cannot be repaired while a device is offline; `previous-versions` asks for the version each
 * listed serial number ran before; `nothing` leaves the versions alone.
 */
export type CompensationPlan =
  | { kind: 'repair-ha'; target: string; lagging: SerialSnapshot[] }
  | { kind: 'ha-offline' }
  | { kind: 'previous-versions'; serials: SerialVersions[] }
  | { kind: 'nothing' };

export function compensationPlan(
  snapshot: DeviceSnapshot,
  previous: DeviceUpgradeResult | undefined,
  policy: Pick<
    DeviceUpgradePolicy,
    'targetVersion' | 'versionType' | 'repairHaPairs' | 'requestPreviousVersion'
  >,
): CompensationPlan {
  const type = policy.versionType;
  const target = previous?.serials.find((s) => s.to && s.to !== s.from)?.to ?? policy.targetVersion;
  const onTarget = snapshot.serials.filter(
    (s) => compareVersions(serialVersion(s, type), target, type) === 0,
  );
  const lagging = snapshot.serials.filter((s) => compareVersions(serialVersion(s, type), target, type) < 0);
  if (policy.repairHaPairs && snapshot.serials.length > 1 && onTarget.length > 0 && lagging.length > 0) {
    return snapshot.serials.every((s) => s.hcState === 'online')
      ? { kind: 'repair-ha', target, lagging }
      : { kind: 'ha-offline' };
  }
  if (policy.requestPreviousVersion && previous) {
    const serials = previous.serials.filter((sv) => {
      const now = snapshot.serials.find((s) => s.serialNumber === sv.serialNumber);
      return now !== undefined && !!sv.from && compareVersions(serialVersion(now, type), sv.from, type) !== 0;
    });
    return { kind: 'previous-versions', serials };
  }
  return { kind: 'nothing' };
}

/**
 * Whether a wave part compensates a device after its run: a failed, unconfirmed or interrupted run
 * that sent an upgrade or left a policy pinned; an upgraded one only when the policy asks for the
 * previous version, and not in a compensation-only part.
 */
export function needsCompensation(
  r: DeviceUpgradeResult,
  requestPreviousVersion: boolean,
  compensateOnly: boolean,
): boolean {
  const failedRun = r.outcome === 'failed' || r.outcome === 'unconfirmed' || r.outcome === 'interrupted';
  if (
    failedRun &&
    (r.upgradeCalls > 0 || (!r.policiesRestored && r.pinned.some((p) => p.upgradeType !== 'manual')))
  )
    return true;
  return r.outcome === 'upgraded' && requestPreviousVersion && !compensateOnly;
}

/**
 * What a compensating run did, as the device's status says it (its actions, then each serial
 * number that could not be reversed), and the code it failed with, if it failed: a failure is said
 * once, in front (`compensation-failed:<code>`), so its own `failed:` action is left out.
 */
export function compensationSummary(c: DeviceUpgradeResult): { did: string; failedWith?: string } {
  const rep = c.compensation;
  const notRev =
    rep?.notReversible.map((n) => `not-reversible:${n.serialNumber}:${n.code}:${n.requestId ?? '-'}`) ?? [];
  const did = [...(rep?.actions ?? []).filter((a) => !a.startsWith('failed:')), ...notRev].join(' ');
  const failedWith = rep?.failed?.code ?? (c.outcome === 'failed' ? (c.errorCode ?? 'Unknown') : undefined);
  return { did, failedWith };
}

/** The serial numbers after compensation: the original `from` stays; `to` is where compensation left each. */
export function serialsAfterCompensation(
  serials: SerialVersions[],
  c: DeviceUpgradeResult,
): SerialVersions[] {
  return serials.map((sv) => ({ ...sv, to: versionAfter(c, sv.serialNumber) ?? sv.to }));
}

function versionAfter(r: DeviceUpgradeResult, sn: string): string | undefined {
  const s = r.serials.find((x) => x.serialNumber === sn);
  return s?.to ?? s?.from;
}

/** The result of a failed run as a compensation-only part rebuilds it from the rollout's record. */
export function seededResult(
  smartAgId: string,
  u: DeviceUndo & { serials: SerialVersions[]; outcome: DeviceStatusOutcome },
): DeviceUpgradeResult {
  return {
    smartAgId,
    outcome: u.outcome === 'unconfirmed' ? 'unconfirmed' : 'failed',
    serials: u.serials,
    requestIds: [],
    pinned: u.pinned,
    policiesRestored: u.policiesRestored,
    upgradeCalls: u.upgradeCalls,
    apiCalls: 0,
    startedAt: 0,
    finishedAt: 0,
    ...(u.openSends ? { openSends: u.openSends } : {}),
  };
}
