import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { compareVersions, formatDeviceTime, parseDeviceTime, validateCron } from './versions';

/**
 * The fleet file: simulated SAG instances described with Alibaba's own field names, plus
 * `simulation` blocks (the simulator's knobs). docs/simulator.md documents every field.
 */

/**
 * What a firmware upgrade ends in. `link-down`, `controller-lost` and `diagnosis-fail` come back on
 * the target, online and restarted, but broken: the branch lost its link, the device its
 * controller connection, or a diagnosis item now fails.
 */
export const OUTCOMES = [
  'ok',
  'stay-offline',
  'revert',
  'flap',
  'link-down',
  'controller-lost',
  'diagnosis-fail',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

const outcomeSchema = z.enum(OUTCOMES);
const seconds = z.number().min(0);

/** Knobs of the upgrade state machine; a device's block overrides its instance's, which overrides the fleet's. */
export const simulationSchema = z
  .strictObject({
    /** Seconds the device stays online on the old version after an accepted upgrade (download). */
    downloadSeconds: seconds.optional(),
    /** Seconds the device is offline while it flashes and reboots. */
    upgradeSeconds: seconds.optional(),
    /** Seconds a DPI signature update takes after the download (the device stays online). */
    dpiUpgradeSeconds: seconds.optional(),
    /** Seconds offline for `RebootSmartAccessGateway`. */
    rebootSeconds: seconds.optional(),
    /** Half-period of the online/offline alternation of the `flap` outcome. */
    flapSeconds: z.number().positive().optional(),
    /** What a firmware upgrade ends in. */
    outcome: outcomeSchema.optional(),
    /** Outcomes for the 1st, 2nd, ... firmware upgrade; `outcome` applies after the list is used up. */
    outcomes: z.array(outcomeSchema).optional(),
    /** Accept a target older than (or equal to) the installed version instead of `VersionTooOld`. */
    allowDowngrade: z.boolean().optional(),
    /** Refuse `UpdateSmartAccessGatewayVersion` with `Forbidden` (for example a reseller-locked instance). */
    forbidden: z.boolean().optional(),
    /** The device's uplink is down from the start (its CCN link and main WAN link read as down). */
    linkDown: z.boolean().optional(),
    /** The device has lost its controller connection from the start (online, `ControllerState` Abnormal). */
    controllerLost: z.boolean().optional(),
    /** Diagnosis items that fail on this device from the start (names as in the diagnosis report). */
    failingDiagnosis: z.array(z.string().min(1)).optional(),
    /** Seconds a diagnosis (`DiagnoseSmartAccessGateway`) takes until its report is finished. */
    diagnosisSeconds: seconds.optional(),
    /** The `State` a diagnosis ends in: `finished` (default) or one of the SDK model's failed ends. */
    diagnosisEnd: z.enum(['finished', 'failed', 'error', 'upload_to_sls_fail']).optional(),
    /** Seconds after `DiagnoseSmartAccessGateway` during which the report still describes the previous diagnosis. */
    diagnosisLagSeconds: seconds.optional(),
  })
  .describe('simulation');
export type SimulationBlock = z.infer<typeof simulationSchema>;

export const versionEntrySchema = z.strictObject({
  VersionCode: z.string().min(1),
  Type: z.enum(['release', 'beta']).default('release'),
  VersionName: z.string().optional(),
  /** Release time, ms since epoch. */
  CreateTime: z.number().int().optional(),
  /** Hardware models this version is offered to; all when absent. */
  HardwareVersions: z.array(z.string()).optional(),
  /**
   * Features a device on this version does not support, per OpenAPI name, as
   * `ListSmartAGApiUnsupportedFeature` answers them (`*` applies to every name).
   */
  UnsupportedFeatures: z.record(z.string(), z.array(z.string())).optional(),
});
export type VersionEntry = z.output<typeof versionEntrySchema>;

const versionListsSchema = z.strictObject({
  Device: z.array(versionEntrySchema).default([]),
  Dpi: z.array(versionEntrySchema).default([]),
});
export type VersionLists = z.output<typeof versionListsSchema>;

export const UPGRADE_TYPES = ['scheduled', 'boot', 'manual'] as const;
export const TIME_ZONES = [
  'Asia/Shanghai',
  'Asia/Hong_Kong',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Asia/Kuala_Lumpur',
  'Europe/Berlin',
  'Asia/Singapore',
  'Asia/Jakarta',
] as const;

const policySchema = z.strictObject({
  UpgradeType: z.enum(UPGRADE_TYPES),
  CronExpression: z.string().default('0 0 4 1/1 * ?'),
  Duration: z.union([z.string(), z.number()]).transform(String).default('60'),
  Jitter: z.union([z.string(), z.number()]).transform(String).default('0'),
  TimeZone: z.string().default('Asia/Shanghai'),
});
export type PolicyFields = z.output<typeof policySchema>;

const msOrIso = z.union([z.number().int(), z.iso.datetime().transform((s) => Date.parse(s))]);

const deviceSchema = z.strictObject({
  SerialNumber: z.string().min(1),
  /** Empty when the device never reported a version (upgrades then fail with GetSmartAccessGatewayVersionError). */
  SoftwareVersion: z.string(),
  DpiSignatureDbVersion: z.string().optional(),
  HaState: z.enum(['Active', 'Standby']).optional(),
  /** `unknown` makes upgrades fail with GetSmartAccessGatewayStateError. */
  HcState: z.enum(['online', 'offline', 'unknown']).default('online'),
  MonitorVersion: z.string().optional(),
  /** `YYYY-MM-DD hh:mm:ss` (UTC+8) or ms since epoch. */
  StartupTime: z
    .union([
      z.number().int(),
      z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'expected "YYYY-MM-DD hh:mm:ss"'),
    ])
    .optional(),
  AutoUpgradePolicies: z
    .strictObject({ Device: policySchema.optional(), Dpi: policySchema.optional() })
    .optional(),
  simulation: simulationSchema.optional(),
});

