import type { HealthReading } from './health';
import type { ErrorClass, PinnedPolicy, VersionType } from './types';

/** One API call, compact, as activity results carry it into history (the audit trail). */
export interface CallRecord {
  /** Action, e.g. `UpdateSmartAccessGatewayVersion`. */
  a: string;
  sn?: string;
  /** RequestId Alibaba returned (success or error). */
  rid?: string;
  /** Error code, absent on success. */
  code?: string;
  /** HTTP status of an error. */
  st?: number;
  /** Start, ms since epoch. */
  t: number;
  ms: number;
}

export interface SerialSnapshot {
  serialNumber: string;
  softwareVersion: string;
  dpiVersion?: string;
  haState?: string;
  hcState: string;
  startupTime?: string;
  /** Auto-upgrade policies as found, one per VersionType. */
  policies: PinnedPolicy[];
}

/** What inspect saw of one instance: the input of the pure preflight decision. */
export interface DeviceSnapshot {
  smartAgId: string;
  regionId: string;
  status: string;
  instanceType?: string;
  associatedCcnId?: string;
  endTime?: number;
  securityLockThreshold?: number;
  dpiStatus?: string;
  ha?: { backupType: string; mainDeviceId?: string; backupDeviceId?: string };
  serials: SerialSnapshot[];
  versions: { versionCode: string; type: string }[];
  observedAt: number;
  /** The links and controller connections as inspect read them: the health analysis's baseline. */
  health?: HealthReading;
  calls: CallRecord[];
}

export interface InspectInput {
  regionId: string;
  smartAgId: string;
  versionType: VersionType;
  /** Share the versions offered per region, model and version type within this key (a rollout). */
  shareVersions?: string;
}

export interface PolicyChangeInput {
  regionId: string;
  smartAgId: string;
  /** The policies as found; pin sets each non-manual one to manual, restore puts each back. */
  policies: PinnedPolicy[];
}

export interface UpgradeCallInput {
  regionId: string;
  smartAgId: string;
  serialNumber: string;
  versionCode: string;
  versionType: VersionType;
}

export interface SerialObservation {
  serialNumber: string;
  version: string;
  hcState: string;
  startupTime?: string;
}

export interface AwaitDeviceInput {
  regionId: string;
  smartAgId: string;
  versionType: VersionType;
  /** Serial numbers being upgraded now, with what they reported before the call. */
  upgrading: { serialNumber: string; fromVersion: string; startupTime?: string }[];
  /** Every serial number of the instance: all must be online for the pair to count as healthy. */
  allSerials: string[];
  targetVersion: string;
  /**
   * `settle`: after an ambiguous call, return as soon as a sign shows that the upgrade took
   * (offline, StartupTime changed, new version), or `sign: false` after `settleMs`.
   * `verify`: return when every upgrading serial number is on the target, online, Active and (for
   * firmware) restarted, for `consecutivePolls` polls in a row; fail at `deadline`.
   */
  mode: 'settle' | 'verify';
  pollIntervalMs: number;
  consecutivePolls: number;
  settleMs: number;
  /** Absolute deadline, ms since epoch (computed in the workflow so retries keep it). */
  deadline: number;
  /** Settle: when the watched call was sent (ms since epoch); the settle counts from there. */
  since?: number;
  /** No poll before this instant (ms since epoch): the device is expected to download and flash until then. */
  quietUntil?: number;
  /**
   * A single device's status and version come from a `DescribeSmartAccessGateways` page shared
   * with other devices, and `StartupTime` is read again only until the restart showed.
   */
  bulkStatus?: boolean;
  /** Bulk status with a health analysis: the passing poll reads links and controllers per device. */
  healthReading?: boolean;
}

export interface AwaitDeviceResult {
  sign?: boolean;
  signKind?: 'offline' | 'restarted' | 'new-version';
  ok?: boolean;
  polls: number;
  last: SerialObservation[];
  /** Verify: the links and controller connections of the poll that passed. */
  health?: HealthReading;
  calls: CallRecord[];
}

export interface HealthCheckInput {
  devices: { smartAgId: string; regionId: string; targetVersion: string }[];
  versionType: VersionType;
}

export interface HealthCheckResult {
  unhealthy: { smartAgId: string; reason: string }[];
  calls: CallRecord[];
}

/** A failure as the workflow keeps it. */
export interface StepFailure {
  code: string;
  errorClass: ErrorClass;
  message: string;
  requestId?: string;
}
