/** What `plan` throws when it cannot predict the rollout: each names the problem and the way out. */

import type { InventoryDevice, VersionType } from '../../domain/types';

/** A version the inspected devices are offered, and how many of them are offered it. */
export interface OfferedVersion {
  versionCode: string;
  type: string;
  devices: number;
}

/**
 * The plan stopped at a credential or permission error (the error table's rollout class): every
 * further device would fail the same way, and the rollout would halt on it.
 */
export class PlanStoppedError extends Error {
  override readonly name = 'PlanStoppedError';
  constructor(
    readonly device: Pick<InventoryDevice, 'smartAgId' | 'regionId'>,
    readonly code: string,
    readonly detail: string,
    /** Devices inspected before it. */
    readonly inspected: number,
  ) {
    super(
      `plan stopped at ${code} on ${device.smartAgId} (${device.regionId}): the credentials or their RAM permissions are refused, so every device would fail the same way and the rollout would halt; fix them and plan again (sag-rollout iam-policy prints the policy a worker needs)`,
    );
  }
}

/** No inspected device is offered the target (nor already on or past it). */
export class TargetNotOfferedError extends Error {
  override readonly name = 'TargetNotOfferedError';
  constructor(
    readonly targetVersion: string,
    readonly versionType: VersionType,
    readonly offered: OfferedVersion[],
  ) {
    super(
      `no device is offered ${versionType} version ${targetVersion}: ${
        offered.length > 0
          ? `the devices are offered ${offered.map((v) => `${v.versionCode}${v.type === 'beta' ? ' (beta)' : ''}`).join(', ')}`
          : 'the devices are offered no version'
      }`,
    );
  }
}