const STATUSES = [
  'Ordered',
  'Delivered',
  'Received',
  'Returning',
  'Unconfirmed',
  'Active',
  'init',
  'Offline',
  'Arrearage',
] as const;

const instanceSchema = z.strictObject({
  SmartAGId: z.string().regex(/^sag-[0-9a-z]+$/, 'expected an id like "sag-0001"'),
  RegionId: z.string().min(1),
  Name: z.string().optional(),
  Description: z.string().optional(),
  Status: z.enum(STATUSES).default('Active'),
  HardwareVersion: z.enum(['sag-1000', 'sag-100wm', 'sag-software', 'sag-vcpe']).default('sag-1000'),
  AssociatedCcnId: z.string().optional(),
  AssociatedCcnName: z.string().optional(),
  /** Expiry: ms since epoch or an ISO 8601 instant. */
  EndTime: msOrIso.default(4102444800000),
  CreateTime: msOrIso.optional(),
  DpiStatus: z.enum(['On', 'Off']).default('On'),
  DpiMonitorStatus: z.enum(['Active', 'Inactive']).optional(),
  MaxBandwidth: z.string().default('50M'),
  City: z.string().optional(),
  SecurityLockThreshold: z.number().int().min(0).default(600),
  /** Account that owns the instance; a caller from another account gets PermissionError. */
  OwnerId: z.string().optional(),
  DeviceLevelBackupType: z.enum(['cold_backup', 'warm_backup', 'no_backup']).optional(),
  Devices: z.array(deviceSchema).min(1).max(2),
  /** This instance's own version lists, replacing the fleet's. */
  versions: versionListsSchema.optional(),
  simulation: simulationSchema.optional(),
});

export const fleetFileSchema = z.strictObject({
  versions: versionListsSchema.default({ Device: [], Dpi: [] }),
  /** Regions `DescribeRegions` lists, besides every region an instance is in. */
  regions: z.array(z.string()).optional(),
  /** Fleet-wide simulation defaults. */
  simulation: simulationSchema.optional(),
  instances: z.array(instanceSchema),
});

export type FleetFile = z.input<typeof fleetFileSchema>;
export type ParsedFleet = z.output<typeof fleetFileSchema>;
export type ParsedInstance = ParsedFleet['instances'][number];
export type ParsedDevice = ParsedInstance['Devices'][number];

/** A fleet file that does not validate; `issues` name each offending field. */
export class FleetValidationError extends Error {
  readonly issues: string[];
  constructor(issues: string[], source?: string) {
    super(`invalid fleet${source ? ` ${source}` : ''}:\n  ${issues.join('\n  ')}`);
    this.name = 'FleetValidationError';
    this.issues = issues;
  }
}

