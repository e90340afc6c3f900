/**
 * The night-window benchmark's fleet: the generator's realistic mix (HA pairs, offline, unbound,
 * expired, already on the target, sag-software, scheduled policies) with real-speed devices: a
 * 3-minute download and a 7-minute flash and restart, each jittered per device by ±20%, and a
 * few percent that revert, stay offline, flap or download three times slower. Simulated seconds:
 * the simulator's time scale maps them to real time.
 */
import { generateFleet, type ParsedFleet, type SimulationBlock } from '../../src/simulator';
import type { InventoryDevice } from '../../domain/types';
import { between, seeded } from './random';

/** Alibaba's figure for one SAG upgrade, split as the device spends it (simulated seconds). */
export const DOWNLOAD_SECONDS = 180;
export const FLASH_SECONDS = 420;

/** Shares of the devices whose upgrade goes wrong or slow (cumulative thresholds below). */
export const MIX = { revert: 0.02, stayOffline: 0.01, flap: 0.005, slow: 0.03 } as const;

/** The fleet of `devices` instances, the same for the same seed. */
export function nightFleet(devices: number, seed: number): ParsedFleet {
  const fleet = generateFleet({ devices, seed, simulation: { flapSeconds: 20 } });
  const rand = seeded(seed * 7919 + 1);
  for (const inst of fleet.instances) {
    const r = rand();
    const slow =
      r >= MIX.revert + MIX.stayOffline + MIX.flap && r < MIX.revert + MIX.stayOffline + MIX.flap + MIX.slow;
    const sim: SimulationBlock = {
      downloadSeconds: Math.round(between(rand, 0.8, 1.2) * DOWNLOAD_SECONDS * (slow ? 3 : 1)),
      upgradeSeconds: Math.round(between(rand, 0.8, 1.2) * FLASH_SECONDS),
    };
    if (r < MIX.revert) sim.outcome = 'revert';
    else if (r < MIX.revert + MIX.stayOffline) sim.outcome = 'stay-offline';
    else if (r < MIX.revert + MIX.stayOffline + MIX.flap) sim.outcome = 'flap';
    inst.simulation = sim;
  }
  return fleet;
}

/** The fleet as an inventory; the first healthy single device goes first (the canary). */
export function nightInventory(fleet: ParsedFleet, target: string): InventoryDevice[] {
  const inv = fleet.instances.map((i) => ({
    smartAgId: i.SmartAGId,
    regionId: i.RegionId,
    serialNumbers: i.Devices.map((d) => d.SerialNumber),
  }));
  const healthy = fleet.instances.findIndex(
    (i) =>
      i.Status === 'Active' &&
      i.Devices.length === 1 &&
      i.AssociatedCcnId &&
      i.Devices[0]!.SoftwareVersion !== target &&
      i.HardwareVersion !== 'sag-software' &&
      i.simulation?.outcome === undefined &&
      (i.EndTime ?? 0) > Date.now(),
  );
  if (healthy > 0) inv.unshift(...inv.splice(healthy, 1));
  return inv;
}
