import type { Client } from '@temporalio/client';
import { auditQuery } from '../../workflows/messages';
import { SA_FOLLOW_UP_OF, SA_ROLLOUT_ID, SA_ROLLOUT_STATE } from '../../workflows/search-attributes';
import type { AuditEntry, DeviceStatus, RolloutInput, RolloutProgress } from '../../domain/types';
import { rolloutWorkflowId } from '../../domain/ids';
import { readLiveRollout } from './live';

/** A rollout's state as its queries answer it, with the wave part running now laid over it. */
export interface RolloutSnapshot {
  /** The rollout's progress with the live counts, failure budget and halt of the part running now. */
  progress: RolloutProgress;
  /** Every device, those of the part running now as that part sees them. */
  devices: DeviceStatus[];
  audit: AuditEntry[];
}

/**
 * Reads a rollout's progress, every device (in pages of 1,000) and its whole audit log through
 * its queries, with the wave part running now laid over progress and devices the way `status`
 * shows them (see `readLiveRollout`). A closed rollout still answers them while a worker hosts
 * `rolloutWorkflow`.
 * @throws WorkflowNotFoundError when no rollout has this ID.
 */
export async function readRollout(client: Client, rolloutId: string): Promise<RolloutSnapshot> {
  const handle = client.workflow.getHandle(rolloutWorkflowId(rolloutId));
  const closed = (await handle.describe()).status.name !== 'RUNNING';
  const { progress, devices } = await readLiveRollout(client, handle, { closed });
  const audit = await handle.query(auditQuery, 0);
  return { progress, devices, audit };
}

/** Quotes a value for a visibility query (a list filter's string literal). */
export function quoteForVisibility(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * A rollout's workflow input as its history recorded it: the inventory, the policy, the operator
 * and the ticket (of the latest run, without the state continue-as-new carried). Reads only the
 * history's first event.
 * @throws WorkflowNotFoundError when no rollout has this ID (or its history is gone); Error when
 *   the first event holds no rollout input.
 */
export async function readRolloutInput(client: Client, rolloutId: string): Promise<RolloutInput> {
  const res = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: rolloutWorkflowId(rolloutId) },
    maximumPageSize: 1,
  });
  const started = res.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  const input = payload
    ? client.options.loadedDataConverter.payloadConverter.fromPayload<Partial<RolloutInput>>(payload)
    : undefined;
  if (!input || typeof input.rolloutId !== 'string' || !Array.isArray(input.inventory) || !input.policy) {
    throw new Error(`the history of rollout ${rolloutId} holds no rollout input`);
  }
  const { carried: _carried, ...rest } = input as RolloutInput;
  return rest;
}

/** A follow-up rollout as visibility lists it. */
export interface FollowUpEntry {
  rolloutId: string;
  /** `SagRolloutState` as the follow-up last set it. */
  state?: string;
  startedAt: number;
}

/**
 * The follow-up rollouts of a rollout (`retry-failed` on it once closed), oldest first, through
 * the `SagFollowUpOf` search attribute. Visibility is eventually consistent: one started a moment
 * ago may be missing.
 * @throws what a visibility query throws (a namespace without `SagFollowUpOf` refuses the query).
 */
export async function listFollowUps(client: Client, rolloutId: string): Promise<FollowUpEntry[]> {
  // After continue-as-new a follow-up is listed once per run: its first run's start, its latest run's state.
  const rows = new Map<string, FollowUpEntry & { latest: number }>();
  const query = `${SA_FOLLOW_UP_OF.name} = ${quoteForVisibility(rolloutId)} AND WorkflowType = 'rolloutWorkflow'`;
  for await (const w of client.workflow.list({ query })) {
    const at = w.startTime.getTime();
    const state = w.typedSearchAttributes.get(SA_ROLLOUT_STATE);
    const row = rows.get(w.workflowId) ?? {
      rolloutId: w.typedSearchAttributes.get(SA_ROLLOUT_ID) ?? w.workflowId.replace(/^rollout\//, ''),
      startedAt: at,
      latest: -Infinity,
    };
    row.startedAt = Math.min(row.startedAt, at);
    if (at > row.latest) {
      row.latest = at;
      row.state = state;
    }
    rows.set(w.workflowId, row);
  }
  return [...rows.values()]
    .map(({ latest: _latest, ...e }) => e)
    .sort((a, b) => a.startedAt - b.startedAt || a.rolloutId.localeCompare(b.rolloutId));
}
