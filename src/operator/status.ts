/** A rollout's live status, as `status` prints it and the dashboard shows it. */

import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { DeviceStatus, RolloutProgress, RolloutState, WaveProgress } from '../../domain/types';
import { CLOSED_ROLLOUT_STATES, closedWaveState } from '../../domain/wave-state';
import type { PartProgress } from '../../workflows/messages';
import { SA_FOLLOW_UP_OF, SA_ROLLOUT_STATE, SA_TARGET_VERSION } from '../../workflows/search-attributes';
import { readLiveRollout, type LiveRollout } from '../audit/live';
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
 * finishes, so the devices of the part running now (`activePart`) override it, with that part's
 * failure budget and halt decision, and the state reads `waiting-window` while that part waits
 * for a change window: the view the report reads too (`readLiveRollout`, src/audit/live.ts).
 * Counts are recomputed from the merged devices. Prints nothing: the CLI and the dashboard share it.
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
  const closed = workflowStatus !== 'RUNNING';
  let live: LiveRollout;
  try {
    live = await readLiveRollout(client, handle, { closed, queryTimeoutMs: timeoutMs });
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

  const { progress, devices, part } = live;
  let state = progress.state;
  if (closed && !CLOSED_ROLLOUT_STATES.includes(state))
    state = workflowStatus === 'COMPLETED' ? 'completed' : 'failed';
  const waves: WaveProgress[] = progress.waves.map((w) => ({
    ...w,
    // A rollout terminated through Temporal never closed its waves itself.
    state: closed ? closedWaveState(w.state, state) : w.state,
  }));
  const followUpOf = description.typedSearchAttributes.get(SA_FOLLOW_UP_OF);
  // Only a closed rollout has follow-ups; a namespace without SagFollowUpOf has none to list.
  const followUps = closed ? await listFollowUps(client, rolloutId).catch(() => []) : [];
  return {
    ...progress,
    state,
    closed,
    finishedAt: progress.finishedAt ?? (closed ? description.closeTime?.getTime() : undefined),
    waves,
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
