import type { Client } from '@temporalio/client';
import { getRolloutStatus, type RolloutStatus } from '../cli/status';
import { auditQuery } from '../../workflows/messages';
import { SA_ROLLOUT_ID, SA_ROLLOUT_STATE, SA_TARGET_VERSION } from '../../workflows/search-attributes';
import type { AuditEntry } from '../../domain/types';
import { rolloutWorkflowId } from '../../domain/ids';

/** One row of the rollout list. */
export interface RolloutListItem {
  rolloutId: string;
  workflowId: string;
  /** `SagRolloutState` as the rollout last set it. */
  state?: string;
  targetVersion?: string;
  /** Temporal's execution status of the latest run. */
  status: string;
  startedAt: number;
  closedAt?: number;
}

/** Filters of the rollout list, matched through the search attributes. */
export interface RolloutListFilter {
  state?: string;
  targetVersion?: string;
  limit?: number;
}

function quote(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The visibility query of the rollout list. */
export function rolloutListQuery(f: RolloutListFilter): string {
  const parts = [`WorkflowType = 'rolloutWorkflow'`];
  if (f.state) parts.push(`${SA_ROLLOUT_STATE.name} = ${quote(f.state)}`);
  if (f.targetVersion) parts.push(`${SA_TARGET_VERSION.name} = ${quote(f.targetVersion)}`);
  return parts.join(' AND ');
}

/**
 * Lists rollouts, newest first, one row per rollout (the latest run after continue-as-new).
 * Visibility is eventually consistent: a rollout started a moment ago may be missing.
 */
export async function listRollouts(client: Client, f: RolloutListFilter = {}): Promise<RolloutListItem[]> {
  const limit = Math.min(Math.max(1, f.limit ?? 200), 1000);
  const rows = new Map<string, RolloutListItem>();
  for await (const w of client.workflow.list({
    query: rolloutListQuery(f),
    pageSize: Math.min(limit, 100),
  })) {
    const item: RolloutListItem = {
      rolloutId: w.typedSearchAttributes.get(SA_ROLLOUT_ID) ?? w.workflowId.replace(/^rollout\//, ''),
      workflowId: w.workflowId,
      state: w.typedSearchAttributes.get(SA_ROLLOUT_STATE),
      targetVersion: w.typedSearchAttributes.get(SA_TARGET_VERSION),
      status: w.status.name,
      startedAt: w.startTime.getTime(),
      closedAt: w.closeTime?.getTime(),
    };
    const prior = rows.get(item.workflowId);
    if (!prior || prior.startedAt < item.startedAt) rows.set(item.workflowId, item);
    if (rows.size >= limit) break;
  }
  return [...rows.values()].sort((a, b) => b.startedAt - a.startedAt);
}

/** What the rollout page shows: the live status and the audit log. */
export interface RolloutView {
  status: RolloutStatus;
  audit: AuditEntry[];
}

/**
 * Reads a rollout's live status (devices of the running wave part merged in) and its audit log.
 * @throws RolloutNotFoundError, NoWorkerError (from getRolloutStatus).
 */
export async function readRolloutView(client: Client, rolloutId: string): Promise<RolloutView> {
  const status = await getRolloutStatus(client, rolloutId);
  const audit = await client.workflow.getHandle(rolloutWorkflowId(rolloutId)).query(auditQuery, 0);
  return { status, audit };
}
