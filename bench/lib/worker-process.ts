/**
 * The rollout worker in a process of its own, so its peak resident memory and CPU can be read
 * from /proc and `node --cpu-prof` profiles only the worker.
 *
 *   node [--cpu-prof --cpu-prof-dir DIR] --import tsx bench/lib/worker-process.ts
 *
 * Configuration comes as JSON in BENCH_WORKER (see {@link WorkerProcessConfig}); the simulator's
 * secret travels in that variable, never on the command line. Prints `ready` on stdout once it
 * polls, and shuts down cleanly on SIGTERM so the CPU profile is written.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporalTarget } from '../../src/temporal/connection';
import { createRolloutWorker, type RolloutWorkerOptions } from '../../src/temporal/worker';

export interface WorkerProcessConfig {
  address: string;
  taskQueue: string;
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** An STS token sent with every call, for a key the simulator knows as an STS key. */
  securityToken?: string;
  apiRate: number;
  bundlePath: string;
  tuning?: RolloutWorkerOptions['tuning'];
  /** Extra options passed through unchanged (for example the reliability engineer's `sharedQuota`). */
  extra?: Record<string, unknown>;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_WORKER ?? '{}') as WorkerProcessConfig;
  // Per-device info lines would dominate the profile; warnings and errors still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const options: RolloutWorkerOptions = {
    // On a cluster, its temporal.toml profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) adds the TLS.
    target: process.env.TEMPORAL_CONFIG_FILE
      ? temporalTarget(process.env, { address: cfg.address, namespace: 'default' })
      : { connectionOptions: { address: cfg.address }, namespace: 'default' },
    taskQueue: cfg.taskQueue,
    credentials: {
      getCredentials: () =>
        Promise.resolve({
          accessKeyId: cfg.accessKeyId,
          accessKeySecret: cfg.accessKeySecret,
          ...(cfg.securityToken ? { securityToken: cfg.securityToken } : {}),
        }),
    },
    sagEndpoint: cfg.endpoint,
    apiRate: cfg.apiRate,
    workflowBundle: { codePath: cfg.bundlePath },
    ensureSearchAttributes: true,
    ...(cfg.tuning ? { tuning: cfg.tuning } : {}),
  };
  // One worker holds the whole rate: the cross-worker quota (`sharedQuota`) is off unless `extra`
  // turns it on.
  Object.assign(options, { sharedQuota: false }, cfg.extra);
  const w = await createRolloutWorker(options);
  const running = w.worker.run();
  process.stdout.write('ready\n');
  const stop = () => {
    w.worker.shutdown();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await running;
  await w.connection.close().catch(() => undefined);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