function pathString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/**
 * Validates a fleet object (already parsed from JSON) and applies defaults.
 * @throws FleetValidationError naming each invalid field.
 */
export function parseFleet(json: unknown, source?: string): ParsedFleet {
  const result = fleetFileSchema.safeParse(json);
  if (!result.success) {
    throw new FleetValidationError(
      result.error.issues.map((i) => `${pathString(i.path)}: ${i.message}`),
      source,
    );
  }
  const fleet = result.data;
  const issues: string[] = [];
  const ids = new Set<string>();
  const sns = new Set<string>();
  fleet.instances.forEach((inst, i) => {
    if (ids.has(inst.SmartAGId)) issues.push(`instances[${i}].SmartAGId: duplicate id ${inst.SmartAGId}`);
    ids.add(inst.SmartAGId);
    inst.Devices.forEach((d, j) => {
      const where = `instances[${i}].Devices[${j}]`;
      if (sns.has(d.SerialNumber))
        issues.push(`${where}.SerialNumber: duplicate serial number ${d.SerialNumber}`);
      sns.add(d.SerialNumber);
      if (typeof d.StartupTime === 'string') {
        try {
          parseDeviceTime(d.StartupTime);
        } catch (e) {
          issues.push(`${where}.StartupTime: ${(e as Error).message}`);
        }
      }
      for (const type of ['Device', 'Dpi'] as const) {
        const p = d.AutoUpgradePolicies?.[type];
        if (!p) continue;
        const duration = Number(p.Duration);
        if (!(duration >= 30 && duration <= 120)) {
          issues.push(
            `${where}.AutoUpgradePolicies.${type}.Duration: expected 30-120 minutes, got ${p.Duration}`,
          );
        }
        try {
          validateCron(p.CronExpression, p.TimeZone);
        } catch (e) {
          issues.push(`${where}.AutoUpgradePolicies.${type}.CronExpression: ${(e as Error).message}`);
        }
      }
    });
    if (
      inst.DeviceLevelBackupType &&
      inst.DeviceLevelBackupType !== 'no_backup' &&
      inst.Devices.length !== 2
    ) {
      issues.push(`instances[${i}].DeviceLevelBackupType: ${inst.DeviceLevelBackupType} needs two Devices`);
    }
  });
  if (issues.length) throw new FleetValidationError(issues, source);
  return fleet;
}

/**
 * Reads and validates a fleet file.
 * @throws FleetValidationError, or a SyntaxError naming the file when it is not JSON.
 */
export async function loadFleetFile(path: string): Promise<ParsedFleet> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FleetValidationError([`(root): not JSON: ${(e as Error).message}`], path);
  }
  return parseFleet(json, path);
}

/** Options of {@link generateFleet}. */
export interface GenerateOptions {
  /** Number of SAG instances (an HA pair is one instance with two devices). */
  devices: number;
  seed: number;
  /** Fleet-wide simulation defaults (e.g. near-zero device time for benchmarks). */
  simulation?: SimulationBlock;
  /** Regions to spread instances over; the first gets most of them. */
  regions?: string[];
  /** The newest release; some instances are already on it. Default 2.4.0.0. */
  targetVersion?: string;
}

/** Seeded PRNG (mulberry32): the same seed always yields the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DPI_VERSIONS = ['20201117_1_0-0.0.1', '20210315_1_0-0.0.2', '20220610_1_0-0.0.3'];

/**
 * Generates a realistic fleet from a seed: mostly healthy single devices, some HA pairs (cold
 * and warm backup), a few offline, unbound, expired or not activated instances, some already on
 * the target, some sag-software, a few with a `scheduled` auto-upgrade policy.
 */
