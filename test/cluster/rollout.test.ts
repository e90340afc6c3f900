import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import type { WorkflowHandle } from '@temporalio/client';
import { devicesQuery, progressQuery } from '../../workflows/messages';
import { VERSIONS, instance } from '../helpers/fixtures';
import { connectTestEnv, uniqueName, workflowBundle } from '../helpers/temporal';
import {
  allDevices,
  inventoryOf,
  maxCallsPerSerialAndVersion,
  quickPolicy,
  resultOrExplain,
  spawnWorker,
  startRollout,
  unconfirmedProblems,
  waitFor,
  type WorkerProcess,
} from '../reliability/helpers';
import { restartServer, runCli, spawnCli } from './helpers';

const TARGET = '2.4.0.0';
const N = 36;
const ids = Array.from({ length: N }, (_, i) => `sag-cl${String(i + 1).padStart(4, '0')}`);
// Wave 1 (devices 3 to 11: 25% of the 34 after the canary) holds three devices whose first upgrade reverts: the failure budget
// (20%, at least 2) breaks in that wave.
const REVERTING = new Set([ids[3]!, ids[4]!, ids[5]!]);
const fleet = ids.map((id) =>
  instance(id, {
    simulation: REVERTING.has(id)
      ? { downloadSeconds: 0.2, upgradeSeconds: 0.5, outcomes: ['revert', 'ok'] }
      : { downloadSeconds: 0.2, upgradeSeconds: 0.6, outcome: 'ok' },
  }),
);

let sim: SimulatorHandle;
let env: TestWorkflowEnvironment;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  sim = await startSimulator({ fleet: { versions: VERSIONS, instances: fleet }, requestLogSize: 20_000 });
  env = await connectTestEnv();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await env?.teardown();
  await sim?.stop();
});

const upgradeCalls = (w: WorkerProcess) =>
  w.events.filter((e) => e.event === 'call' && e.action === 'UpdateSmartAccessGatewayVersion').length;

/** The rollout's progress; `waitFor` retries a query that fails while the server restarts. */
const progressOf = (h: WorkflowHandle) => h.query(progressQuery);

