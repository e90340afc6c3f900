/** What the dashboard's API answers with, read through the operator client. */

import type { Client } from '@temporalio/client';
import type { AuditEntry } from '../../domain/types';
import { listRollouts, type RolloutListFilter } from '../operator/list';
import { readAuditLog } from '../operator/read';
import { getRolloutStatus, type RolloutStatus } from '../operator/status';

/** One row of the rollout list (`GET /api/rollouts`). */
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

/**
 * The rollout list of the front page, newest start first: at most `limit` rollouts (default
 * 200, at most 1,000), one row per rollout.
 */
export async function listRolloutItems(
  client: Client,
  f: RolloutListFilter = {},
): Promise<RolloutListItem[]> {
  const limit = Math.min(Math.max(1, f.limit ?? 200), 1000);
  const rows = await listRollouts(client, { ...f, limit });
  return rows
    .map((r): RolloutListItem => ({
      rolloutId: r.rolloutId,
      workflowId: r.workflowId,
      state: r.state,
      targetVersion: r.targetVersion,
      status: r.workflowStatus,
      startedAt: r.startedAt.getTime(),
      closedAt: r.closedAt?.getTime(),
    }))
    .sort((a, b) => b.startedAt - a.startedAt);
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
  const audit = await readAuditLog(client, rolloutId);
  return { status, audit };
}
