import type { Command } from 'commander';
import { planRollout } from '../../operator/dry-run';
import { PlanStoppedError, TargetNotOfferedError } from '../../operator/plan-errors';
import { action, globalsOf } from '../context';
import { CliError, ExitCode, type ExitCodeValue } from '../errors';
import {
  cliSagClient,
  loadInventoryFrom,
  loadPolicyFrom,
  positiveNumber,
  validateAll,
  type InputFlags,
} from '../inputs';
import { policyOptions } from '../options';
import { info } from '../output';
import { writeStdout, writeStdoutJson } from '../render/stdout';
import { renderPlanText } from '../render/plan';
import { localWebhookWarnings, policyWebhookNames } from '../webhooks';

/** `plan`: the dry run of a rollout, read-only. */
export function registerPlan(program: Command): void {
  policyOptions(program.command('plan'))
    .description(
      'dry run: the waves, the next window, the estimated duration, and what the rollout would do with every device (read-only API calls)',
    )
    .option('--api-rate <r>', 'smartag read requests per second', (v) => positiveNumber(v, '--api-rate'), 20)
    .option('--devices', 'list every device with its predicted outcome (--json always does)')
    .action(action(plan));
}

async function plan(
  o: InputFlags & { apiRate: number; devices?: boolean },
  cmd: Command,
): Promise<ExitCodeValue> {
  const g = globalsOf(cmd);
  const policy = loadPolicyFrom(o);
  const sag = cliSagClient(process.env, o.apiRate);
  const inventory = await loadInventoryFrom(o, () => sag);
  validateAll(policy, inventory, {});
  for (const w of localWebhookWarnings(policyWebhookNames(policy), process.env)) info(`warning: ${w}`);
  const tty = Boolean(process.stderr.isTTY);
  try {
    const result = await planRollout(sag, inventory, policy, {
      concurrency: Math.max(1, Math.ceil(o.apiRate / 2)),
      onProgress: (done, total) => {
        if (tty && (done % 10 === 0 || done === total))
          process.stderr.write(`\rinspecting ${done}/${total}${done === total ? '\n' : ''}`);
      },
    });
    if (g.json) await writeStdoutJson(result);
    else await writeStdout(renderPlanText(result, { devices: Boolean(o.devices) }));
    return ExitCode.ok;
  } catch (err) {
    if (tty) process.stderr.write('\n');
    throw planError(err);
  }
}

/** The plan's own refusals as CLI errors (exit 2: the configuration or the target is wrong). */
function planError(err: unknown): unknown {
  if (err instanceof PlanStoppedError)
    return new CliError(err.message, ExitCode.badInput, [
      `${err.code}: ${err.detail}`,
      `${err.inspected} devices were inspected before it; no further device was`,
    ]);
  if (err instanceof TargetNotOfferedError)
    return new CliError(err.message, ExitCode.badInput, [
      'set --target-version (or targetVersion in the policy) to a version the devices are offered',
    ]);
  return err;
}
