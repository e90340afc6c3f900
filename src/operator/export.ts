/** The devices of a rollout with given outcomes, as inventory entries a new rollout can start from. */

import type { Client } from '@temporalio/client';
import { emptyCounts } from '../../domain/counts';
import type { DeviceStatusOutcome, InventoryDevice, RolloutState } from '../../domain/types';
import { readRolloutInput } from '../audit/read';
import { getRolloutStatus } from './status';

/** Every outcome a device of a rollout can have, as `status` names them. */
export const DEVICE_OUTCOMES: readonly DeviceStatusOutcome[] = Object.keys(
  emptyCounts(),
) as DeviceStatusOutcome[];

/** The outcomes `export` takes by default: every device not known to be on the target or left out on purpose. */
export const DEFAULT_EXPORT_OUTCOMES: readonly DeviceStatusOutcome[] = [
  'failed',
  'unconfirmed',
  'compensated',
  'pending',
];

/** One exported device: its inventory entry as the rollout was given it, and why it is exported. */
export interface ExportedDevice extends InventoryDevice {
  outcome: DeviceStatusOutcome;
  errorCode?: string;
}

/** What `export` read. */
export interface RolloutExport {
  rolloutId: string;
  state: RolloutState;
  closed: boolean;
  outcomes: DeviceStatusOutcome[];
  /** In the rollout's inventory order. */
  devices: ExportedDevice[];
}

/**
 * The rollout's devices whose outcome (as `status` reads it) is one of `outcomes`, with their
 * inventory entries (serial numbers, group, tags) from the rollout's workflow input, in its order.
 *
 * @throws RolloutNotFoundError; NoWorkerError (the status is a query: it needs a worker).
 */
export async function exportDevices(
  client: Client,
  rolloutId: string,
  outcomes: readonly DeviceStatusOutcome[],
): Promise<RolloutExport> {
  const status = await getRolloutStatus(client, rolloutId);
  const input = await readRolloutInput(client, rolloutId);
  const wanted = new Map(
    status.devices.filter((d) => outcomes.includes(d.outcome)).map((d) => [d.smartAgId, d]),
  );
  const devices: ExportedDevice[] = [];
  for (const entry of input.inventory) {
    const d = wanted.get(entry.smartAgId);
    if (!d) continue;
    wanted.delete(entry.smartAgId);
    devices.push({ ...entry, outcome: d.outcome, ...(d.errorCode ? { errorCode: d.errorCode } : {}) });
  }
  // A device the status knows but the first input does not (never expected): keep it, with its region.
  for (const d of wanted.values())
    devices.push({
      smartAgId: d.smartAgId,
      regionId: d.regionId,
      outcome: d.outcome,
      ...(d.errorCode ? { errorCode: d.errorCode } : {}),
    });
  return { rolloutId, state: status.state, closed: status.closed, outcomes: [...outcomes], devices };
}
