import { createHash } from 'node:crypto';
import type {
  Outcome,
  ParsedDevice,
  ParsedFleet,
  ParsedInstance,
  PolicyFields,
  SimulationBlock,
  VersionEntry,
  VersionLists,
} from './fleet';
import { compareVersions, formatDeviceTime, nextCronFire, parseDeviceTime } from './versions';

/**
 * The simulated fleet's state machine. Nothing runs on a timer: every device keeps the
 * timestamps of its current operation and of its next scheduled auto-upgrade, and
 * {@link SimDevice.settle} advances it to "now" whenever it is read. That keeps 10,000 devices
 * as cheap as ten.
 */

export type VersionType = 'Device' | 'Dpi';
export type HcState = 'online' | 'offline' | 'unknown';

/** Resolved simulation knobs of one device. */
export interface SimulationSettings {
  downloadSeconds: number;
  upgradeSeconds: number;
  dpiUpgradeSeconds: number;
  rebootSeconds: number;
  flapSeconds: number;
  outcome: Outcome;
  outcomes: Outcome[];
  allowDowngrade: boolean;
  linkDown: boolean;
  controllerLost: boolean;
  failingDiagnosis: string[];
  diagnosisSeconds: number;
  diagnosisEnd: 'finished' | 'failed' | 'error' | 'upload_to_sls_fail';
  diagnosisLagSeconds: number;
  /**
   * Simulated seconds per real second: every `…Seconds` knob above is simulated time and lasts
   * `seconds / timeScale` of real time (default 1).
   */
  timeScale: number;
}

export const DEFAULT_SIMULATION: SimulationSettings = {
  downloadSeconds: 1,
  upgradeSeconds: 5,
  dpiUpgradeSeconds: 2,
  rebootSeconds: 3,
  flapSeconds: 1,
  outcome: 'ok',
  outcomes: [],
  allowDowngrade: false,
  linkDown: false,
  controllerLost: false,
  failingDiagnosis: [],
  diagnosisSeconds: 1,
  diagnosisEnd: 'finished',
  diagnosisLagSeconds: 0,
  timeScale: 1,
};

/** A device's auto-upgrade policy for one VersionType. */
export interface PolicyState extends PolicyFields {
  /** Next instant (ms) a `scheduled` policy fires, computed lazily. */
  nextFireAt?: number;
}

/** An upgrade, DPI update or reboot in progress. */
export interface Operation {
  kind: 'upgrade' | 'reboot';
  versionType: VersionType;
  target?: string;
  from?: string;
  acceptedAt: number;
  /** When the device drops offline (Infinity: it stays online, as for DPI updates). */
  offlineAt: number;
  endsAt: number;
  outcome: Outcome;
  /** Started by the device's own auto-upgrade policy, not by an API call. */
  auto: boolean;
}

