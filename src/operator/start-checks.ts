/**
 * What `start` checks before it acts: whether a worker polls the task queue, which devices of
 * the inventory another running rollout holds (their `upgrade/<SmartAGId>` workflow is running:
 * the new rollout would report them `HeldByAnotherRollout` and leave them alone), and which
 * running rollouts have devices of the inventory in their own inventory, whether or not they reached
 * them yet (the two rollouts would race for those still pending; to different target versions, a
 * device would end on whichever reached it last).
 */
import type { Client } from '@temporalio/client';
import { readRolloutInput } from '../audit/read';
import { rolloutOfDeviceRun } from '../temporal/lock-holder';
import { deviceWorkflowId, rolloutIdOf } from './ids';
import { workerCount } from './read';

/** A device of the inventory that a running rollout holds. */
export interface HeldDevice {
  smartAgId: string;
  /** The rollout that holds it (its ID), or the holding workflow's ID when it is not a rollout's. */
  heldBy: string;
}

/** A running rollout whose inventory has devices of the new one. */
export interface RolloutOverlap {
  rolloutId: string;
  targetVersion: string;
  /** What it upgrades: the device firmware or the DPI engine (`Device`, `Dpi`). */
  versionType: string;
  /** How many devices of the new inventory are in its inventory. */
  devices: number;
}

/** The running rollouts that share devices with the new inventory, as far as they were read. */
export interface RunningRollouts {
  /** Those sharing at least one device, most shared first. */
  overlaps: RolloutOverlap[];
  /** Running rollouts listed (besides the new one's own ID). */
  running: number;
  /** Of them, whose inventory was read (at most the cap). */
  read: number;
  /** Those whose workflow input could not be read. */
  unreadable: string[];
}

export interface StartChecks {
  /** Workers that polled the task queue recently; -1 when the server did not say. */
  workers: number;
  held: HeldDevice[];
  /** Why the held devices could not be read (`held` is then empty). */
  heldUnknown?: string;
  rollouts: RunningRollouts;
  /** Why the running rollouts could not be listed (`rollouts` is then empty). */
  rolloutsUnknown?: string;
}

/** Running rollouts whose inventory `start` reads at most: each read is a history call. */
export const MAX_ROLLOUTS_READ = 50;

const DEVICE_PREFIX = deviceWorkflowId('');

/** The devices of `smartAgIds` whose upgrade workflow runs now, with the rollout holding each. */
async function heldDevices(client: Client, smartAgIds: string[]): Promise<HeldDevice[]> {
  const wanted = new Set(smartAgIds);
  const out: HeldDevice[] = [];
  const running = client.workflow.list({
    query: `WorkflowType = 'deviceUpgradeWorkflow' AND ExecutionStatus = 'Running'`,
  });
  for await (const w of running) {
    const id = w.workflowId.startsWith(DEVICE_PREFIX) ? w.workflowId.slice(DEVICE_PREFIX.length) : '';
    if (wanted.has(id))
      out.push({
        smartAgId: id,
        heldBy: rolloutOfDeviceRun(w) ?? w.parentExecution?.workflowId ?? '(no parent workflow)',
      });
  }
  return out.sort((a, b) => a.smartAgId.localeCompare(b.smartAgId));
}

/**
 * The running rollouts (but `ownId`) that have devices of `smartAgIds` in their inventory, read
 * from the first event of each one's history, for at most `max` of them.
 * @throws what a visibility query throws.
 */
export async function runningRollouts(
  client: Client,
  smartAgIds: string[],
  ownId?: string,
  max = MAX_ROLLOUTS_READ,
): Promise<RunningRollouts> {
  const listed = new Set<string>();
  const running = client.workflow.list({
    query: `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running'`,
  });
  for await (const w of running) {
    const id = rolloutIdOf(w.workflowId);
    if (id !== ownId) listed.add(id);
  }
  const ids = [...listed];
  const wanted = new Set(smartAgIds);
  const toRead = ids.slice(0, max);
  const overlaps: RolloutOverlap[] = [];
  const unreadable: string[] = [];
  // A few histories at a time: enough to keep the wait short, few enough to spare the server.
  for (let i = 0; i < toRead.length; i += 10) {
    const batch = toRead.slice(i, i + 10);
    const inputs = await Promise.allSettled(batch.map((id) => readRolloutInput(client, id)));
    inputs.forEach((r, j) => {
      const rolloutId = batch[j]!;
      if (r.status === 'rejected') {
        unreadable.push(rolloutId);
        return;
      }
      const devices = r.value.inventory.filter((d) => wanted.has(d.smartAgId)).length;
      const { targetVersion, versionType } = r.value.policy;
      if (devices > 0) overlaps.push({ rolloutId, targetVersion, versionType, devices });
    });
  }
  overlaps.sort((a, b) => b.devices - a.devices || a.rolloutId.localeCompare(b.rolloutId));
  return { overlaps, running: ids.length, read: toRead.length, unreadable };
}

