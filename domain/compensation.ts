/**
 * Compensation decisions: what a compensating run of `upgrade/<SmartAGId>` does to a device, which
 * devices a wave part compensates, and how a compensation's report reads on the device's status.
 * Pure and replay-safe.
 */
import type { DeviceSnapshot, SerialSnapshot } from './device-types';
import type { DeviceUpgradePolicy, DeviceUpgradeResult, SerialVersions } from './types';
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