export function generateFleet(options: GenerateOptions): ParsedFleet {
  const rand = seededRandom(options.seed);
  const target = options.targetVersion ?? '2.4.0.0';
  const regions = options.regions ?? ['cn-shanghai', 'cn-hangzhou', 'cn-hongkong', 'ap-southeast-1'];
  const base = Date.UTC(2023, 0, 1);
  const deviceVersions = Array.from(new Set(['2.1.0.0', '2.2.0.0', '2.3.0.0', '2.3.1.1', target])).sort(
    compareVersions,
  );
  const versions: VersionLists = {
    Device: [
      ...deviceVersions.map((v, i) => ({
        VersionCode: v,
        Type: 'release' as const,
        VersionName: v,
        CreateTime: base + i * 30 * 86400_000,
      })),
      {
        VersionCode: bumpLast(target),
        Type: 'beta' as const,
        VersionName: `${bumpLast(target)}-beta`,
        CreateTime: base + 400 * 86400_000,
      },
    ],
    Dpi: DPI_VERSIONS.map((v, i) => ({
      VersionCode: v,
      Type: 'release' as const,
      VersionName: v,
      CreateTime: base + i * 90 * 86400_000,
    })),
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const older = deviceVersions.filter((v) => compareVersions(v, target) < 0);
  const instances: ParsedInstance[] = [];
  const now = Date.now();
  for (let i = 0; i < options.devices; i++) {
    const n = String(i + 1).padStart(4, '0');
    const r = rand();
    const region = rand() < 0.7 ? regions[0]! : pick(regions);
    const sn = (suffix: string) => `sage${n}${rand().toString(36).slice(2, 7)}${suffix}`;
    const device = (sv: string, ha?: 'Active' | 'Standby'): ParsedDevice => ({
      SerialNumber: sn(ha === 'Standby' ? 'b' : 'a'),
      SoftwareVersion: sv,
      DpiSignatureDbVersion: pick(DPI_VERSIONS.slice(0, 2)),
      HcState: 'online',
      ...(ha ? { HaState: ha } : {}),
      StartupTime: formatDeviceTime(now - Math.floor(rand() * 30 * 86400_000) - 3600_000),
    });
    const sv = pick(older);
    const inst: ParsedInstance = {
      SmartAGId: `sag-${n}${rand().toString(36).slice(2, 6)}`,
      RegionId: region,
      Name: `branch-${n}`,
      Status: 'Active',
      HardwareVersion: rand() < 0.6 ? 'sag-1000' : 'sag-100wm',
      AssociatedCcnId: `ccn-${region.replace(/[^a-z0-9]/g, '')}01`,
      EndTime: now + (200 + Math.floor(rand() * 500)) * 86400_000,
      CreateTime: base - Math.floor(rand() * 365) * 86400_000,
      DpiStatus: 'On',
      MaxBandwidth: pick(['10M', '20M', '50M', '100M']),
      City: pick(['Shanghai', 'Hangzhou', 'Hong Kong', 'Singapore']),
      SecurityLockThreshold: 600,
      Devices: [device(sv)],
    };
    // Cumulative thresholds of the mix; the rest are healthy single devices.
    if (r < 0.06) {
      inst.Devices = [device(sv, 'Active'), device(sv, 'Standby')];
      inst.DeviceLevelBackupType = 'cold_backup';
    } else if (r < 0.08) {
      inst.Devices = [device(sv, 'Active'), device(sv, 'Active')];
      inst.DeviceLevelBackupType = 'warm_backup';
    } else if (r < 0.1) {
      inst.Devices[0]!.HcState = 'offline';
      inst.Status = 'Offline';
    } else if (r < 0.12) {
      delete inst.AssociatedCcnId;
    } else if (r < 0.135) {
      inst.EndTime = now - (1 + Math.floor(rand() * 60)) * 86400_000;
    } else if (r < 0.14) {
      inst.Status = 'Arrearage';
    } else if (r < 0.15) {
      inst.Status = pick(['Ordered', 'Delivered', 'Received'] as const);
      inst.Devices[0]!.HcState = 'offline';
    } else if (r < 0.18) {
      inst.Devices[0]!.SoftwareVersion = target;
    } else if (r < 0.19) {
      inst.HardwareVersion = 'sag-software';
      delete inst.Devices[0]!.DpiSignatureDbVersion;
    } else if (r < 0.21) {
      inst.Devices[0]!.AutoUpgradePolicies = {
        Device: {
          UpgradeType: 'scheduled',
          CronExpression: '0 0 4 1/1 * ?',
          Duration: '60',
          Jitter: '5',
          TimeZone: 'Asia/Shanghai',
        },
      };
    } else if (r < 0.215) {
      inst.DpiStatus = 'Off';
    }
    instances.push(inst);
  }
  return { versions, ...(options.simulation ? { simulation: options.simulation } : {}), instances };
}

function bumpLast(v: string): string {
  const parts = v.split('.');
  parts[parts.length - 1] = String(Number(parts[parts.length - 1] ?? '0') + 1);
  return parts.join('.');
}
