import type { Command } from 'commander';
import { isRolloutClosed } from '../../operator/read';
import { action, defaultOperator, globalsOf, withClient } from '../context';
import { runControl } from '../control';
import { ExitCode, exitCodeForState, type ExitCodeValue } from '../errors';
import { planFollowUp, renderFollowUp, startFollowUp } from '../follow-up';
import { controlOptions, intervalOption } from '../options';
import { confirm, info, out, outJson } from '../output';
import { halted, watchMode, watchRollout } from '../watch';
import { cliIdentity } from '../identity';

interface RetryFlags {
  operator?: string;
  ticket?: string;
  yes?: boolean;
  watch?: boolean;
  interval: number;
  resendUnconfirmed?: boolean;
  exitOnHalt?: boolean;
}

/**
 * `retry-failed`: on a running rollout, an Update that queues its failed devices again; on a
 * closed one, a follow-up rollout of its failed, unconfirmed and compensated devices.
 */
export function registerRetryFailed(program: Command): void {
  const cmd = controlOptions(program.command('retry-failed <rolloutId>'))
    .description(
      'queue every failed or compensated device of a running rollout for another attempt; on a closed rollout, ' +
        'start a follow-up rollout <rolloutId>-retry-N of its failed, unconfirmed and compensated devices under its policy',
    )
    .option('--ticket <ticket>', 'closed rollout: the change ticket the follow-up runs under')
    .option(
      '--resend-unconfirmed',
      'closed rollout: send the upgrade again to an unconfirmed device that shows no sign of it within the settle (noSignAfterSettle: resend for the follow-up)',
    )
    .option('--watch', 'closed rollout: follow the follow-up until it closes (as status --watch)')
    .option(
      '--exit-on-halt',
      'with --watch: stop when the follow-up halts (exit 5) instead of waiting for a resume',
    );
  intervalOption(cmd).action(
    action(async (id: string, o: RetryFlags, c: Command) => {
      if (!(await withClient(c, ({ client }) => isRolloutClosed(client, id))))
        return runControl('retry-failed', id, c);
      return retryClosed(id, o, c);
    }),
  );
}

/** A closed rollout: its follow-up, after confirmation, followed with `--watch`. */
async function retryClosed(id: string, o: RetryFlags, cmd: Command): Promise<ExitCodeValue> {
  const g = globalsOf(cmd);
  return withClient(cmd, async ({ client, target }) => {
    const operator = o.operator ?? defaultOperator();
    const plan = await planFollowUp(client, id, {
      operator,
      ticket: o.ticket,
      taskQueue: g.taskQueue,
      env: process.env,
    });
    for (const w of plan.warnings) info(`warning: ${w}`);
    const policy = plan.input.policy;
    await confirm(
      `start follow-up rollout ${plan.id} of closed rollout ${id}: ${plan.inventory.length} devices (${plan.inventory.map((d) => d.smartAgId).join(', ')}) to ${policy.targetVersion} (${policy.versionType})${o.resendUnconfirmed ? ', sending again where no sign shows' : ''}`,
      o.yes,
    );
    const r = await startFollowUp(client, plan, {
      operator,
      operatorIdentity: cliIdentity(target),
      ticket: o.ticket,
      resendUnconfirmed: o.resendUnconfirmed,
    });
    // With --watch the output is JSON Lines, as start's: the follow-up first, one status per change after it.
    if (g.json && o.watch) out(JSON.stringify(r));
    else if (g.json) outJson(r);
    else {
      out(renderFollowUp(r));
      if (!o.watch) info(`follow it: sag-rollout status ${r.followUp.rolloutId} --watch`);
    }
    if (!o.watch) return ExitCode.ok;
    const final = await watchRollout(client, r.followUp.rolloutId, {
      ...watchMode(Boolean(g.json), o.interval),
      ...(o.exitOnHalt ? { until: halted } : {}),
    });
    return exitCodeForState(final);
  });
}