/**
 * Every check of `start`, for the rollout `rolloutId` (left out of the running rollouts). A check
 * the server cannot answer says so (`workers: -1`, `heldUnknown`, `rolloutsUnknown`) rather than
 * failing the start.
 */
export async function startChecks(
  client: Client,
  taskQueue: string,
  smartAgIds: string[],
  rolloutId?: string,
): Promise<StartChecks> {
  const [workers, held, rollouts] = await Promise.all([
    workerCount(client, taskQueue),
    heldDevices(client, smartAgIds).then(
      (h) => ({ h }),
      (err: unknown) => ({ h: [], unknown: reasonOf(err) }),
    ),
    runningRollouts(client, smartAgIds, rolloutId).then(
      (r) => ({ r }),
      (err: unknown) => ({
        r: { overlaps: [], running: 0, read: 0, unreadable: [] },
        unknown: reasonOf(err),
      }),
    ),
  ]);
  return {
    workers,
    held: held.h,
    ...('unknown' in held ? { heldUnknown: held.unknown } : {}),
    rollouts: rollouts.r,
    ...('unknown' in rollouts ? { rolloutsUnknown: rollouts.unknown } : {}),
  };
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The running rollouts that share devices and upgrade the same thing (`versionType`) to another
 * version than `targetVersion`.
 */
export function otherTargets(c: StartChecks, targetVersion: string, versionType: string): RolloutOverlap[] {
  return c.rollouts.overlaps.filter(
    (o) => o.versionType === versionType && o.targetVersion !== targetVersion,
  );
}

/**
 * Each sharing rollout in a few words: `rollout r-41 (to 2.4.0.0) has 2950 of the devices in its
 * inventory`, naming what it upgrades when that differs (`to 20240101_1_0-0.0.2, Dpi`) and the
 * new target when its own is another (`to 2.5.0.0, not 2.4.0.0`).
 */
export function describeOverlaps(c: StartChecks, targetVersion: string, versionType: string): string[] {
  return c.rollouts.overlaps.map((o) => {
    const to =
      o.versionType !== versionType
        ? `${o.targetVersion}, ${o.versionType}`
        : o.targetVersion !== targetVersion
          ? `${o.targetVersion}, not ${targetVersion}`
          : o.targetVersion;
    return `rollout ${o.rolloutId} (to ${to}) has ${o.devices} of the devices in its inventory`;
  });
}

/** What was left unread of the running rollouts, if anything: the cap, and unreadable inputs. */
export function rolloutsUnread(c: StartChecks): string | undefined {
  const r = c.rollouts;
  const parts = [
    ...(r.running > r.read
      ? [
          `only ${r.read} of ${r.running} running rollouts read (at most ${MAX_ROLLOUTS_READ}); the others not checked`,
        ]
      : []),
    ...(r.unreadable.length > 0 ? [`the inventory of ${r.unreadable.join(', ')} could not be read`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** The held devices by holding rollout, for one line: `r-1 holds 3 (sag-1, sag-2, sag-3)`. */
export function describeHeld(held: HeldDevice[], shown = 5): string[] {
  const by = new Map<string, string[]>();
  for (const h of held) by.set(h.heldBy, [...(by.get(h.heldBy) ?? []), h.smartAgId]);
  return [...by].map(([holder, ids]) => {
    const list =
      ids.slice(0, shown).join(', ') + (ids.length > shown ? `, and ${ids.length - shown} more` : '');
    return `rollout ${holder} holds ${ids.length} (${list})`;
  });
}
