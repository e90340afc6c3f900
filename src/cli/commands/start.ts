import { sharedAccount } from '../../../domain/commands';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { planWaves } from '../../../domain/plan';
import type { InventoryDevice } from '../../../domain/types';
import { planEstimate } from '../../operator/plan-estimate';
import { nextPlanWindow } from '../../operator/plan-window';
import { isValidRolloutId, startRollout, type StartResult } from '../../operator/start';
import {
  describeHeld,
  describeOverlaps,
  otherTargets,
  rolloutsUnread,
  startChecks,
  type RolloutOverlap,
} from '../../operator/start-checks';
import { action, defaultOperator, globalsOf, withClient } from '../context';
import { CliError, ExitCode, exitCodeForState, type ExitCodeValue } from '../errors';
import { cliSagClient, loadInventoryFrom, loadPolicyFrom, validateAll, type InputFlags } from '../inputs';
import { intervalOption, policyOptions } from '../options';
import { cliIdentity } from '../identity';
import { confirm, info, out, outJson, summaryShown } from '../output';
import { renderStartSummary, type StartSummary } from '../render/start-summary';
import { halted, watchMode, watchRollout } from '../watch';
import { checkWebhooksBeforeStart } from '../webhooks';

type StartFlags = InputFlags & {
  rolloutId?: string;
  yes?: boolean;
  watch?: boolean;
  interval: number;
  requireWorker?: boolean;
  allowOtherTarget?: boolean;
  exitOnHalt?: boolean;
};

/** `start`: starts a rollout of an inventory under a policy, after confirmation. */
export function registerStart(program: Command): void {
  const cmd = policyOptions(program.command('start'))
    .description('start a rollout (asks for confirmation, or --yes)')
    .option(
      '--rollout-id <id>',
      'the rollout ID (default: generated); starting an existing ID starts nothing and reports it',
    )
    .option('--ticket <ticket>', 'change ticket the rollout runs under')
    .option('--operator <name>', 'who starts it (default: the OS user)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--watch', 'follow the rollout until it closes (as status --watch)')
    .option(
      '--exit-on-halt',
      'with --watch: stop when the rollout halts (exit 5) instead of waiting for a resume',
    )
    .option('--require-worker', 'refuse to start when no worker polls the task queue (default: a warning)')
    .option(
      '--allow-other-target',
      'start even when a running rollout to another target version has devices of the inventory (default: refused)',
    );
  intervalOption(cmd).action(action(start));
}

async function start(o: StartFlags, cmd: Command): Promise<ExitCodeValue> {
  const g = globalsOf(cmd);
  const policy = loadPolicyFrom(o);
  const rolloutId = o.rolloutId !== undefined ? checkRolloutId(o.rolloutId) : undefined;
  const inventory = await loadInventoryFrom(o, () => cliSagClient(process.env, 20));
  const operator = o.operator ?? defaultOperator();
  validateAll(policy, inventory, { ticket: o.ticket, operator });
  return withClient(cmd, async ({ client, taskQueue, target }) => {
    const id = rolloutId ?? newRolloutId(policy.targetVersion);
    for (const w of await checkWebhooksBeforeStart(client, taskQueue, policy, process.env))
      info(`warning: ${w}`);
    const checks = await startChecks(
      client,
      taskQueue,
      inventory.map((d) => d.smartAgId),
      id,
    );
    // On a terminal the summary names the workers, the held devices and the running rollouts;
    // elsewhere these warnings do.
    const summarised = summaryShown(o.yes);
    if (checks.workers === 0) {
      const what = `no worker polls task queue ${taskQueue}: the rollout would wait until one starts (sag-rollout worker --task-queue ${taskQueue})`;
      if (o.requireWorker) throw new CliError(`refused: ${what}`, ExitCode.refused);
      if (!summarised) info(`warning: ${what}`);
    }
    const others = otherTargets(checks, policy.targetVersion, policy.versionType);
    if (others.length > 0 && !o.allowOtherTarget)
      throw new CliError(
        `refused: ${others.map((r) => otherTargetText(r, policy.targetVersion)).join('; ')} (--allow-other-target starts it anyway)`,
        ExitCode.refused,
      );
    if (!summarised) {
      if (checks.heldUnknown !== undefined)
        info(`warning: the held devices are unknown (${checks.heldUnknown})`);
      else if (checks.held.length > 0)
        info(
          `warning: ${checks.held.length} of the devices are held by running rollouts and will be reported HeldByAnotherRollout, not touched: ${describeHeld(checks.held).join('; ')}`,
        );
      if (checks.rolloutsUnknown !== undefined)
        info(`warning: the running rollouts are unknown (${checks.rolloutsUnknown})`);
      const shared = describeOverlaps(checks, policy.targetVersion, policy.versionType);
      checks.rollouts.overlaps.forEach((r, k) =>
        info(
          others.includes(r)
            ? `warning: ANOTHER TARGET VERSION: ${otherTargetText(r, policy.targetVersion)}`
            : `warning: running ${shared[k]}: the two rollouts race for them (whichever reaches a device first upgrades it; the other reports it HeldByAnotherRollout or finds it on the target)`,
        ),
      );
      const unread = rolloutsUnread(checks);
      if (unread !== undefined) info(`warning: running rollouts: ${unread}`);
    }
    const identity = cliIdentity(target);
    if (policy.approverMustDiffer && sharedAccount(identity))
      info(
        `warning: approverMustDiffer: the rollout would be started as ${identity}, a shared OS account that names no one, so no approval of its gates would be accepted; start it with a Temporal client certificate (cert:<subject>)`,
      );
    const summary = startSummary(inventory, {
      rolloutId: id,
      policy,
      checks,
      taskQueue,
      operator,
      ticket: o.ticket,
    });
    await confirm(confirmation(summary), o.yes, {
      text: renderStartSummary(summary),
      ask: `start rollout ${id}`,
    });
    const r = await startRollout(client, {
      rolloutId: id,
      inventory,
      policy,
      operator,
      operatorIdentity: identity,
      ticket: o.ticket,
      taskQueue,
    });
    // With --watch the output is JSON Lines: the start result is its first line, one status per change after it.
    if (g.json && o.watch) out(JSON.stringify(r));
    else if (g.json) outJson(r);
    else {
      out(renderStarted(r));
      if (r.started && !o.watch) info(`follow it: sag-rollout status ${r.rolloutId} --watch`);
    }
    if (!o.watch) return ExitCode.ok;
    const final = await watchRollout(client, r.rolloutId, {
      ...watchMode(Boolean(g.json), o.interval),
      ...(o.exitOnHalt ? { until: halted } : {}),
    });
    return exitCodeForState(final);
  });
}

