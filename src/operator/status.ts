/** A rollout's live status, as `status` prints it and the dashboard shows it. */

import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import type {
  DeviceStatus,
  OutcomeCounts,
  RolloutProgress,
  RolloutState,
  WaveProgress,
} from '../../domain/types';
import { withCount } from '../../domain/budget';
import { emptyCounts } from '../../domain/counts';
import { CLOSED_ROLLOUT_STATES, closedWaveState } from '../../domain/wave-state';
import { devicesQuery, partProgressQuery, progressQuery, type PartProgress } from '../../workflows/messages';
import { SA_FOLLOW_UP_OF, SA_ROLLOUT_STATE, SA_TARGET_VERSION } from '../../workflows/search-attributes';
import { listFollowUps, type FollowUpEntry } from '../audit/read';
import { NoWorkerError, isDeadlineExceeded, noPollerAnswer, type RolloutLastSeen } from './errors';
import { rolloutWorkflowId } from './ids';
import { describeRollout, workerCount } from './read';

/**
 * A rollout's live status: the rollout's progress with per-device state merged from the wave
 * part running now. This is the `status --json` contract (docs/cli.md).
 */
export interface RolloutStatus extends Omit<RolloutProgress, 'state'> {
  state: RolloutState;
  /** Whether the rollout workflow has closed (its state is then final). */
  closed: boolean;
  /** The live state of the wave part running now, if any. */
  part?: PartProgress;
  /** One entry per instance of the inventory, in inventory order. */
  devices: DeviceStatus[];
  /** The rollout this one retries (a follow-up started by `retry-failed`). */
  followUpOf?: string;
  /** Follow-up rollouts that retry this one's failed devices, oldest first (closed rollouts only). */
  followUps?: FollowUpEntry[];
}

export interface StatusOptions {
  /** How long to wait for a worker to answer a query (default 5 s). */
  queryTimeoutMs?: number;
}

/**
 * Reads a rollout's status. The rollout's own `devices` query changes only when a wave part
 * finishes, so the devices of the part running now (`activePart`) override it, and the state
 * reads `waiting-window` while that part waits for a change window. Counts are recomputed from
 * the merged devices. Prints nothing: the CLI and the dashboard share it.
 *
 * @throws RolloutNotFoundError when no workflow `rollout/<rolloutId>` exists.
 * @throws NoWorkerError when no worker answers the queries within the timeout.
 */
export async function getRolloutStatus(
  client: Client,
  rolloutId: string,
  options: StatusOptions = {},
): Promise<RolloutStatus> {
  const timeoutMs = options.queryTimeoutMs ?? 5000;
  const description = await describeRollout(client, rolloutId);
  const handle = client.workflow.getHandle(rolloutWorkflowId(rolloutId));
  const workflowStatus = description.status.name;
  let progress: RolloutProgress;
  let rolloutDevices: DeviceStatus[];
  try {
    progress = await client.withDeadline(Date.now() + timeoutMs, () => handle.query(progressQuery));
    rolloutDevices = await allDevices(client, handle, timeoutMs);
  } catch (err) {
    // With no worker the query either runs into our deadline, or the server gives up on it first
    // ("Failed to query Workflow"): with no poller at all, or FAILED_PRECONDITION "no poller seen
    // for task queue recently" while it still lists a worker that died (for about five minutes).
    const pollers = await workerCount(client, description.taskQueue);
    const serverSaid = noPollerAnswer(err);
    if (isDeadlineExceeded(err) || pollers === 0 || serverSaid)
      throw new NoWorkerError(
        rolloutId,
        description.taskQueue,
        workflowStatus,
        pollers,
        lastSeenOf(rolloutId, description),
        serverSaid,
      );
    throw err;
  }

  const { part, devices } = await mergeActivePart(client, progress.activePart, rolloutDevices, timeoutMs);
  const { counts, byWave } = countOutcomes(devices);
  let state = progress.state;
  if (state === 'running' && part?.state === 'waiting-window') state = 'waiting-window';
  const closed = workflowStatus !== 'RUNNING';
  if (closed && !CLOSED_ROLLOUT_STATES.includes(state))
    state = workflowStatus === 'COMPLETED' ? 'completed' : 'failed';
  const waves: WaveProgress[] = progress.waves.map((w) => ({
    ...w,
    // A rollout terminated through Temporal never closed its waves itself.
    state: closed ? closedWaveState(w.state, state) : w.state,
    counts: byWave.get(w.index) ?? w.counts,
  }));
  // The budget as the part running now counts it, device by device: the count its halt
  // decisions evaluate (the rollout's own figure moves only when a part ends or halts).
  const live = part && part.wave >= 0 && !closed ? part : undefined;
  let failureBudget = live?.budget ? withCount(progress.failureBudget, live.budget) : progress.failureBudget;
  // The part decided to halt; the rollout hears of it once the devices in flight finished and the
  // batch was compensated. The reason shows from the decision on.
  const haltReason = progress.haltReason ?? live?.halted?.reason;
  if (!progress.haltReason && live?.halted && !live.halted.credentials)
    failureBudget = { ...failureBudget, breached: true };
  const followUpOf = description.typedSearchAttributes.get(SA_FOLLOW_UP_OF);
  // Only a closed rollout has follow-ups; a namespace without SagFollowUpOf has none to list.
  const followUps = closed ? await listFollowUps(client, rolloutId).catch(() => []) : [];
  return {
    ...progress,
    state,
    closed,
    finishedAt: progress.finishedAt ?? (closed ? description.closeTime?.getTime() : undefined),
    counts,
    waves,
    failureBudget,
    haltReason,
    // An estimate from the pace so far holds only while devices run, not while the rollout waits.
    eta: state === 'running' ? progress.eta : undefined,
    part,
    devices,
    ...(followUpOf ? { followUpOf } : {}),
    ...(followUps.length > 0 ? { followUps } : {}),
  };
}

