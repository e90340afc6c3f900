import { execFile } from 'node:child_process';
import os from 'node:os';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { rolloutWorkflow } from '../../workflows/rollout';
import { progressQuery } from '../../workflows/messages';
import { fastRolloutPolicy, instance, VERSIONS } from '../helpers/fixtures';
import { connectTestEnv, uniqueName, workflowBundle } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../reliability/helpers';
import { BIN, ROOT, cli, ensureBuilt, temporalArgs, until } from './helpers';

// A worker that dies leaves the server listing it for minutes while it answers queries with
// FAILED_PRECONDITION "no poller seen for task queue recently": status says no worker is
// answering, shows what visibility holds, and a watch waits for a worker instead of failing.
let sim: SimulatorHandle;
let env: TestWorkflowEnvironment;
const workers: WorkerProcess[] = [];
const taskQueue = uniqueName('tq-dead');
const IDS = ['sag-nw01', 'sag-nw02', 'sag-nw03', 'sag-nw04'];

beforeAll(async () => {
  ensureBuilt();
  sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: IDS.map((id) =>
        instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 1.5, outcome: 'ok' } }),
      ),
    },
  });
  env = await connectTestEnv();
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await env?.teardown();
  await sim?.stop();
});

function worker(): WorkerProcess {
  const w = spawnWorker({
    address: inject('temporalAddress'),
    taskQueue,
    sim,
    workflowBundle: workflowBundle().codePath,
  });
  workers.push(w);
  return w;
}

/** The CLI in the background, its output collected as it comes. */
function background(args: string[]): { stdout: () => string; done: Promise<number> } {
  let out = '';
  const done = new Promise<number>((resolve) => {
    const p = execFile(
      process.execPath,
      [BIN, ...temporalArgs(taskQueue), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, HOME: os.tmpdir(), USER: 'tester' }, timeout: 120_000 },
      (err) => resolve(err ? (typeof err.code === 'number' ? err.code : 1) : 0),
    );
    p.stdout?.on('data', (s: string) => (out += s));
    p.stderr?.on('data', (s: string) => (out += s));
  });
  return { stdout: () => out, done };
}

describe('status after the worker died', () => {
  it('says no worker is answering, shows the last recorded state, and a watch waits for a worker', async () => {
    const first = worker();
    await first.ready;
    const rolloutId = uniqueName('dead');
    const h = await env.client.workflow.start(rolloutWorkflow, {
      workflowId: `rollout/${rolloutId}`,
      taskQueue,
      args: [
        {
          rolloutId,
          inventory: IDS.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
          // The device in flight when the worker dies is finished by the next worker: its verify
          // deadline outlasts the time without one, and an upgrade call that died with the worker
          // before it reached the simulator is sent again after the settle (no sign of it).
          policy: fastRolloutPolicy({
            concurrency: 1,
            healthRecheck: false,
            verify: { timeout: 180_000, pollInterval: 100, consecutivePolls: 2 },
            noSignAfterSettle: 'resend',
          }),
          operator: 'alice',
          taskQueue,
        },
      ],
    });
    await until(
      async () => {
        const p = await h.query(progressQuery);
        return p.counts.upgraded >= 1 ? p : undefined;
      },
      30_000,
      'a device upgraded',
    );
    await first.kill('SIGKILL');

    const once = await cli([...temporalArgs(taskQueue), 'status', rolloutId], { timeoutMs: 60_000 });
    expect(once.code, once.stdout + once.stderr).toBe(1);
    expect(once.stderr).toMatch(/no worker is (answering|running)/);
    expect(once.stderr).not.toMatch(/^Failed to query Workflow/m);
    expect(once.stdout).toMatch(
      /^state {5}running \(last recorded by the rollout; no worker is answering\)/m,
    );
    expect(once.stdout).toMatch(/^target {4}2\.4\.0\.0/m);

    const js = await cli([...temporalArgs(taskQueue), 'status', rolloutId, '--json'], { timeoutMs: 60_000 });
    expect(js.code).toBe(1);
    expect(JSON.parse(js.stdout)).toMatchObject({
      rolloutId,
      workerAnswering: false,
      state: 'running',
      workflowStatus: 'RUNNING',
      exitCode: 1,
    });

    // The watch waits for a worker, then follows the rollout to its end.
    const watch = background(['status', rolloutId, '--watch', '--interval', '0.5']);
    await until(
      async () => (/no worker is (answering|running).*; waiting/.test(watch.stdout()) ? true : undefined),
      60_000,
      'the watch to wait',
    );
    const second = worker();
    await second.ready;
    const code = await watch.done;
    expect(code, watch.stdout()).toBe(0);
    expect(watch.stdout()).toMatch(/a worker answers again/);
    expect(watch.stdout()).toMatch(/rollout closed completed: 4 upgraded/);
    // The simulator upgraded every device once.
    expect(
      sim
        .devices()
        .filter((d) => IDS.includes(d.SmartAGId))
        .map((d) => [d.SoftwareVersion, d.upgradeCalls]),
    ).toEqual(IDS.map(() => ['2.4.0.0', 1]));
    // Each read without a worker may wait out a query deadline (5 s): more than the default timeout.
  }, 180_000);
});
