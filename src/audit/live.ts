/**
 * A rollout as it stands now: its own progress and devices with the wave part running now laid
 * over them. The rollout's `devices` query and its failure budget move only when a wave part
 * ends; the part running now (`activePart`) counts every device as it finishes. The report
 * (`readRollout`) and `status` (src/operator/status.ts) both read this view, so every figure they
 * show comes from one place.
 */

import type { Client, WorkflowHandle } from '@temporalio/client';
import { withCount } from '../../domain/budget';
import { countOutcomes } from '../../domain/counts';
import { estimateEnd } from '../../domain/eta';
import type { DeviceStatus, OutcomeCounts, RolloutProgress } from '../../domain/types';
import { devicesQuery, partProgressQuery, progressQuery, type PartProgress } from '../../workflows/messages';

/** A rollout's progress and devices with the part running now laid over them. */
export interface LiveRollout {
  /**
   * The rollout's progress with `counts` and each wave's `counts` recomputed from `devices`, the
   * failure budget as the part running now counts it, its halt decision in `haltReason`, and
   * `state` reading `waiting-window` while that part waits for a change window.
   */
  progress: RolloutProgress;
  /** One entry per instance of the inventory, in inventory order. */
  devices: DeviceStatus[];
  /** The live state of the wave part running now (started last, with `overlapParts`), if it answered. */
  part?: PartProgress;
}

/** A running part as read: its progress and devices. */
export interface LivePart {
  part: PartProgress;
  devices: DeviceStatus[];
}

/** How {@link readLiveRollout} reads. */
export interface LiveOptions {
  /**
   * Whether the rollout's workflow has closed: the part of a rollout terminated through Temporal
   * may still answer, but its budget and halt no longer speak for the rollout.
   */
  closed: boolean;
  /** Deadline of each query in ms (none when absent). */
  queryTimeoutMs?: number;
}

/**
 * Reads the rollout's progress, all its devices (pages of 1,000) and, when a wave part runs, that
 * part's progress and devices, and lays them over each other ({@link overlayPart}).
 * @throws what the rollout's queries throw (a deadline when no worker answers, WorkflowNotFoundError);
 *   a part that cannot be read (it just closed) is left out, never thrown.
 */
export async function readLiveRollout(
  client: Client,
  handle: WorkflowHandle,
  options: LiveOptions,
): Promise<LiveRollout> {
  const ask = asker(client, options.queryTimeoutMs);
  const progress = await ask(() => handle.query(progressQuery));
  const devices = await allDevices(handle, ask);
  const ids = progress.activeParts ?? (progress.activePart ? [progress.activePart] : []);
  const parts: (LivePart & { workflowId: string })[] = [];
  for (const workflowId of ids) {
    const p = await readPart(client, workflowId, ask);
    if (p) parts.push({ ...p, workflowId });
  }
  const active = parts.find((p) => p.workflowId === progress.activePart) ?? parts.at(-1);
  const others = parts.filter((p) => p !== active);
  return overlayPart(progress, devices, active, options.closed, Date.now(), others);
}

type Ask = <T>(fn: () => Promise<T>) => Promise<T>;

function asker(client: Client, timeoutMs: number | undefined): Ask {
  return (fn) => (timeoutMs === undefined ? fn() : client.withDeadline(Date.now() + timeoutMs, fn));
}

async function allDevices(handle: WorkflowHandle, ask: Ask): Promise<DeviceStatus[]> {
  const devices: DeviceStatus[] = [];
  for (let offset = 0; ;) {
    const page = await ask(() => handle.query(devicesQuery, { offset, limit: 1000 }));
    devices.push(...page.devices);
    offset += page.devices.length;
    if (page.devices.length === 0 || offset >= page.total) break;
  }
  return devices;
}

/**
 * The part's progress and its devices, consistent with each other. They are two queries, and a
 * device may finish between them: the progress carries the part's outcome counts, so a device
 * list that does not add up to them is read once more with the progress after it. Undefined when
 * the part does not answer (it may have just closed and been folded into the rollout).
 */
