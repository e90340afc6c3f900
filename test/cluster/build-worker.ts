/**
 * A rollout worker of a given build of sag-rollout: the code (workflows, activities, worker) is
 * loaded from BUILD_ROOT, a checkout of any commit, so a test can run build N and then build
 * N+1 against the same rollout. Run with `node --import tsx`.
 *
 * Environment: BUILD_ROOT (default: this checkout), TASK_QUEUE, SAG_ENDPOINT,
 * SAG_ACCESS_KEY_ID, SAG_ACCESS_KEY_SECRET, and the Temporal connection as the CLI reads it
 * (TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE, or TEMPORAL_ADDRESS and TEMPORAL_TLS_*).
 * Prints `{"event":"ready","pid":..}` once polling; SIGTERM shuts it down cleanly.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { temporalTarget } from '../../src/temporal/connection';
import type { createRolloutWorker as Create } from '../../src/temporal/worker';

async function main(): Promise<void> {
  const root = path.resolve(process.env.BUILD_ROOT ?? path.join(__dirname, '../..'));
  const need = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const load = createRequire(path.join(root, 'package.json'));
  // The build's own worker factory: its activities, and its workflows bundled from its sources.
  const { createRolloutWorker } = load(path.join(root, 'src', 'temporal', 'worker.ts')) as {
    createRolloutWorker: typeof Create;
  };
  const accessKeyId = need('SAG_ACCESS_KEY_ID');
  const accessKeySecret = need('SAG_ACCESS_KEY_SECRET');
  const w = await createRolloutWorker({
    target: temporalTarget(process.env),
    taskQueue: need('TASK_QUEUE'),
    credentials: { getCredentials: () => Promise.resolve({ accessKeyId, accessKeySecret }) },
    sagEndpoint: need('SAG_ENDPOINT'),
    apiRate: 200,
    sagTimeoutMs: 2000,
  });
  process.once('SIGTERM', () => w.worker.shutdown());
  const running = w.worker.run();
  process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid, root })}\n`);
  await running;
  await w.shutdown();
}

main().catch((err: unknown) => {
  process.stderr.write(`build-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
