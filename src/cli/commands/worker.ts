import path from 'node:path';
import type { Command } from 'commander';
import { action, globalsOf, targetOf } from '../context';
import { ExitCode, type ExitCodeValue } from '../errors';
import { positiveNumber, resolveSagCredentials, sagSignature } from '../inputs';
import { signatureOption } from '../options';
import { info } from '../output';
import {
  createWorker,
  describeSignature,
  installLogging,
  REGISTER_FLAG,
  REGISTER_HELP,
} from '../rollout-worker';

interface WorkerFlags {
  apiRate: number;
  reportsDir: string;
  logLevel: string;
  webhooks?: string;
  signature?: string;
  /** False with `--no-register-search-attributes`. */
  registerSearchAttributes: boolean;
  /** False with `--no-check-credentials`. */
  checkCredentials: boolean;
}

/** `worker`: hosts the rollout workflows and activities on the task queue until Ctrl-C. */
export function registerWorker(program: Command): void {
  const cmd = program
    .command('worker')
    .description(
      'run a worker: hosts the rollout workflows and activities on the task queue (Ctrl-C stops it)',
    )
    .option(
      '--api-rate <r>',
      "the account's smartag request rate across this worker, per second",
      (v) => positiveNumber(v, '--api-rate'),
      20,
    )
    .option('--reports-dir <dir>', 'where closing rollouts write their reports', 'reports')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .option(
      '--webhooks <file>',
      "the webhooks' URLs and headers by name, YAML or JSON (default: SAG_WEBHOOKS_FILE)",
    );
  signatureOption(cmd)
    .option(REGISTER_FLAG, REGISTER_HELP)
    .option(
      '--no-check-credentials',
      'start without asking smartag (DescribeRegions, read-only) whether the credentials work',
    )
    .addHelpText(
      'after',
      `
Credentials come from the Alibaba Cloud credential chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, a profile,
an OIDC or ECS RAM role). With SAG_ENDPOINT pointing at a simulator, SAG_SIMULATOR_ACCESS_KEY_ID and
SAG_SIMULATOR_ACCESS_KEY_SECRET also do. Without credentials the worker refuses to start; with
credentials smartag refuses (DescribeRegions, read-only), it names the code and refuses too (exit 2).

Policies name their webhooks; the worker resolves each name to its URL (and headers) from
SAG_WEBHOOK_<NAME>_URL (and SAG_WEBHOOK_<NAME>_HEADERS, a JSON object) or the --webhooks file
(docs/notifications.md). The environment wins over the file.`,
    )
    .action(action(runWorker));
}

async function runWorker(o: WorkerFlags, cmd: Command): Promise<ExitCodeValue> {
  // Refuse before anything heavy starts, naming what is wrong or missing.
  const signature = sagSignature(o.signature, process.env);
  resolveSagCredentials(process.env);
  installLogging(o.logLevel);
  const target = targetOf(globalsOf(cmd));
  const { worker, credentialSource, webhooks } = await createWorker({
    target,
    taskQueue: target.taskQueue,
    apiRate: o.apiRate,
    reportsDir: path.resolve(o.reportsDir),
    env: process.env,
    webhooksFile: o.webhooks,
    signature,
    registerSearchAttributes: o.registerSearchAttributes,
    checkCredentials: o.checkCredentials,
  });
  info(
    `worker: polling task queue ${worker.taskQueue} at ${target.connectionOptions.address} (namespace ${target.namespace}); ` +
      `credentials from ${credentialSource}; smartag ${process.env.SAG_ENDPOINT ? process.env.SAG_ENDPOINT : 'regional endpoints'}, ${describeSignature(signature)}; API rate ${o.apiRate}/s; ` +
      `webhooks: ${webhooks}; Ctrl-C stops it`,
  );
  await worker.worker.run();
  await worker.connection.close().catch(() => undefined);
  info('worker: stopped');
  return ExitCode.ok;
}