function resolveSimulation(
  timeScale: number,
  ...blocks: (SimulationBlock | undefined)[]
): SimulationSettings {
  const out: SimulationSettings = { ...DEFAULT_SIMULATION, outcomes: [], timeScale };
  for (const b of blocks) {
    if (!b) continue;
    for (const [k, v] of Object.entries(b)) {
      if (v !== undefined && k !== 'forbidden') (out as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

const DEFAULT_POLICY: PolicyFields = {
  UpgradeType: 'manual',
  CronExpression: '0 0 4 1/1 * ?',
  Duration: '60',
  Jitter: '0',
  TimeZone: 'Asia/Shanghai',
};

/** The diagnosis item a `diagnosis-fail` upgrade breaks. */
export const BROKEN_ITEM = 'WanConnectivity';

/** A device's branch health beyond online/offline, as the health APIs report it. */
export interface DeviceHealth {
  /** Its uplink is down: the instance's CCN link and its main WAN link read as down. */
  linkDown: boolean;
  /** Online, but without a controller connection since this instant. */
  controllerLostAt: number | undefined;
  /** Diagnosis items that fail. */
  failingDiagnosis: string[];
}

/** One physical SAG device. Fields may be changed directly by tests (through `instance()`). */
export class SimDevice {
  serialNumber: string;
  /** Installed firmware; '' when the device reports none. */
  softwareVersion: string;
  dpiSignatureDbVersion: string;
  haState: 'Active' | 'Standby';
  /** Base health-check state; an operation or flapping overrides it while they last. */
  hcState: HcState;
  monitorVersion: string;
  /** Last boot, ms since epoch. */
  startupTime: number;
  policies: Record<VersionType, PolicyState>;
  simulation: SimulationSettings;
  operation: Operation | undefined;
  /** Set by the `flap` outcome: the device alternates online/offline from this instant. */
  flapSince: number | undefined;
  /** Accepted `UpdateSmartAccessGatewayVersion` calls for this device. */
  upgradeCalls = 0;
  upgradeCallsByVersion: Record<string, number> = {};
  /** Upgrades the device started on its own (scheduled or boot policy). */
  autoUpgrades = 0;
  /** Firmware upgrades completed so far (indexes `simulation.outcomes`). */
  upgradesDone = 0;
  /** The branch's health as the API shows it: uplink, controller connection, diagnosis. */
  health: DeviceHealth;
  /** The last diagnosis started by `DiagnoseSmartAccessGateway`. */
  diagnosis: { startedAt: number; endsAt: number; failing: string[] } | undefined;
  /** The diagnosis before the last one, which the report describes during `diagnosisLagSeconds`. */
  previousDiagnosis: { startedAt: number; endsAt: number; failing: string[] } | undefined;
  readonly secretKey: string;

  constructor(
    d: ParsedDevice,
    simulation: SimulationSettings,
    haDefault: 'Active' | 'Standby',
    now: number,
    dpiDefault: string,
  ) {
    this.serialNumber = d.SerialNumber;
    this.softwareVersion = d.SoftwareVersion;
    this.dpiSignatureDbVersion = d.DpiSignatureDbVersion ?? dpiDefault;
    this.haState = d.HaState ?? haDefault;
    this.hcState = d.HcState;
    this.monitorVersion = d.MonitorVersion ?? '0.1.11.17';
    this.startupTime =
      d.StartupTime === undefined
        ? now - 7 * 86400_000
        : typeof d.StartupTime === 'number'
          ? d.StartupTime
          : parseDeviceTime(d.StartupTime);
    this.policies = {
      Device: { ...DEFAULT_POLICY, ...d.AutoUpgradePolicies?.Device },
      Dpi: { ...DEFAULT_POLICY, ...d.AutoUpgradePolicies?.Dpi },
    };
    this.simulation = simulation;
    this.operation = undefined;
    this.flapSince = undefined;
    this.health = {
      linkDown: simulation.linkDown,
      controllerLostAt: simulation.controllerLost ? now - 3600_000 : undefined,
      failingDiagnosis: [...simulation.failingDiagnosis],
    };
    this.diagnosis = undefined;
    this.previousDiagnosis = undefined;
    this.secretKey = createHash('sha256').update(`sk:${d.SerialNumber}`).digest('hex').slice(0, 32);
  }

  /** Real milliseconds that `seconds` of simulated time last at the fleet's time scale. */
  ms(seconds: number): number {
    return (seconds * 1000) / this.simulation.timeScale;
  }

  /** Observed health-check state at `now` (call {@link settle} first). */
  hcStateAt(now: number): HcState {
    if (this.hcState !== 'online') return this.hcState;
    const op = this.operation;
    if (op && now >= op.offlineAt && now < op.endsAt) return 'offline';
    if (this.flapSince !== undefined) {
      const phase = Math.floor((now - this.flapSince) / this.ms(this.simulation.flapSeconds));
      return phase % 2 === 0 ? 'online' : 'offline';
    }
    return 'online';
  }

  /** Starts an upgrade, DPI update or reboot at `at`. */
  startOperation(
    kind: 'upgrade' | 'reboot',
    versionType: VersionType,
    target: string | undefined,
    at: number,
    auto: boolean,
  ): Operation {
    const s = this.simulation;
    this.flapSince = undefined;
    let op: Operation;
    if (kind === 'reboot') {
      op = {
        kind,
        versionType,
        acceptedAt: at,
        offlineAt: at,
        endsAt: at + this.ms(s.rebootSeconds),
        outcome: 'ok',
        auto,
      };
    } else if (versionType === 'Dpi') {
      const endsAt = at + this.ms(s.downloadSeconds + s.dpiUpgradeSeconds);
      op = {
        kind,
        versionType,
        target,
        from: this.dpiSignatureDbVersion,
        acceptedAt: at,
        offlineAt: Infinity,
        endsAt,
        outcome: 'ok',
        auto,
      };
    } else {
      const offlineAt = at + this.ms(s.downloadSeconds);
      const outcome = s.outcomes[this.upgradesDone] ?? s.outcome;
      op = {
        kind,
        versionType,
        target,
        from: this.softwareVersion,
        acceptedAt: at,
        offlineAt,
        endsAt: offlineAt + this.ms(s.upgradeSeconds),
        outcome,
        auto,
      };
    }
    this.operation = op;
    return op;
  }

  /** Advances the device's state machine to `now`. */
  settle(now: number, instance: SimInstance): void {
    for (let guard = 0; guard < 1000; guard++) {
      const opEnd = this.operation?.endsAt ?? Infinity;
      const [fireType, fireAt] = this.nextFire(now);
      const t = Math.min(opEnd, fireAt);
      if (t > now) return;
      if (opEnd <= fireAt) this.complete(instance);
      else this.fire(fireType, fireAt, now, instance);
    }
  }

  private nextFire(now: number): [VersionType, number] {
    let best: [VersionType, number] = ['Device', Infinity];
    for (const type of ['Device', 'Dpi'] as const) {
      const p = this.policies[type];
      if (p.UpgradeType !== 'scheduled') continue;
      if (p.nextFireAt === undefined) p.nextFireAt = safeNextFire(p, now);
      if (p.nextFireAt < best[1]) best = [type, p.nextFireAt];
    }
    return best;
  }

  private fire(type: VersionType, at: number, now: number, instance: SimInstance): void {
    const p = this.policies[type];
    let started: Operation | undefined;
    if (!this.operation && this.hcStateAt(at) === 'online' && instance.upgradable(at)) {
      started = this.autoUpgrade(type, at, instance);
    }
    // Fires during an upgrade, or with nothing newer to install, change nothing: skip ahead.
    p.nextFireAt = safeNextFire(p, Math.max(at, started ? started.endsAt : now));
  }

  private autoUpgrade(type: VersionType, at: number, instance: SimInstance): Operation | undefined {
    if (type === 'Dpi' && instance.dpiStatus !== 'On') return undefined;
    const newest = instance.newestRelease(type);
    const current = type === 'Device' ? this.softwareVersion : this.dpiSignatureDbVersion;
    if (!newest || (current && compareVersions(newest, current) <= 0)) return undefined;
    this.autoUpgrades++;
    return this.startOperation('upgrade', type, newest, at, true);
  }

  private complete(instance: SimInstance): void {
    const op = this.operation!;
    this.operation = undefined;
    let rebooted = true;
    if (op.kind === 'upgrade' && op.versionType === 'Dpi') {
      this.dpiSignatureDbVersion = op.target!;
      rebooted = false;
    } else if (op.kind === 'upgrade') {
      this.upgradesDone++;
      switch (op.outcome) {
        case 'ok':
          this.softwareVersion = op.target!;
          break;
        case 'revert':
          break;
        case 'flap':
          this.softwareVersion = op.target!;
          this.flapSince = op.endsAt;
          break;
        case 'stay-offline':
          this.hcState = 'offline';
          rebooted = false;
          break;
        case 'link-down':
          this.softwareVersion = op.target!;
          this.health.linkDown = true;
          break;
        case 'controller-lost':
          this.softwareVersion = op.target!;
          this.health.controllerLostAt = op.endsAt;
          break;
        case 'diagnosis-fail':
          this.softwareVersion = op.target!;
          this.health.failingDiagnosis = [...new Set([...this.health.failingDiagnosis, BROKEN_ITEM])];
          break;
      }
    }
    if (!rebooted) return;
    // StartupTime has one-second resolution: a reboot must always change the reported string.
    this.startupTime = Math.max(op.endsAt, Math.floor(this.startupTime / 1000) * 1000 + 1000);
    for (const type of ['Device', 'Dpi'] as const) {
      if (this.policies[type].UpgradeType === 'boot' && !this.operation && instance.upgradable(op.endsAt)) {
        this.autoUpgrade(type, op.endsAt, instance);
      }
    }
  }

  /** Sets a policy (ModifyDeviceAutoUpgradePolicy); Jitter is kept, as the API cannot set it. */
  setPolicy(type: VersionType, fields: Omit<PolicyFields, 'Jitter'>): void {
    this.policies[type] = { ...fields, Jitter: this.policies[type].Jitter };
  }

  startupTimeString(): string {
    return formatDeviceTime(this.startupTime);
  }
}

function safeNextFire(p: PolicyFields, after: number): number {
  try {
    return nextCronFire(p.CronExpression, p.TimeZone, after);
  } catch {
    return Infinity;
  }
}

const NOT_ACTIVATED = new Set(['Ordered', 'Delivered', 'Received', 'Unconfirmed', 'init', 'Returning']);

/** One SAG instance: a single device, or an HA pair. */
export class SimInstance {
  smartAgId: string;
  regionId: string;
  name: string;
  description: string;
  /** Stored status; `Active` reads as `Offline` while every device is offline. */
  status: string;
  hardwareVersion: string;
  associatedCcnId: string | undefined;
  associatedCcnName: string | undefined;
  endTime: number;
  createTime: number;
  dpiStatus: 'On' | 'Off';
  dpiMonitorStatus: 'Active' | 'Inactive';
  maxBandwidth: string;
  city: string;
  securityLockThreshold: number;
  ownerId: string | undefined;
  forbidden: boolean;
  backupType: 'cold_backup' | 'warm_backup' | 'no_backup';
  versions: VersionLists;
  devices: SimDevice[];

  constructor(inst: ParsedInstance, fleet: ParsedFleet, now: number, timeScale = 1) {
    this.smartAgId = inst.SmartAGId;
    this.regionId = inst.RegionId;
    this.name = inst.Name ?? inst.SmartAGId;
    this.description = inst.Description ?? '';
    this.status = inst.Status;
    this.hardwareVersion = inst.HardwareVersion;
    this.associatedCcnId = inst.AssociatedCcnId;
    this.associatedCcnName = inst.AssociatedCcnName ?? inst.AssociatedCcnId;
    this.endTime = inst.EndTime;
    this.createTime = inst.CreateTime ?? now - 365 * 86400_000;
    this.dpiStatus = inst.DpiStatus;
    this.dpiMonitorStatus = inst.DpiMonitorStatus ?? (inst.DpiStatus === 'On' ? 'Active' : 'Inactive');
    this.maxBandwidth = inst.MaxBandwidth;
    this.city = inst.City ?? '';
    this.securityLockThreshold = inst.SecurityLockThreshold;
    this.ownerId = inst.OwnerId;
    this.forbidden = inst.simulation?.forbidden ?? fleet.simulation?.forbidden ?? false;
    this.backupType = inst.DeviceLevelBackupType ?? (inst.Devices.length === 2 ? 'cold_backup' : 'no_backup');
    this.versions = inst.versions ?? fleet.versions;
    const dpiDefault = this.versions.Dpi[0]?.VersionCode ?? '20201117_1_0-0.0.1';
    this.devices = inst.Devices.map((d, i) => {
      const ha = this.backupType === 'cold_backup' && i === 1 ? 'Standby' : 'Active';
      return new SimDevice(
        d,
        resolveSimulation(timeScale, fleet.simulation, inst.simulation, d.simulation),
        ha,
        now,
        dpiDefault,
      );
    });
  }

  /** Advances every device to `now` and applies HA failover. Call before reading. */
  settle(now: number): this {
    for (const d of this.devices) {
      if (
        d.operation !== undefined ||
        d.policies.Device.UpgradeType === 'scheduled' ||
        d.policies.Dpi.UpgradeType === 'scheduled'
      ) {
        d.settle(now, this);
      }
    }
    if (this.backupType === 'cold_backup' && this.devices.length === 2) {
      const active = this.devices.find((d) => d.haState === 'Active');
      const standby = this.devices.find((d) => d.haState === 'Standby');
      // Cold backup fails over when the active device drops and the standby is up: roles swap.
      if (active && standby && active.hcStateAt(now) !== 'online' && standby.hcStateAt(now) === 'online') {
        active.haState = 'Standby';
        standby.haState = 'Active';
      } else if (!active && standby) {
        standby.haState = 'Active';
      }
    }
    return this;
  }

  /** The device carrying traffic. */
  activeDevice(): SimDevice {
    return this.devices.find((d) => d.haState === 'Active') ?? this.devices[0]!;
  }

  /** The standby device of a cold-backup pair (or the second device of a warm pair). */
  backupDevice(): SimDevice | undefined {
    const active = this.activeDevice();
    return this.devices.find((d) => d !== active);
  }

  device(serialNumber: string): SimDevice | undefined {
    return this.devices.find((d) => d.serialNumber === serialNumber);
  }

  /** Observed status at `now`. */
  statusAt(now: number): string {
    if (this.status === 'Active' && this.devices.every((d) => d.hcStateAt(now) !== 'online'))
      return 'Offline';
    return this.status;
  }

  notActivated(): boolean {
    return NOT_ACTIVATED.has(this.status);
  }

  inArrears(now: number): boolean {
    return this.status === 'Arrearage' || this.endTime <= now;
  }

  /** Whether the instance's own state lets an auto-upgrade run at `at`. */
  upgradable(at: number): boolean {
    return !this.notActivated() && !this.inArrears(at) && !!this.associatedCcnId;
  }

  /** Versions offered to this instance for a VersionType (sag-software has no firmware). */
  offeredVersions(type: VersionType): VersionEntry[] {
    if (type === 'Device' && this.hardwareVersion === 'sag-software') return [];
    const list = this.versions[type];
    return list.filter((v) => !v.HardwareVersions || v.HardwareVersions.includes(this.hardwareVersion));
  }

  newestRelease(type: VersionType): string | undefined {
    let best: string | undefined;
    for (const v of this.offeredVersions(type)) {
      if (v.Type !== 'release') continue;
      if (!best || compareVersions(v.VersionCode, best) > 0) best = v.VersionCode;
    }
    return best;
  }
}

/** Every instance, indexed by id and by region. */
export class FleetState {
  readonly instances = new Map<string, SimInstance>();
  readonly byRegion = new Map<string, SimInstance[]>();
  readonly regions: string[];

  /** `timeScale`: simulated seconds per real second (see {@link SimulationSettings.timeScale}). */
  constructor(fleet: ParsedFleet, now: number = Date.now(), timeScale = 1) {
    for (const i of fleet.instances) {
      const inst = new SimInstance(i, fleet, now, timeScale);
      this.instances.set(inst.smartAgId, inst);
      let list = this.byRegion.get(inst.regionId);
      if (!list) this.byRegion.set(inst.regionId, (list = []));
      list.push(inst);
    }
    const regions = new Set(fleet.regions ?? DEFAULT_REGIONS);
    for (const r of this.byRegion.keys()) regions.add(r);
    this.regions = [...regions];
  }
}

export const DEFAULT_REGIONS = [
  'cn-shanghai',
  'cn-hangzhou',
  'cn-hongkong',
  'cn-shanghai-finance-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-5',
  'ap-northeast-1',
  'eu-central-1',
];
