/**
 * The chaos run's fleet: the simulator's generated mix (pairs, offline, unbound, expired, not
 * activated, already on the target, software editions), with seeded changes to the devices that
 * can be upgraded: downloads longer than the settle, upgrades that revert or never come back,
 * `scheduled` auto-upgrade policies (so pinning and restoring them matters), and downgrades
 * allowed on some (so compensation's request for the previous version can be accepted).
 */
import { generateFleet, type ParsedFleet } from '../../src/simulator';
import { compareVersions } from '../../src/simulator/versions';
import { between, type Random } from './random';

/** The release every rollout of the run targets. */
export const TARGET_VERSION = '2.4.0.0';

export interface ChaosDevice {
  smartAgId: string;
  regionId: string;
  serials: string[];
  /** Active, online, bound, paid, on an older release, hardware that takes firmware. */
  upgradable: boolean;
  outcome: 'ok' | 'revert' | 'stay-offline';
  downloadSeconds: number;
  /** Whether the download outlasts the settle: an upgrade whose answer is lost shows no sign in time. */
  longDownload: boolean;
  /** The Device auto-upgrade policy type of each serial number at the start. */
  policies: Record<string, string>;
  allowDowngrade: boolean;
}

export interface ChaosFleet {
  fleet: ParsedFleet;
  devices: ChaosDevice[];
}

export interface FleetOptions {
  devices: number;
  seed: number;
  /** The rollouts' settle; a long download lasts 1.5-2.5 times as long. */
  settleSeconds: number;
  downloadSeconds: number;
  upgradeSeconds: number;
  /** Whether some upgrades never come back (each holds its slot for the whole verify timeout). */
  stayOffline: boolean;
}

/** Shares of the upgradable devices that get each change (drawn independently). */
const LONG_DOWNLOAD = 0.1;
const REVERT = 0.05;
const STAY_OFFLINE = 0.015;
const SCHEDULED = 0.3;
const ALLOW_DOWNGRADE = 0.2;

/**
 * A cron that fires at 04:00 on the first day of the month half a year from now: a `scheduled`
 * policy left unpinned never starts an upgrade of its own during a run.
 */
function farCron(now = new Date()): string {
  const month = ((now.getUTCMonth() + 6) % 12) + 1;
  return `0 0 4 1 ${month} ?`;
}

export function buildFleet(rand: Random, o: FleetOptions): ChaosFleet {
  const fleet = generateFleet({
    devices: o.devices,
    seed: o.seed,
    simulation: { downloadSeconds: o.downloadSeconds, upgradeSeconds: o.upgradeSeconds },
  });
  const cron = farCron();
  const now = Date.now();
  const devices: ChaosDevice[] = [];
  for (const inst of fleet.instances) {
    const endTime = typeof inst.EndTime === 'number' ? inst.EndTime : Date.parse(String(inst.EndTime));
    const upgradable =
      (inst.Status ?? 'Active') === 'Active' &&
      inst.AssociatedCcnId !== undefined &&
      endTime > now &&
      inst.HardwareVersion !== 'sag-software' &&
      inst.Devices.every(
        (d) =>
          (d.HcState ?? 'online') === 'online' &&
          d.SoftwareVersion !== '' &&
          compareVersions(d.SoftwareVersion, TARGET_VERSION) < 0,
      );
    let outcome: ChaosDevice['outcome'] = 'ok';
    let downloadSeconds = o.downloadSeconds;
    let allowDowngrade = false;
    if (upgradable) {
      if (rand() < LONG_DOWNLOAD)
        downloadSeconds = Math.round(o.settleSeconds * between(rand, 1.5, 2.5) * 10) / 10;
      const r = rand();
      if (r < STAY_OFFLINE) outcome = o.stayOffline ? 'stay-offline' : 'revert';
      else if (r < STAY_OFFLINE + REVERT) outcome = 'revert';
      allowDowngrade = rand() < ALLOW_DOWNGRADE;
      const scheduled = rand() < SCHEDULED;
      for (const d of inst.Devices) {
        if (scheduled)
          d.AutoUpgradePolicies = {
            ...d.AutoUpgradePolicies,
            Device: {
              UpgradeType: 'scheduled',
              CronExpression: cron,
              Duration: '60',
              Jitter: '5',
              TimeZone: 'Asia/Shanghai',
            },
          };
      }
      inst.simulation = {
        ...inst.simulation,
        downloadSeconds,
        outcome,
        ...(allowDowngrade ? { allowDowngrade } : {}),
      };
    }
    // The generated scheduled policies get the far cron too.
    for (const d of inst.Devices) {
      const p = d.AutoUpgradePolicies?.Device;
      if (p?.UpgradeType === 'scheduled') p.CronExpression = cron;
    }
    devices.push({
      smartAgId: inst.SmartAGId,
      regionId: inst.RegionId,
      serials: inst.Devices.map((d) => d.SerialNumber),
      upgradable,
      outcome,
      downloadSeconds,
      longDownload: downloadSeconds > o.settleSeconds,
      policies: Object.fromEntries(
        inst.Devices.map((d) => [d.SerialNumber, d.AutoUpgradePolicies?.Device?.UpgradeType ?? 'manual']),
      ),
      allowDowngrade,
    });
  }
  return { fleet, devices };
}
