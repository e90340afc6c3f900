import type { DeviceSnapshot } from './device-types';
import type { RolloutPolicy } from './types';
import { compareVersions, serialVersion } from './versions';

export type PreflightDecision =
  | {
      decision: 'go';
      targetVersion: string;
      /** Serial numbers to upgrade, in order: an HA pair's standby first. */
      order: string[];
    }
  | { decision: 'skip'; code: string; reason: string; targetVersion: string }
  | { decision: 'fail'; code: string; reason: string; targetVersion: string };

const NOT_ACTIVATED = new Set([
  'Ordered',
  'Delivered',
  'Received',
  'Unconfirmed',
  'init',
  'Init',
  'Returning',
]);

/** The target for this instance: per hardware model where the policy says so. */
export function targetFor(
  snapshot: Pick<DeviceSnapshot, 'instanceType'>,
  policy: Pick<RolloutPolicy, 'targetVersion' | 'targetsByModel'>,
): string {
  const byModel = snapshot.instanceType ? policy.targetsByModel?.[snapshot.instanceType] : undefined;
  return byModel ?? policy.targetVersion;
}

/**
 * Decides from a snapshot whether a device is upgraded (go), left alone (skip: already on or past
 * the target) or cannot be (fail, with the code `UpdateSmartAccessGatewayVersion` would return).
 * Pure: the same snapshot always gives the same answer, which keeps it replay-safe.
 */
export function preflight(
  snapshot: DeviceSnapshot,
  policy: Pick<RolloutPolicy, 'targetVersion' | 'targetsByModel' | 'versionType' | 'allowBeta'>,
  nowMs: number,
): PreflightDecision {
  const type = policy.versionType;
  const target = targetFor(snapshot, policy);
  const fail = (code: string, reason: string): PreflightDecision => ({
    decision: 'fail',
    code,
    reason,
    targetVersion: target,
  });

  if (type === 'Device' && snapshot.instanceType === 'sag-software') {
    return {
      decision: 'skip',
      code: 'NoFirmware',
      reason: 'sag-software instances have no device firmware',
      targetVersion: target,
    };
  }
  if (snapshot.serials.length === 0) return fail('InvalidId.SMARTAG', 'the instance has no devices');

  // Already on or past the target: nothing to do, whatever else is wrong with the device.
  const behind = snapshot.serials.filter((s) => compareVersions(serialVersion(s, type), target, type) < 0);
  if (behind.length === 0) {
    const ahead = snapshot.serials.some((s) => compareVersions(serialVersion(s, type), target, type) > 0);
    return {
      decision: 'skip',
      code: ahead ? 'AlreadyNewer' : 'AlreadyOnTarget',
      reason: ahead ? `already past ${target}` : `already on ${target}`,
      targetVersion: target,
    };
  }
  if (NOT_ACTIVATED.has(snapshot.status))
    return fail('SmartAccessGatewayNotActivated', `status ${snapshot.status}`);
  if (
    snapshot.status === 'Arrearage' ||
    (snapshot.endTime !== undefined && snapshot.endTime > 0 && snapshot.endTime < nowMs)
  ) {
    return fail('SmartAccessGatewayInArrears', 'the instance has expired');
  }
  if (!snapshot.associatedCcnId) return fail('NotBoundCCN', 'not bound to a CCN');
  if (type === 'Dpi' && snapshot.dpiStatus !== undefined && snapshot.dpiStatus !== 'On') {
    return {
      decision: 'skip',
      code: 'DpiDisabled',
      reason: 'DPI is off on this instance',
      targetVersion: target,
    };
  }
  const offered = snapshot.versions.find((v) => v.versionCode === target);
  if (!offered) return fail('VersionNotExist', `${target} is not offered for this instance`);
  if (offered.type === 'beta' && !policy.allowBeta)
    return fail('BetaNotAllowed', `${target} is a beta and the policy allows none`);
  if (snapshot.status === 'Offline' || snapshot.serials.some((s) => s.hcState !== 'online')) {
    return fail('SmartAccessGatewayNotOnline', 'a device of the instance is offline');
  }

  // HA: the standby first, the active one last (warm-backup pairs have no standby: keep their order,
  // the other device serves meanwhile). Roles can swap on failover, so serial numbers are tracked.
  const order = [...behind].sort((a, b) => rank(a, snapshot) - rank(b, snapshot)).map((s) => s.serialNumber);
  return { decision: 'go', targetVersion: target, order };
}

function rank(s: DeviceSnapshot['serials'][number], snapshot: DeviceSnapshot): number {
  if (s.haState === 'Standby') return 0;
  if (snapshot.ha?.backupDeviceId === s.serialNumber) return 0;
  if (s.haState === 'Active') return 2;
  return 1;
}
