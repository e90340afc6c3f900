/** The rollout list, read through the search attributes: `list` and the dashboard's front page. */

import type { Client } from '@temporalio/client';
import type { RolloutState } from '../../domain/types';
import { SA_ROLLOUT_ID, SA_ROLLOUT_STATE, SA_TARGET_VERSION } from '../../workflows/search-attributes';
import { rolloutIdOf } from './ids';

/** Every state a rollout's `SagRolloutState` can hold. */
export const ROLLOUT_STATES: readonly RolloutState[] = [
  'running',
  'paused',
  'waiting-approval',
  'waiting-window',
  'aborting',
  'completed',
  'aborted',
  'failed',
];

/** One rollout of the list: the latest run of its workflow. */
export interface RolloutSummary {
  rolloutId: string;
  workflowId: string;
  /** The rollout state its search attribute holds (`SagRolloutState`). */
  state?: string;
  targetVersion?: string;
  /** Temporal's status of the latest run: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  workflowStatus: string;
  startedAt: Date;
  closedAt?: Date;
}

/** Filters of the rollout list, matched through the search attributes. */
export interface RolloutListFilter {
  state?: string;
  targetVersion?: string;
  /** At most this many rollouts (default 50). */
  limit?: number;
}

function quote(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The visibility query of the rollout list. */
export function rolloutListQuery(filter: Omit<RolloutListFilter, 'limit'>): string {
  const parts = [`WorkflowType = 'rolloutWorkflow'`];
  if (filter.state) parts.push(`${SA_ROLLOUT_STATE.name} = ${quote(filter.state)}`);
  if (filter.targetVersion) parts.push(`${SA_TARGET_VERSION.name} = ${quote(filter.targetVersion)}`);
  return parts.join(' AND ');
}

/**
 * Lists rollouts newest first (by the start of their latest run), one entry per rollout:
 * a rollout that continued as new has a run per history, and only its latest run is kept.
 * Visibility is eventually consistent: a rollout started a moment ago may be missing.
 */
export async function listRollouts(
  client: Client,
  filter: RolloutListFilter = {},
): Promise<RolloutSummary[]> {
  const limit = filter.limit ?? 50;
  const rows = new Map<string, RolloutSummary>();
  for await (const w of client.workflow.list({
    query: rolloutListQuery(filter),
    pageSize: Math.min(limit, 100),
  })) {
    const sa = w.typedSearchAttributes;
    const row: RolloutSummary = {
      rolloutId: sa.get(SA_ROLLOUT_ID) ?? rolloutIdOf(w.workflowId),
      workflowId: w.workflowId,
      state: sa.get(SA_ROLLOUT_STATE),
      targetVersion: sa.get(SA_TARGET_VERSION),
      workflowStatus: w.status.name,
      startedAt: w.startTime,
      ...(w.closeTime ? { closedAt: w.closeTime } : {}),
    };
    const prior = rows.get(row.workflowId);
    if (!prior || prior.startedAt.getTime() < row.startedAt.getTime()) rows.set(row.workflowId, row);
    if (rows.size >= limit) break;
  }
  // Visibility orders running workflows before closed ones (and by close time among those): the
  // list is newest first by the start of each rollout's latest run, as documented.
  return [...rows.values()].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
}
