import type { Command } from 'commander';
import { planRollout } from '../../operator/dry-run';
import { action, globalsOf } from '../context';
import { ExitCode, type ExitCodeValue } from '../errors';
import {
  cliSagClient,
  loadInventoryFrom,
  loadPolicyFrom,
  positiveNumber,
  validateAll,
  type InputFlags,
} from '../inputs';
import { policyOptions } from '../options';
import { info, out, outJson } from '../output';
import { renderPlanText } from '../render/plan';
import { localWebhookWarnings, policyWebhookNames } from '../webhooks';

/** `plan`: the dry run of a rollout, read-only. */
export function registerPlan(program: Command): void {
  policyOptions(program.command('plan'))
    .description(
      'dry run: the waves, and every device that would be skipped or fail preflight, with the reason (read-only API calls)',
    )
    .option('--api-rate <r>', 'smartag read requests per second', (v) => positiveNumber(v, '--api-rate'), 20)
    .action(action(plan));
}

async function plan(o: InputFlags & { apiRate: number }, cmd: Command): Promise<ExitCodeValue> {
  const g = globalsOf(cmd);
  const policy = loadPolicyFrom(o);
  const sag = cliSagClient(process.env, o.apiRate);
  const inventory = await loadInventoryFrom(o, () => sag);
  validateAll(policy, inventory, {});
  for (const w of localWebhookWarnings(policyWebhookNames(policy), process.env)) info(`warning: ${w}`);
  const tty = Boolean(process.stderr.isTTY);
  const result = await planRollout(sag, inventory, policy, {
    concurrency: Math.max(1, Math.ceil(o.apiRate / 2)),
    onProgress: (done, total) => {
      if (tty && (done % 10 === 0 || done === total))
        process.stderr.write(`\rinspecting ${done}/${total}${done === total ? '\n' : ''}`);
    },
  });
  if (g.json) outJson(result);
  else out(renderPlanText(result));
  return ExitCode.ok;
}