async function readPart(
  client: Client,
  workflowId: string,
  ask: Ask,
): Promise<{ part: PartProgress; devices: DeviceStatus[] } | undefined> {
  const ph = client.workflow.getHandle(workflowId);
  try {
    let devices = await allDevices(ph, ask);
    let part = await ask(() => ph.query(partProgressQuery));
    if (!sameCounts(countOutcomes(devices), part.counts)) {
      devices = await allDevices(ph, ask);
      part = await ask(() => ph.query(partProgressQuery));
    }
    return { part, devices };
  } catch {
    return undefined;
  }
}

function sameCounts(a: OutcomeCounts, b: OutcomeCounts): boolean {
  return (Object.keys(a) as (keyof OutcomeCounts)[]).every((k) => a[k] === b[k]);
}

/**
 * Lays the part running now over the rollout: its devices over the rollout's (an exclusion the
 * rollout recorded stands while the part has not applied it yet), counts recomputed from the
 * merged devices, the failure budget as the part counts it and its halt decision (the rollout
 * hears of a halt only once the devices in flight finished and the batch was compensated).
 * With `overlapParts`, the wave's other running parts (`others`) lay their devices and a halt
 * decision over it too; the budget is the one the part started last counts. Pure.
 */
export function overlayPart(
  progress: RolloutProgress,
  rolloutDevices: DeviceStatus[],
  active: LivePart | undefined,
  closed: boolean,
  now = Date.now(),
  others: LivePart[] = [],
): LiveRollout {
  const merged = new Map(rolloutDevices.map((d) => [d.smartAgId, d]));
  for (const d of [...others, ...(active ? [active] : [])].flatMap((p) => p.devices)) {
    const before = merged.get(d.smartAgId);
    // An exclusion recorded by the rollout stands even if the part has not applied it yet.
    if (before?.outcome === 'excluded' && d.outcome === 'pending') continue;
    merged.set(d.smartAgId, { ...d, wave: before?.wave ?? d.wave });
  }
  const devices = [...merged.values()];
  const part = active?.part;

  const counts = countOutcomes(devices);
  const waves = progress.waves.map((w) => {
    const of = devices.filter((d) => d.wave === w.index);
    return { ...w, counts: of.length > 0 ? countOutcomes(of) : w.counts };
  });

  // A compensation-only part (wave -1) counts nothing in the budget.
  const live = part && part.wave >= 0 && !closed ? part : undefined;
  // A part that decided a halt speaks for the budget: its figure is the one its reason quotes.
  const haltedPart = closed ? undefined : [live, ...others.map((o) => o.part)].find((p) => p?.halted);
  const counting = haltedPart ?? live;
  let failureBudget = counting?.budget
    ? withCount(progress.failureBudget, counting.budget)
    : progress.failureBudget;
  const halted = haltedPart?.halted;
  const haltReason = progress.haltReason ?? halted?.reason;
  // A credential halt is no breach of the budget.
  if (!progress.haltReason && halted && !halted.credentials)
    failureBudget = { ...failureBudget, breached: true };
  // Waiting for a change window: the parts still to start devices all wait for one.
  const starting = [...others.map((o) => o.part), ...(part ? [part] : [])].filter(
    (p) => p.state !== 'done' && p.inFlight + p.counts.pending > 0,
  );
  const waitingWindow =
    part?.state === 'waiting-window' && starting.every((p) => p.state === 'waiting-window');
  const state = progress.state === 'running' && waitingWindow ? 'waiting-window' : progress.state;
  // From the devices as they finish, not as parts end; none while a halt plays out or anything waits.
  const eta =
    state === 'running' && haltReason === undefined
      ? estimateEnd(counts, progress.startedAt, now)
      : undefined;

  return {
    progress: {
      ...progress,
      state,
      counts,
      waves,
      failureBudget,
      ...(haltReason !== undefined ? { haltReason } : {}),
      eta,
    },
    devices,
    ...(part ? { part } : {}),
  };
}
