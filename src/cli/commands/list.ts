import type { Client } from '@temporalio/client';
import { SA_ROLLOUT_ID, SA_ROLLOUT_STATE, SA_TARGET_VERSION } from '../../../workflows/search-attributes';
import { CliError, ExitCode } from '../errors';

const STATES = [
  'running',
  'paused',
  'waiting-approval',
  'waiting-window',
  'aborting',
  'completed',
  'aborted',
  'failed',
] as const;

/** One row of `list` (the `--json` contract is an array of these). */
export interface RolloutListEntry {
  rolloutId: string;
  workflowId: string;
  /** The rollout state its search attribute holds (`SagRolloutState`). */
  state?: string;
  targetVersion?: string;
  /** Temporal's own status of the workflow: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  workflowStatus: string;
  startedAt: string;
  closedAt?: string;
}

function quote(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The visibility query for rollouts, filtered by state and target version. */
export function listQuery(filter: { state?: string; targetVersion?: string }): string {
  const parts = [`WorkflowType = 'rolloutWorkflow'`];
  if (filter.state) {
    if (!(STATES as readonly string[]).includes(filter.state)) {
      throw new CliError(
        `--state: ${JSON.stringify(filter.state)} must be one of ${STATES.join(', ')}`,
        ExitCode.badInput,
      );
    }
    parts.push(`${SA_ROLLOUT_STATE.name} = ${quote(filter.state)}`);
  }
  if (filter.targetVersion) parts.push(`${SA_TARGET_VERSION.name} = ${quote(filter.targetVersion)}`);
  return parts.join(' AND ');
}

/** Lists rollouts through the search attributes, newest first, at most `limit`. */
export async function listRollouts(
  client: Client,
  filter: { state?: string; targetVersion?: string; limit?: number },
): Promise<RolloutListEntry[]> {
  const query = listQuery(filter);
  const limit = filter.limit ?? 50;
  const out: RolloutListEntry[] = [];
  for await (const w of client.workflow.list({ query, pageSize: Math.min(100, limit) })) {
    const sa = w.typedSearchAttributes;
    out.push({
      rolloutId: sa.get(SA_ROLLOUT_ID) ?? w.workflowId.replace(/^rollout\//, ''),
      workflowId: w.workflowId,
      state: sa.get(SA_ROLLOUT_STATE),
      targetVersion: sa.get(SA_TARGET_VERSION),
      workflowStatus: w.status.name,
      startedAt: w.startTime.toISOString(),
      ...(w.closeTime ? { closedAt: w.closeTime.toISOString() } : {}),
    });
    if (out.length >= limit) break;
  }
  return out;
}
