import type { Client } from '@temporalio/client';
import { ROLLOUT_STATES, listRollouts } from '../../operator/list';
import { CliError, ExitCode } from '../errors';

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

/**
 * Lists rollouts through the search attributes, newest first, at most `limit` (default 50).
 * @throws CliError (bad input) for a state no rollout can be in.
 */
export async function listRolloutEntries(
  client: Client,
  filter: { state?: string; targetVersion?: string; limit?: number },
): Promise<RolloutListEntry[]> {
  if (filter.state && !(ROLLOUT_STATES as readonly string[]).includes(filter.state)) {
    throw new CliError(
      `--state: ${JSON.stringify(filter.state)} must be one of ${ROLLOUT_STATES.join(', ')}`,
      ExitCode.badInput,
    );
  }
  const rows = await listRollouts(client, filter);
  return rows.map((r) => ({
    rolloutId: r.rolloutId,
    workflowId: r.workflowId,
    state: r.state,
    targetVersion: r.targetVersion,
    workflowStatus: r.workflowStatus,
    startedAt: r.startedAt.toISOString(),
    ...(r.closedAt ? { closedAt: r.closedAt.toISOString() } : {}),
  }));
}
