import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { ROLLOUT_STATES, listRollouts } from '../../operator/list';
import { action, globalsOf, withClient } from '../context';
import { CliError, ExitCode } from '../errors';
import { wholeNumber } from '../inputs';
import { out, outJson } from '../output';
import { renderTable } from '../render/table';

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

/** `list`: rollouts by state and target version, newest first. */
export function registerList(program: Command): void {
  program
    .command('list')
    .description(
      'list rollouts, newest first, by state or target version (search attributes SagRolloutState, SagTargetVersion)',
    )
    .option('--state <state>', `one of ${ROLLOUT_STATES.join(', ')}`)
    .option('--target-version <version>', 'only rollouts to this version')
    .option('--limit <n>', 'at most this many', (v) => wholeNumber(v, '--limit', 1), 50)
    .action(
      action(async (o: { state?: string; targetVersion?: string; limit: number }, cmd: Command) => {
        const g = globalsOf(cmd);
        const rows = await withClient(cmd, ({ client }) => listRolloutEntries(client, o));
        if (g.json) outJson(rows);
        else if (rows.length === 0) out('no rollouts match');
        else out(renderRolloutList(rows));
        return ExitCode.ok;
      }),
    );
}

function renderRolloutList(rows: RolloutListEntry[]): string {
  return renderTable(
    ['ROLLOUT', 'STATE', 'TARGET', 'WORKFLOW', 'STARTED', 'CLOSED'],
    rows.map((r) => [r.rolloutId, r.state, r.targetVersion, r.workflowStatus, r.startedAt, r.closedAt]),
  );
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