/** A running rollout to another version that shares devices, and what that does to them. */
function otherTargetText(r: RolloutOverlap, targetVersion: string): string {
  return `running rollout ${r.rolloutId} targets ${r.targetVersion}, not ${targetVersion}, and has ${r.devices} of the devices in its inventory: a device both rollouts reach ends on whichever version reached it last`;
}

/**
 * What a start would do, read without touching a device: the waves and their sizes, the next
 * change window, the estimate from the wave sizes, and the checks.
 */
function startSummary(
  inventory: InventoryDevice[],
  s: Pick<StartSummary, 'rolloutId' | 'policy' | 'checks' | 'taskQueue' | 'operator' | 'ticket'>,
): StartSummary {
  const waves = planWaves(inventory, s.policy).map((w) => ({ name: w.name, size: w.devices.length }));
  return {
    ...s,
    devices: inventory.length,
    waves,
    window: nextPlanWindow(s.policy, Date.now()),
    estimate: planEstimate(
      s.policy,
      waves.map((w) => w.size),
    ),
  };
}

/**
 * The change in one line: what, to which version, in which waves, and what stands in the way.
 * The refusal without a terminal names it; on a terminal the summary stands in for it.
 */
function confirmation(s: StartSummary): string {
  const { policy, checks } = s;
  const waves = s.waves.map((w) => `${w.name} (${w.size})`).join(', ');
  const workers =
    checks.workers < 0
      ? 'workers unknown'
      : `${checks.workers} worker${checks.workers === 1 ? '' : 's'} polling`;
  const held = checks.held.length > 0 ? `; ${checks.held.length} held by other rollouts` : '';
  const shared =
    checks.rollouts.overlaps.length > 0
      ? `; ${describeOverlaps(checks, policy.targetVersion, policy.versionType).join('; ')}`
      : '';
  return `start rollout ${s.rolloutId}: ${s.devices} device${s.devices === 1 ? '' : 's'} to ${policy.targetVersion} (${policy.versionType}) in ${waves}; ${workers}${held}${shared}`;
}

function renderStarted(r: StartResult): string {
  if (!r.started)
    return `rollout ${r.rolloutId} already exists (${r.existing?.state ?? r.existing?.workflowStatus.toLowerCase()}): nothing was started`;
  return `started rollout ${r.rolloutId}: ${r.devices} device${r.devices === 1 ? '' : 's'} in ${r.waves.map((w) => `${w.name} (${w.size})`).join(', ')}`;
}

/** A fresh rollout ID: the target version, the UTC date and time, and a random suffix. */
export function newRolloutId(targetVersion: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${targetVersion.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/**
 * Checks a rollout ID given with `--rollout-id`.
 * @throws CliError (bad input).
 */
export function checkRolloutId(id: string): string {
  if (!isValidRolloutId(id)) {
    throw new CliError(
      `--rollout-id: ${JSON.stringify(id)} must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      ExitCode.badInput,
    );
  }
  return id;
}
