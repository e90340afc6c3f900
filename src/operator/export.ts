/** The devices of a rollout with given outcomes, as inventory entries a new rollout can start from. */

import type { Client } from '@temporalio/client';
import { emptyCounts } from '../../domain/counts';
import type { DeviceStatusOutcome, InventoryDevice, RolloutState } from '../../domain/types';
import { readRolloutInput } from '../audit/read';
import { NOT_REACHED_CODES, notReached } from './not-reached';
import { getRolloutStatus } from './status';

/** Every outcome a device of a rollout can have, as `status` names them. */
export const DEVICE_OUTCOMES: readonly DeviceStatusOutcome[] = Object.keys(
  emptyCounts(),
) as DeviceStatusOutcome[];

/** Which devices `export` takes: those with one of `outcomes`, and with `notReached` the skipped devices the rollout did not reach. */
export interface ExportSelection {
  outcomes: DeviceStatusOutcome[];
  /** Also the devices skipped as `DeadlinePassed` or `HeldByAnotherRollout` (see `notReached`). */
  notReached: boolean;
}

/**
 * What `export` takes by default: every device not known to be on the target nor left out on
 * purpose (failed, unconfirmed, compensated, pending, and skipped without being reached).
 */
export const DEFAULT_EXPORT_SELECTION: Readonly<ExportSelection> = Object.freeze({
  outcomes: ['failed', 'unconfirmed', 'compensated', 'pending'] satisfies DeviceStatusOutcome[],
  notReached: true,
});

/** A selection in words: `failed, pending, skipped (DeadlinePassed, HeldByAnotherRollout)`. */
export function selectionText(s: ExportSelection): string {
  const skippedAll = s.outcomes.includes('skipped');
  return [
    ...s.outcomes,
    ...(s.notReached && !skippedAll ? [`skipped (${NOT_REACHED_CODES.join(', ')})`] : []),
  ].join(', ');
}

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
  /** Whether the skipped devices the rollout did not reach were taken too. */
  notReached: boolean;
  /** In the rollout's inventory order. */
  devices: ExportedDevice[];
}

/**
 * The rollout's devices whose outcome (as `status` reads it) is one of `select.outcomes`, or that
 * it skipped without reaching them when `select.notReached` holds, with their
 * inventory entries (serial numbers, group, tags) from the rollout's workflow input, in its order.
 *
 * @throws RolloutNotFoundError; NoWorkerError (the status is a query: it needs a worker).
 */
export async function exportDevices(
  client: Client,
  rolloutId: string,
  select: ExportSelection,
): Promise<RolloutExport> {
  const status = await getRolloutStatus(client, rolloutId);
  const input = await readRolloutInput(client, rolloutId);
  const wanted = new Map(
    status.devices
      .filter((d) => select.outcomes.includes(d.outcome) || (select.notReached && notReached(d)))
      .map((d) => [d.smartAgId, d]),
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
  return {
    rolloutId,
    state: status.state,
    closed: status.closed,
    outcomes: [...select.outcomes],
    notReached: select.notReached,
    devices,
  };
}