describe('a rollout on the cluster with two worker processes', () => {
  it('runs canary and waves, compensates a budget breach, survives a worker SIGKILL and a server crash, and upgrades each device once', async () => {
    const taskQueue = uniqueName('cluster');
    const address = inject('temporalAddress');
    for (let i = 0; i < 2; i++)
      workers.push(
        spawnWorker({ address, taskQueue, sim, apiRate: 100, workflowBundle: workflowBundle().codePath }),
      );
    await Promise.all(workers.map((w) => w.ready));
    const [survivor, victim] = workers as [WorkerProcess, WorkerProcess];

    const rolloutId = uniqueName('cl');
    const h = await startRollout(
      env.client,
      taskQueue,
      rolloutId,
      inventoryOf(fleet),
      quickPolicy({
        canary: { count: 2 },
        waves: { cumulativePercents: [25, 60, 100] },
        concurrency: 4,
        failureBudget: {
          maxFailurePercent: 20,
          minFailures: 2,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
        compensation: { repairHaPairs: true, requestPreviousVersion: true },
      }),
    );

    // 1. The canary passes; wave 1 breaks the budget: the rollout pauses and compensates the batch.
    const halted = await waitFor(
      'the budget breach',
      async () => {
        const p = await progressOf(h);
        return p.state === 'paused' && p.haltReason ? p : undefined;
      },
      120_000,
      500,
    );
    expect(halted.haltReason).toMatch(/failure budget/);
    expect(halted.waves.map((w) => w.name)).toEqual(['canary', 'wave-1', 'wave-2', 'wave-3']);
    expect(halted.waves[0]?.size).toBe(2);
    expect(halted.waves.reduce((n, w) => n + w.size, 0)).toBe(N);
    const listed = (await h.query(devicesQuery, { limit: 100 })).devices;
    const reverted = listed.filter((d) => REVERTING.has(d.smartAgId));
    for (const d of reverted) {
      expect(d.outcome === 'failed' || d.outcome === 'compensated').toBe(true);
      expect(d.compensation).toBeDefined();
    }
    // Nothing of waves 2 and 3 was sent while the rollout is halted.
    const later = new Set(listed.filter((d) => (d.wave ?? 0) >= 2).map((d) => d.smartAgId));
    expect(sim.devices().filter((r) => later.has(r.SmartAGId) && r.upgradeCalls > 0)).toEqual([]);
    // `list` by state reads SQL visibility.
    await waitFor(
      'the halted rollout listed as paused',
      async () => {
        const r = await runCli(['--json', 'list', '--state', 'paused', '--target-version', TARGET]);
        const rows = JSON.parse(r.stdout) as { rolloutId: string }[];
        return rows.some((x) => x.rolloutId === rolloutId) ? rows : undefined;
      },
      60_000,
      1000,
    );

    // 2. The operator resumes; mid-wave 2 one worker is SIGKILLed.
    const resumed = await runCli(['resume', rolloutId, '--yes', '--reason', 'reverts understood']);
    expect(resumed.code, resumed.stderr).toBe(0);
    await waitFor(
      'wave 2 half done',
      async () => {
        const p = await progressOf(h);
        return (p.waves[2]?.counts.upgraded ?? 0) >= 4 ? p : undefined;
      },
      120_000,
      200,
    );
    const sentByVictim = upgradeCalls(victim);
    await victim.kill('SIGKILL');

    // 3. In wave 3 the whole Temporal server crashes (SIGKILL) and comes back.
    await waitFor(
      'wave 3 under way',
      async () => {
        const p = await progressOf(h);
        return (p.waves[3]?.counts.upgraded ?? 0) >= 3 ? p : undefined;
      },
      180_000,
      200,
    );
    const restart = await restartServer('SIGKILL');
    const r = await resultOrExplain(h, 300_000);
    expect(r.state).toBe('completed');

    // 4. By the simulator's count: no serial number was sent the target twice; every device that
    // is not a reverting one runs the target after exactly one accepted call, or (a call in
    // flight on the killed worker that never arrived) is unconfirmed with none accepted.
    const devices = await allDevices(h);
    expect(maxCallsPerSerialAndVersion(sim)).toBe(1);
    expect(unconfirmedProblems(sim, devices, TARGET)).toEqual([]);
    const unconfirmed = devices.filter((d) => d.outcome === 'unconfirmed').map((d) => d.smartAgId);
    const rows = new Map(sim.devices().map((row) => [row.SmartAGId, row]));
    for (const id of ids) {
      const row = rows.get(id)!;
      if (REVERTING.has(id)) {
        expect([id, row.upgradeCallsByVersion[TARGET], row.SoftwareVersion]).toEqual([id, 1, '2.3.0.0']);
      } else if (!unconfirmed.includes(id)) {
        expect([id, row.upgradeCallsByVersion[TARGET], row.SoftwareVersion]).toEqual([id, 1, TARGET]);
      }
    }
    expect(sentByVictim).toBeGreaterThan(0);
    expect(upgradeCalls(survivor)).toBeGreaterThan(0);

    // 5. status, report, list and the dashboard read the closed rollout through the TLS profile.
    const status = await runCli(['--json', 'status', rolloutId]);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { state: string; closed: boolean; total: number };
    expect(s).toMatchObject({ state: 'completed', closed: true, total: N });
    const reportDir = mkdtempSync(path.join(inject('tmpRoot'), 'report-'));
    const report = await runCli(['report', rolloutId, '--out', reportDir]);
    expect(report.code, report.stderr).toBe(0);
    const csv = await runCli(['report', rolloutId, '--format', 'csv']);
    for (const id of ids) expect(csv.stdout).toContain(id);
    await waitFor(
      'the closed rollout listed as completed',
      async () => {
        const l = await runCli(['--json', 'list', '--state', 'completed', '--target-version', TARGET]);
        const found = (JSON.parse(l.stdout) as { rolloutId: string }[]).some(
          (x) => x.rolloutId === rolloutId,
        );
        return found ? true : undefined;
      },
      60_000,
      1000,
    );
    const other = await runCli(['--json', 'list', '--target-version', '9.9.9.9']);
    expect(JSON.parse(other.stdout)).toEqual([]);
    const dashboard = spawnCli(['dashboard', '--port', '0']);
    try {
      const url = (await dashboard.line(/^http:\/\/127\.0\.0\.1:\d+/, 60_000)).trim();
      const view = (await (await fetch(new URL(`/api/rollouts/${rolloutId}`, url))).json()) as {
        status: { state: string; counts: Record<string, number> };
      };
      expect(view.status.state).toBe('completed');
      expect(view.status.counts.upgraded).toBe(devices.filter((d) => d.outcome === 'upgraded').length);
    } finally {
      await dashboard.stop();
    }

    // 6. The follow-up sends again where the first rollout could not: the reverted devices take
    // their second upgrade, an unconfirmed one (if the kill left one) its first.
    const follow = await runCli(
      ['retry-failed', rolloutId, '--resend-unconfirmed', '--yes', '--watch', '--interval', '500ms'],
      {},
      300_000,
    );
    expect(follow.code, follow.stderr).toBe(0);
    for (const id of ids) {
      const row = sim.devices().find((x) => x.SmartAGId === id)!;
      expect([id, row.SoftwareVersion]).toEqual([id, TARGET]);
      expect([id, row.upgradeCallsByVersion[TARGET]]).toEqual([id, REVERTING.has(id) ? 2 : 1]);
    }
    console.info(
      `cluster rollout: ${N} devices, upgrade calls by worker ${upgradeCalls(survivor)}/${sentByVictim} (second one SIGKILLed), server restarted in ${restart.ms} ms, ${unconfirmed.length} unconfirmed before the follow-up`,
    );
  }, 900_000);
});
