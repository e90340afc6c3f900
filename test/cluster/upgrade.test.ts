import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { progressQuery, resumeUpdate } from '../../workflows/messages';
import { VERSIONS, instance } from '../helpers/fixtures';
import { connectTestEnv, uniqueName } from '../helpers/temporal';
import { inventoryOf, quickPolicy, startRollout, untilProgress } from '../reliability/helpers';
import { spawnScript, type LongCli } from './helpers';

/**
 * Build N: the commit before `patched('resume-fresh-budget')` entered the rollout workflow (a
 * resume after a halt now starts a fresh failure budget). The current checkout is build N+1.
 */
const BUILD_N = 'fbdde56';
const PATCH_ID = 'resume-fresh-budget';
const ROOT = path.resolve(__dirname, '../..');
const BUILD_WORKER = path.join(__dirname, 'build-worker.ts');
const TARGET = '2.4.0.0';

const hasBuildN = spawnSync('git', ['cat-file', '-e', `${BUILD_N}^{commit}`], { cwd: ROOT }).status === 0;

const ids = Array.from({ length: 12 }, (_, i) => `sag-up${String(i + 1).padStart(4, '0')}`);
// Wave 1 (devices 2 to 6) holds two devices whose upgrade reverts: the budget (20%, at least 2) breaks.
const REVERTING = new Set([ids[2]!, ids[3]!]);
const fleet = ids.map((id) =>
  instance(id, {
    simulation: REVERTING.has(id)
      ? { downloadSeconds: 0.1, upgradeSeconds: 0.3, outcome: 'revert' }
      : { downloadSeconds: 0.1, upgradeSeconds: 0.4, outcome: 'ok' },
  }),
);

let sim: SimulatorHandle;
let env: TestWorkflowEnvironment;
let oldRoot: string;
const procs: LongCli[] = [];

/** Checks build N out of git into a folder of its own (sharing node_modules). */
function checkoutBuild(commit: string): string {
  const dir = path.join(inject('tmpRoot'), `build-${commit}`);
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', commit], {
    cwd: ROOT,
    maxBuffer: 512 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function startBuildWorker(root: string, taskQueue: string): LongCli {
  const w = spawnScript(BUILD_WORKER, [], {
    BUILD_ROOT: root,
    TASK_QUEUE: taskQueue,
    SAG_ENDPOINT: sim.endpoint,
    SAG_ACCESS_KEY_ID: sim.accessKeyId,
    SAG_ACCESS_KEY_SECRET: sim.accessKeySecret,
  });
  procs.push(w);
  return w;
}

/** The patch markers of a history, each as its JSON (`{"id":"…","deprecated":false}`). */
function patchMarkers(events: temporal.api.history.v1.IHistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_patch') return [];
    return Object.values(m.details ?? {}).flatMap((p) =>
      (p.payloads ?? []).map((x) => Buffer.from(x.data ?? new Uint8Array()).toString('utf8')),
    );
  });
}

beforeAll(async () => {
  if (!hasBuildN) return;
  sim = await startSimulator({ fleet: { versions: VERSIONS, instances: fleet } });
  env = await connectTestEnv();
  oldRoot = checkoutBuild(BUILD_N);
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await env?.teardown();
  await sim?.stop();
});

describe.skipIf(!hasBuildN)('replacing the workers with a newer build while a rollout runs', () => {
  it(`starts a rollout on build ${BUILD_N}, finishes it on the current build through patched('${PATCH_ID}'), and both builds replay their histories`, async () => {
    const taskQueue = uniqueName('upgrade');
    const rolloutId = uniqueName('up');

    // Build N runs the rollout until the failure budget halts it in wave 1.
    const workerN = startBuildWorker(oldRoot, taskQueue);
    await workerN.line(/"event":"ready"/, 300_000);
    const h = await startRollout(
      env.client,
      taskQueue,
      rolloutId,
      inventoryOf(fleet),
      quickPolicy({
        canary: { count: 2 },
        waves: { cumulativePercents: [50, 100] },
        concurrency: 3,
        failureBudget: {
          maxFailurePercent: 20,
          minFailures: 2,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
      }),
    );
    const halted = await untilProgress(
      h,
      'the budget halt',
      (p) => p.state === 'paused' && !!p.haltReason,
      120_000,
    );
    expect(halted.haltReason).toMatch(/failure budget/);
    const historyN = await h.fetchHistory();

    // The operator replaces the workers: build N stops cleanly, the current build takes over.
    await workerN.stop('SIGTERM');
    const workerN1 = startBuildWorker(ROOT, taskQueue);
    await workerN1.line(/"event":"ready"/, 300_000);
    const resumed = await h.executeUpdate(resumeUpdate, {
      args: [{ by: 'alice', reason: 'reverting devices set aside', requestId: uniqueName('req') }],
    });
    expect(resumed.accepted).toBe(true);
    const result = await h.result();
    expect(result.state).toBe('completed');
    expect((await h.query(progressQuery)).counts.upgraded).toBe(ids.length - REVERTING.size);

    // Each device was sent the target once, by the simulator's count, across both builds.
    for (const row of sim.devices())
      expect([row.SmartAGId, row.upgradeCallsByVersion[TARGET]]).toEqual([row.SmartAGId, 1]);

    // The change of build N+1 ran: its patch marker is in the history, after build N's events.
    const historyFinal = await h.fetchHistory();
    expect(patchMarkers(historyN.events ?? []).some((m) => m.includes(PATCH_ID))).toBe(false);
    expect(patchMarkers(historyFinal.events ?? []).some((m) => m.includes(PATCH_ID))).toBe(true);

    // Replays: build N's history on build N and on build N+1; the whole history on build N+1.
    const bundleN = await bundleWorkflowCode({
      workflowsPath: path.join(oldRoot, 'workflows', 'index.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const bundleN1 = { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
    await Worker.runReplayHistory(
      { workflowBundle: { code: bundleN.code } },
      historyN,
      `rollout/${rolloutId}`,
    );
    await Worker.runReplayHistory({ workflowBundle: bundleN1 }, historyN, `rollout/${rolloutId}`);
    await Worker.runReplayHistory({ workflowBundle: bundleN1 }, historyFinal, `rollout/${rolloutId}`);
    await workerN1.stop('SIGTERM');
  }, 900_000);
});
