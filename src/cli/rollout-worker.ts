/** The worker as the CLI runs it (`worker`, `dev`): its logging, credentials, webhooks and signature. */

import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import { describeWebhooks, loadWebhooks } from '../config/webhooks';
import type { SagCredentialsProvider, SagSignature } from '../sag/client';
import type { TemporalTarget } from '../temporal/connection';
import { createRolloutWorker, type RolloutWorker } from '../temporal/worker';
import { CliError, ExitCode } from './errors';
import { resolveSagCredentials, sagSignature } from './inputs';

const LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * Routes the Temporal runtime's and the activities' logs to stderr, or to a file. Must run before
 * any worker or native connection exists; later calls are ignored.
 */
export function installLogging(level: string, file?: string): void {
  const upper = level.toUpperCase() as LogLevel;
  if (!LEVELS.includes(upper))
    throw new CliError(
      `--log-level: ${JSON.stringify(level)} must be one of ${LEVELS.join(', ').toLowerCase()}`,
      ExitCode.badInput,
    );
  if (file) mkdirSync(path.dirname(file), { recursive: true });
  const write = (entry: LogEntry) => {
    const meta = entry.meta && Object.keys(entry.meta).length > 0 ? ` ${JSON.stringify(entry.meta)}` : '';
    const line = `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} ${entry.level} ${entry.message}${meta}\n`;
    if (file) appendFileSync(file, line);
    else process.stderr.write(line);
  };
  try {
    Runtime.install({ logger: new DefaultLogger(upper, write) });
  } catch {
    // Already installed (a second worker in the same process): keep the first configuration.
  }
}

export interface WorkerCommandOptions {
  target: TemporalTarget;
  taskQueue: string;
  apiRate: number;
  reportsDir: string;
  env: NodeJS.ProcessEnv;
  /** `--webhooks FILE`: the webhooks' URLs and headers by name (else `SAG_WEBHOOKS_FILE`). */
  webhooksFile?: string;
  /** Credentials given in-process (`dev` shares the simulator's); otherwise from `env`. */
  credentials?: SagCredentialsProvider;
  sagEndpoint?: string;
  /** `--signature`; without it `SAG_SIGNATURE` from `env`, else `v2`. */
  signature?: string;
  /** False (`--no-register-search-attributes`): check the namespace's search attributes, add none. */
  registerSearchAttributes?: boolean;
  /** False (`--no-check-credentials`): start without asking smartag whether the credentials work. */
  checkCredentials?: boolean;
}

/** The worker's option for namespaces where it may not add search attributes (Temporal Cloud). */
export const REGISTER_FLAG = '--no-register-search-attributes';
export const REGISTER_HELP =
  'do not add missing search attributes to the namespace (Temporal Cloud, or a cluster whose operator runs `sag-rollout setup`): check them and refuse to start, naming what is missing';

/** What a worker's smartag calls go through, for its start-up line. */
export function describeSignature(signature: SagSignature): string {
  return signature === 'v3'
    ? 'signature v3 (@alicloud/openapi-client, ACS3-HMAC-SHA256)'
    : 'signature v2 (@alicloud/pop-core, HMAC-SHA1)';
}

/**
 * Creates the rollout worker. Credentials come from the Alibaba chain; with `SAG_ENDPOINT` set
 * (a simulator), `SAG_SIMULATOR_ACCESS_KEY_ID`/`_SECRET` also do. Without any, it refuses to start.
 * Webhooks come from `SAG_WEBHOOK_<NAME>_URL` (and `_HEADERS`) and the webhooks file.
 * @throws CredentialsConfigError naming what is missing; CliError for a signature other than v2 or v3;
 *   InputError for a bad webhook configuration.
 */
export async function createWorker(
  o: WorkerCommandOptions,
): Promise<{ worker: RolloutWorker; credentialSource: string; signature: SagSignature; webhooks: string }> {
  const signature = sagSignature(o.signature, o.env);
  const webhooks = loadWebhooks({ env: o.env, file: o.webhooksFile });
  let credentials = o.credentials;
  let credentialSource = 'in-process simulator';
  if (!credentials) {
    const resolved = resolveSagCredentials(o.env);
    credentials = resolved;
    credentialSource = resolved.source;
  }
  const worker = await createRolloutWorker({
    target: o.target,
    taskQueue: o.taskQueue,
    credentials,
    signature,
    sagEndpoint: o.sagEndpoint ?? (o.env.SAG_ENDPOINT || undefined),
    apiRate: o.apiRate,
    reportsDir: o.reportsDir,
    webhooks,
    registerSearchAttributes: o.registerSearchAttributes,
    ...(o.checkCredentials !== false ? { checkCredentials: { credentialSource } } : {}),
  });
  return { worker, credentialSource, signature, webhooks: describeWebhooks(webhooks) };
}
