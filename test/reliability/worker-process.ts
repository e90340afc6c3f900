/**
 * A rollout worker in a process of its own, for tests that kill it. Run with `npx tsx`.
 *
 * Configuration (environment, or `--name=value` arguments that override it):
 *   TEMPORAL_ADDRESS   Temporal frontend, host:port
 *   TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE   a temporal.toml profile (TLS), read as the CLI reads it
 *   TASK_QUEUE         task queue to poll
 *   SAG_ENDPOINT       smartag endpoint (the simulator)
 *   SAG_ACCESS_KEY_ID, SAG_ACCESS_KEY_SECRET   keys for the endpoint
 *   SAG_SECURITY_TOKEN STS token of those keys (optional)
 *   SAG_SIGNATURE      v2 (pop-core, default) or v3 (openapi-client)
 *   API_RATE           requests per second (default 200)
 *   SAG_TIMEOUT_MS     smartag client timeout (default 2000)
 *   SHARED_QUOTA       'false' gives the worker the whole rate (default true)
 *   WORKFLOW_BUNDLE    a pre-built workflow bundle; without it the worker bundles workflows/ from source
 *   WEBHOOKS_FILE      a webhooks file; SAG_WEBHOOK_<NAME>_URL and _HEADERS are read as the CLI worker reads them
 *
 * Prints one JSON line per event on stdout: `{"event":"ready",pid}`, `{"event":"call",action,smartAgId,code}`
 * for every smartag call, `{"event":"quota",share,workers}` when its share changes.
 */
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadWebhooks } from '../../src/config/webhooks';
import { parseSagSignature } from '../../src/sag/transport';
import { temporalTarget } from '../../src/temporal/connection';
import { createRolloutWorker } from '../../src/temporal/worker';

function config(): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...process.env };
  for (const a of process.argv.slice(2)) {
    const m = /^--([A-Za-z_]+)=(.*)$/.exec(a);
    if (m) out[m[1]!.toUpperCase().replace(/-/g, '_')] = m[2];
  }
  return out;
}

function required(cfg: Record<string, string | undefined>, name: string): string {
  const v = cfg[name];
  if (!v) {
    process.stderr.write(`worker-process: ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function main(): Promise<void> {
  const cfg = config();
  const address = required(cfg, 'TEMPORAL_ADDRESS');
  const taskQueue = required(cfg, 'TASK_QUEUE');
  const endpoint = required(cfg, 'SAG_ENDPOINT');
  const accessKeyId = required(cfg, 'SAG_ACCESS_KEY_ID');
  const accessKeySecret = required(cfg, 'SAG_ACCESS_KEY_SECRET');
  const securityToken = cfg.SAG_SECURITY_TOKEN || undefined;
  const signature = parseSagSignature(cfg.SAG_SIGNATURE, 'SAG_SIGNATURE');
  Runtime.install({
    logger: new DefaultLogger('INFO', (e) =>
      process.stderr.write(`${e.level} ${e.message} ${JSON.stringify(e.meta ?? {})}\n`),
    ),
  });
  const w = await createRolloutWorker({
    target: cfg.TEMPORAL_CONFIG_FILE
      ? temporalTarget(cfg, { address, namespace: 'default' })
      : { connectionOptions: { address }, namespace: 'default' },
    taskQueue,
    credentials: {
      getCredentials: () =>
        Promise.resolve({ accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) }),
    },
    ...(signature ? { signature } : {}),
    sagEndpoint: endpoint,
    apiRate: Number(cfg.API_RATE ?? 200),
    sagTimeoutMs: Number(cfg.SAG_TIMEOUT_MS ?? 2000),
    sharedQuota: cfg.SHARED_QUOTA !== 'false',
    ensureSearchAttributes: false,
    webhooks: loadWebhooks({ env: process.env, file: cfg.WEBHOOKS_FILE }),
    ...(cfg.WORKFLOW_BUNDLE ? { workflowBundle: { codePath: cfg.WORKFLOW_BUNDLE } } : {}),
    onCall: (r) => emit({ event: 'call', action: r.action, smartAgId: r.smartAgId, code: r.code }),
  });
  let lastRate = -1;
  const timer = setInterval(() => {
    if (w.limiter.rate !== lastRate) {
      lastRate = w.limiter.rate;
      emit({ event: 'quota', rate: lastRate });
    }
  }, 100);
  timer.unref();
  const stop = () => w.worker.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const running = w.worker.run();
  emit({ event: 'ready', pid: process.pid });
  await running;
  await w.shutdown();
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-process: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
