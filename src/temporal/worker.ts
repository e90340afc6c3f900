import path from 'node:path';
import { existsSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { assertMayLeave } from '../../activities/send-deadline';
import { writeReportFiles } from '../audit/report';
import { probeHeadersFromEnv } from '../config/probe-headers';
import type { WebhookDirectory } from '../config/webhooks';
import { createSagClient, type SagCredentialsProvider, type SagSignature } from '../sag/client';
import { checkSagCredentials } from '../sag/credential-check';
import { CredentialsConfigError } from '../sag/credentials';
import type { SagClient } from '../sag/types';
import { DEFAULT_BURST_FRACTION, createRateLimiter, type RateLimiter } from '../sag/rate-limiter';
import type { ApiCallRecord } from '../sag/types';
import { checkWorkerNamespace } from './setup';
import { DEFAULT_TASK_QUEUE, connectTemporal, type TemporalTarget } from './connection';
import { startApiQuota } from './quota';
import { readLockHolder } from './lock-holder';
import { readPriorRecord } from './prior-runs';
import { projectRoot } from './tooling';

export interface RolloutWorkerOptions {
  target: TemporalTarget;
  taskQueue?: string;
  credentials: SagCredentialsProvider;
  /**
   * How smartag calls are signed: `v2` (default: pop-core, HMAC-SHA1) or `v3` (openapi-client,
   * ACS3-HMAC-SHA256).
   */
  signature?: SagSignature;
  /** smartag endpoint override (the simulator); otherwise regional Alibaba endpoints. */
  sagEndpoint?: string;
  /** The account's API request rate across everything this worker does, requests per second. */
  apiRate: number;
  sagTimeoutMs?: number;
  /** Where closing rollouts write their reports; none when undefined. */
  reportsDir?: string;
  /** A pre-built workflow bundle (tests build one per run). */
  workflowBundle?: { codePath: string } | { code: string };
  /** Worker tuning. */
  tuning?: Partial<
    Pick<
      WorkerOptions,
      | 'maxCachedWorkflows'
      | 'maxConcurrentWorkflowTaskExecutions'
      | 'maxConcurrentActivityTaskExecutions'
      | 'maxConcurrentLocalActivityExecutions'
      | 'maxConcurrentWorkflowTaskPolls'
      | 'maxConcurrentActivityTaskPolls'
    >
  >;
  onCall?: (record: ApiCallRecord) => void;
  /**
   * The webhooks this worker delivers to, by name (see src/config/webhooks.ts); a policy's named
   * webhook that is not here fails its deliveries with `WebhookNotConfigured`.
   */
  webhooks?: WebhookDirectory;
  /**
   * Check at start that the namespace exists and holds the project's search attributes (default
   * true); false skips the check, for a namespace prepared beforehand (tests).
   */
  ensureSearchAttributes?: boolean;
  /**
   * When the check finds search attributes missing, register them (default true); false only
   * names them and refuses to start, as on Temporal Cloud, where workers may not add them.
   */
  registerSearchAttributes?: boolean;
  /**
   * Ask smartag one read-only question with the credentials before polling (default false): a
   * refusal (wrong, disabled or expired key, missing permission) stops the worker from starting,
   * anything else that fails is a warning. `credentialSource` names the credentials in the message.
   */
  checkCredentials?: { credentialSource: string };
  /**
   * Share `apiRate` with every other worker on the task queue through `apiQuotaWorkflow` (default
   * true); false gives this worker the whole rate to itself.
   */
  sharedQuota?: boolean;
}

export interface RolloutWorker {
  worker: Worker;
  connection: NativeConnection;
  limiter: RateLimiter;
  taskQueue: string;
  shutdown(): Promise<void>;
}

/** Where the workflow code is: sources in development and tests, compiled JS when installed. */
export function workflowsPath(): string {
  const root = projectRoot();
  const ts = path.join(root, 'workflows', 'index.ts');
  return existsSync(ts) ? ts : path.join(root, 'dist', 'workflows', 'index.js');
}

/**
 * The worker's token bucket for smartag calls. The burst is 2% of the rate: a saturated bucket that
 * starts a second full sends `rate + burst` in that second, and the account's limit may be
 * exceeded by no more than 5% in any second (a burst of 10% measured 5.3% over).
 */
export function apiRateLimiter(apiRate: number): RateLimiter {
  return createRateLimiter(apiRate, DEFAULT_BURST_FRACTION);
}

/**
 * What runs before every smartag call of a worker: a token from the limiter, then the check that
 * the call may still leave. The limiter may hold a call past its activity's deadline; such a
 * call then never leaves (`NotSent`), because the workflow has already treated it as ambiguous.
 */
export function limitedCall(limiter: RateLimiter): (action: string) => Promise<void> {
  return async (action) => {
    await limiter.acquire();
    assertMayLeave(action);
  };
}

/**
 * The credential check before a worker polls: refused credentials stop it with the code (no
 * rollout could run on it, and one that did would halt at its first call); an answer that proves
 * nothing is a warning.
 * @throws CredentialsConfigError naming the credentials' source and Alibaba's code.
 */
async function checkCredentialsAtStart(client: SagClient, source: string): Promise<void> {
  const check = await checkSagCredentials(client);
  if (check.ok) return;
  if (check.refused)
    throw new CredentialsConfigError(
      `the credentials from ${source} were refused by smartag (DescribeRegions, a read-only call): ${check.code}: ${check.message}`,
    );
  process.stderr.write(
    `worker: warning: could not check the credentials from ${source} (DescribeRegions: ${check.code}); starting anyway: ${check.message}\n`,
  );
}

/**
 * Creates the worker that hosts every workflow and activity of the project on one task queue.
 * Every smartag call passes one token bucket, so the worker never exceeds `apiRate`.
 */
export async function createRolloutWorker(opts: RolloutWorkerOptions): Promise<RolloutWorker> {
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  const limiter = apiRateLimiter(opts.apiRate);
  const client = createSagClient({
    credentials: opts.credentials,
    ...(opts.signature ? { signature: opts.signature } : {}),
    endpoint: opts.sagEndpoint,
    timeoutMs: opts.sagTimeoutMs,
    beforeCall: limitedCall(limiter),
    onCall: opts.onCall,
  });
  if (opts.checkCredentials) await checkCredentialsAtStart(client, opts.checkCredentials.credentialSource);
  const connection = await NativeConnection.connect(opts.target.connectionOptions);
  if (opts.ensureSearchAttributes !== false) {
    try {
      const check = await checkWorkerNamespace(connection, {
        namespace: opts.target.namespace,
        address: opts.target.connectionOptions.address ?? 'localhost:7233',
        register: opts.registerSearchAttributes !== false,
      });
      for (const w of check.warnings) process.stderr.write(`worker: warning: ${w}\n`);
      if (check.registered.length > 0)
        process.stderr.write(
          `worker: registered the search attributes ${check.registered.join(', ')} on namespace ${opts.target.namespace}\n`,
        );
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
  }
  let exportReport: ((i: { rolloutId: string; workflowId: string }) => Promise<string[]>) | undefined;
  if (opts.reportsDir) {
    const dir = opts.reportsDir;
    exportReport = async ({ rolloutId }) => {
      const c = await connectTemporal(opts.target);
      try {
        return await writeReportFiles(
          new Client({ connection: c, namespace: opts.target.namespace }),
          rolloutId,
          dir,
        );
      } finally {
        await c.close();
      }
    };
  }
  const temporalClient = new Client({ connection, namespace: opts.target.namespace });
  const activities = createActivities({
    client,
    exportReport,
    webhooks: opts.webhooks ?? {},
    probeHeaders: (name) =>
      probeHeadersFromEnv(process.env, name, (m) => process.stderr.write(`worker: ${m}\n`)),
    readPriorRecord: (workflowId, runId) =>
      readPriorRecord(temporalClient, workflowId, runId, (id) => {
        process.stderr.write(
          `worker: the Temporal server has no visibility; ${id} cannot read what earlier runs left open\n`,
        );
      }),
    readLockHolder: (workflowId) => readLockHolder(temporalClient, workflowId),
  });
  const worker = await Worker.create({
    connection,
    namespace: opts.target.namespace,
    taskQueue,
    activities,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: workflowsPath() }),
    maxCachedWorkflows: 2000,
    maxConcurrentWorkflowTaskExecutions: 100,
    maxConcurrentActivityTaskExecutions: 500,
    maxConcurrentLocalActivityExecutions: 500,
    ...opts.tuning,
  });
  const quota =
    opts.sharedQuota === false
      ? undefined
      : startApiQuota({
          connection,
          namespace: opts.target.namespace,
          taskQueue,
          apiRate: opts.apiRate,
          limiter,
          isRunning: () => !['STOPPED', 'FAILED'].includes(worker.getState()),
        });
  return {
    worker,
    connection,
    limiter,
    taskQueue,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await quota?.stop();
      await connection.close().catch(() => undefined);
    },
  };
}
