import { randomBytes } from 'node:crypto';
import { defaultPolicy } from '../config/policy';
import { seededRandom, type FleetFile } from '../simulator/fleet';
import type { InventoryDevice, RolloutPolicy } from '../../domain/types';

type Instance = FleetFile['instances'][number];

/** The target of the demo rollout. */
export const DEMO_TARGET = '2.4.0.0';

/** Where the designed failures of the demo sit (indexes into the inventory). */
export interface DemoDesign {
  reverts: number[];
  /** Devices that come back on the target with their link down: only the health analysis sees it. */
  linkDown: number[];
  haSplit: number;
  offline: number[];
  unbound: number[];
  onTarget: number[];
}

/**
 * The demo fleet: `size` instances (about 300) with fast simulated device times and designed
 * failures — a few devices that come back on the old version, one that comes back on the target
 * with its link down (caught by the health analysis), a couple offline, some not bound to a CCN,
 * and one HA pair whose active device reverts so the pair is split. The reverts and the
 * split pair sit together in the second wave, which breaches the failure budget and is
 * compensated. IDs carry a per-run tag, so a rerun against the persistent dev server never meets
 * the device locks of an earlier run.
 */
export function buildDemoFleet(
  size = 300,
  seed = 7,
  tag = randomBytes(2)
    .toString('hex')
    .replace(/[^a-z0-9]/g, 'x'),
): { fleet: FleetFile; design: DemoDesign } {
  const rand = seededRandom(seed);
  // Canary 5, then waves at 10%, 40%, 100% of the rest: wave-1 ≈ idx 5-34, wave-2 ≈ 35-122, wave-3 the rest.
  const design: DemoDesign = {
    reverts: [20, 40, 44, 48, 250],
    linkDown: [180],
    haSplit: 42,
    offline: [200, 260],
    unbound: [12, 60, 90, 150, 210, 280],
    onTarget: [15, 70, 130, 170, 230, 290],
  };
  const instances: Instance[] = [];
  for (let i = 0; i < size; i++) instances.push(demoInstance(i, tag, rand, design));
  return {
    fleet: {
      versions: {
        Device: [
          { VersionCode: '2.2.0.0', Type: 'release' },
          { VersionCode: '2.3.0.0', Type: 'release' },
          { VersionCode: '2.3.1.1', Type: 'release' },
          { VersionCode: DEMO_TARGET, Type: 'release' },
          { VersionCode: '2.4.1.0', Type: 'beta' },
        ],
        Dpi: [{ VersionCode: '20220610_1_0-0.0.3', Type: 'release' }],
      },
      instances,
    },
    design,
  };
}

/** Regions of the demo fleet, weighted towards Shanghai. */
const REGIONS = ['cn-shanghai', 'cn-shanghai', 'cn-shanghai', 'cn-hangzhou', 'cn-hongkong', 'ap-southeast-1'];
/** The versions the demo devices run before the rollout. */
const OLDER = ['2.2.0.0', '2.3.0.0', '2.3.1.1'];

/** Instance `i` of the demo fleet (its draws from `rand` come in a fixed order, so a seed gives one fleet). */
function demoInstance(i: number, tag: string, rand: () => number, design: DemoDesign): Instance {
  const n = String(i + 1).padStart(3, '0');
  const id = `sag-${tag}${n}`;
  const version = OLDER[Math.floor(rand() * OLDER.length)]!;
  const region = REGIONS[Math.floor(rand() * REGIONS.length)]!;
  const upgradeSeconds = 2 + Math.round(rand() * 20) / 10;
  const sn = (s: string) => `sage${tag}${n}${s}`;
  const inst: Instance = {
    SmartAGId: id,
    RegionId: region,
    Name: `branch-${n}`,
    Status: 'Active',
    HardwareVersion: rand() < 0.6 ? 'sag-1000' : 'sag-100wm',
    AssociatedCcnId: `ccn-${region.replace(/[^a-z0-9]/g, '')}01`,
    SecurityLockThreshold: 600,
    Devices: [
      {
        SerialNumber: sn('a'),
        SoftwareVersion: version,
        HcState: 'online',
        ...(rand() < 0.3
          ? {
              AutoUpgradePolicies: {
                Device: {
                  UpgradeType: 'scheduled',
                  CronExpression: '0 0 4 1/1 * ?',
                  Duration: '60',
                  TimeZone: 'Asia/Shanghai',
                },
              },
            }
          : {}),
      },
    ],
    simulation: { downloadSeconds: 0.5, upgradeSeconds },
  };
  const haPair = i === design.haSplit || (i > 5 && rand() < 0.08);
  if (haPair) {
    inst.DeviceLevelBackupType = 'cold_backup';
    inst.Devices = [
      { SerialNumber: sn('a'), SoftwareVersion: version, HaState: 'Active', HcState: 'online' },
      { SerialNumber: sn('b'), SoftwareVersion: version, HaState: 'Standby', HcState: 'online' },
    ];
  }
  if (design.reverts.includes(i))
    inst.simulation = { downloadSeconds: 0.5, upgradeSeconds, outcome: 'revert' };
  if (design.linkDown.includes(i))
    inst.simulation = { downloadSeconds: 0.5, upgradeSeconds, outcome: 'link-down' };
  if (i === design.haSplit) {
    // The standby takes the upgrade; the active one comes back on the old version the first time,
    // so the pair is split until compensation brings it forward.
    inst.Devices[0]!.simulation = { outcomes: ['revert', 'ok'] };
  }
  if (design.offline.includes(i)) {
    inst.Status = 'Offline';
    inst.Devices[0]!.HcState = 'offline';
  }
  if (design.unbound.includes(i)) delete inst.AssociatedCcnId;
  if (design.onTarget.includes(i)) for (const d of inst.Devices) d.SoftwareVersion = DEMO_TARGET;
  return inst;
}

/** The inventory of a fleet, in fleet order. */
export function inventoryOf(fleet: FleetFile): InventoryDevice[] {
  return fleet.instances.map((i) => ({
    smartAgId: i.SmartAGId,
    regionId: i.RegionId,
    serialNumbers: i.Devices.map((d) => d.SerialNumber),
  }));
}

/** The demo's policy: a canary with an approval gate, growing waves, short bakes, fast verification. */
export function demoPolicy(): RolloutPolicy {
  const base = defaultPolicy();
  return {
    ...base,
    targetVersion: DEMO_TARGET,
    canary: { count: 5 },
    waves: { cumulativePercents: [10, 40, 100] },
    concurrency: 30,
    failureBudget: { maxFailurePercent: 3, minFailures: 4, maxConsecutiveFailures: 0, onBreach: 'pause' },
    bake: 4000,
    healthRecheck: true,
    approval: 'canary',
    verify: { timeout: 15_000, pollInterval: 700, consecutivePolls: 2 },
    upgradeSettle: 5000,
    expectedUpgradeTime: 10_000,
    offlineRetryDelay: 4000,
    // Simulated links come back at once: the grace for a link to return is as short as the device times.
    health: base.health && { ...base.health, grace: 3000 },
  };
}
