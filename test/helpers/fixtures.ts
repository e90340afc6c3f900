import type { SimulatorOptions } from '../../src/simulator';
import type { DeviceUpgradePolicy, RolloutPolicy } from '../../domain/types';

/** Device policy with test-sized timings. */
export function fastDevicePolicy(overrides: Partial<DeviceUpgradePolicy> = {}): DeviceUpgradePolicy {
  return {
    targetVersion: '2.4.0.0',
    versionType: 'Device',
    allowBeta: false,
    verifyTimeoutMs: 8000,
    pollIntervalMs: 100,
    consecutivePolls: 2,
    upgradeSettleMs: 1500,
    autoUpgradeAfter: 'restore',
    repairHaPairs: true,
    requestPreviousVersion: false,
    errorOverrides: {},
    ...overrides,
  };
}

/** Rollout policy with test-sized timings. */
export function fastRolloutPolicy(overrides: Partial<RolloutPolicy> = {}): RolloutPolicy {
  return {
    targetVersion: '2.4.0.0',
    versionType: 'Device',
    allowBeta: false,
    canary: { count: 1 },
    waves: { cumulativePercents: [50, 100] },
    maxPartSize: 500,
    concurrency: 10,
    failureBudget: { maxFailurePercent: 20, minFailures: 2, maxConsecutiveFailures: 0, onBreach: 'pause' },
    bake: 0,
    healthRecheck: true,
    approval: 'none',
    approverMustDiffer: false,
    verify: { timeout: 8000, pollInterval: 100, consecutivePolls: 2 },
    upgradeSettle: 1500,
    noSignAfterSettle: 'unconfirmed',
    expectedUpgradeTime: 1000,
    offlineRetryDelay: 300,
    compensation: { repairHaPairs: true, requestPreviousVersion: false },
    autoUpgradeAfter: 'restore',
    windows: [],
    freezes: [],
    requireTicket: false,
    errorOverrides: {},
    webhooks: [],
    ...overrides,
  };
}

type Inst = NonNullable<SimulatorOptions['fleet']> extends { instances: (infer I)[] } ? I : never;

/** A fleet instance with a single healthy device on 2.3.0.0 and a scheduled auto-upgrade policy. */
export function instance(id: string, extra: Partial<Inst> = {}, device: Record<string, unknown> = {}): Inst {
  return {
    SmartAGId: id,
    RegionId: 'cn-shanghai',
    Status: 'Active',
    AssociatedCcnId: 'ccn-01',
    EndTime: 1893456000000,
    Devices: [
      {
        SerialNumber: `sn${id.slice(4)}a`,
        SoftwareVersion: '2.3.0.0',
        HaState: 'Active',
        HcState: 'online',
        AutoUpgradePolicies: {
          Device: {
            UpgradeType: 'scheduled',
            CronExpression: '0 0 3 ? * 1',
            Duration: 60,
            TimeZone: 'Asia/Shanghai',
          },
        },
        ...device,
      },
    ],
    simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'ok' },
    ...extra,
  };
}

/** An HA pair: `a` active, `b` standby. */
export function haInstance(id: string, extra: Partial<Inst> = {}): Inst {
  const base = instance(id, { DeviceLevelBackupType: 'cold_backup', ...extra });
  return {
    ...base,
    Devices: [
      { SerialNumber: `sn${id.slice(4)}a`, SoftwareVersion: '2.3.0.0', HaState: 'Active', HcState: 'online' },
      {
        SerialNumber: `sn${id.slice(4)}b`,
        SoftwareVersion: '2.3.0.0',
        HaState: 'Standby',
        HcState: 'online',
      },
    ],
  };
}

export const VERSIONS = {
  Device: [
    { VersionCode: '2.3.0.0', Type: 'release' as const },
    { VersionCode: '2.4.0.0', Type: 'release' as const },
    { VersionCode: '2.5.0.0', Type: 'beta' as const },
  ],
  Dpi: [{ VersionCode: '20240101_1_0-0.0.2', Type: 'release' as const }],
};