/** What visibility and the search attributes show of a rollout without a worker. */
function lastSeenOf(rolloutId: string, d: WorkflowExecutionDescription): RolloutLastSeen {
  const sa = d.typedSearchAttributes;
  return {
    rolloutId,
    workflowStatus: d.status.name,
    state: sa.get(SA_ROLLOUT_STATE),
    targetVersion: sa.get(SA_TARGET_VERSION),
    startedAt: d.startTime.getTime(),
    ...(d.closeTime ? { closedAt: d.closeTime.getTime() } : {}),
    taskQueue: d.taskQueue,
  };
}

async function allDevices(
  client: Client,
  handle: WorkflowHandle,
  timeoutMs: number,
): Promise<DeviceStatus[]> {
  const devices: DeviceStatus[] = [];
  for (let offset = 0; ;) {
    const page = await client.withDeadline(Date.now() + timeoutMs, () =>
      handle.query(devicesQuery, { offset, limit: 1000 }),
    );
    devices.push(...page.devices);
    offset += page.devices.length;
    if (page.devices.length === 0 || offset >= page.total) break;
  }
  return devices;
}

/** The rollout's devices with those of the wave part running now laid over them. */
async function mergeActivePart(
  client: Client,
  activePart: string | undefined,
  rolloutDevices: DeviceStatus[],
  timeoutMs: number,
): Promise<{ part: PartProgress | undefined; devices: DeviceStatus[] }> {
  const merged = new Map(rolloutDevices.map((d) => [d.smartAgId, d]));
  if (!activePart) return { part: undefined, devices: [...merged.values()] };
  let part: PartProgress | undefined;
  try {
    const ph = client.workflow.getHandle(activePart);
    const readPart = () => client.withDeadline(Date.now() + timeoutMs, () => ph.query(partProgressQuery));
    part = await readPart();
    let partDevices = await allDevices(client, ph, timeoutMs);
    // The part's figures and its devices are two queries: read again when a device finished in
    // between, so the budget shown always matches the devices shown.
    for (let i = 0; i < 3; i++) {
      const again = await readPart();
      if (sameCount(again, part)) break;
      part = again;
      partDevices = await allDevices(client, ph, timeoutMs);
    }
    for (const d of partDevices) {
      const before = merged.get(d.smartAgId);
      // An exclusion recorded by the rollout stands even if the part has not applied it yet.
      if (before?.outcome === 'excluded' && d.outcome === 'pending') continue;
      merged.set(d.smartAgId, { ...d, wave: before?.wave ?? d.wave });
    }
  } catch {
    // The part may have just closed and been folded into the rollout; its own view is then stale.
    part = undefined;
  }
  return { part, devices: [...merged.values()] };
}

function sameCount(a: PartProgress, b: PartProgress): boolean {
  return a.finished === b.finished && a.failed === b.failed && a.inFlight === b.inFlight;
}

function countOutcomes(devices: DeviceStatus[]): {
  counts: OutcomeCounts;
  byWave: Map<number, OutcomeCounts>;
} {
  const counts = emptyCounts();
  const byWave = new Map<number, OutcomeCounts>();
  for (const d of devices) {
    counts[d.outcome]++;
    const c = byWave.get(d.wave) ?? emptyCounts();
    c[d.outcome]++;
    byWave.set(d.wave, c);
  }
  return { counts, byWave };
}
