import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectReport, renderReport } from '../../src/audit/report';
import { getRolloutStatus } from '../../src/operator/status';
import { devicesQuery, partProgressQuery, resumeUpdate } from '../../workflows/messages';
import { untilProgress } from '../helpers/progress';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';

// One source for every figure: mid-wave, the report of a running rollout shows what `status`
// shows (the devices, counts, failure budget and halt of the wave part running now), not the
// rollout's own device list, which moves only when a part ends.
let stack: Stack;

// Inventory order makes the plan: canary [C], wave-1 [A, B, RV, SLOW].
const C = 'sag-lvc1';
const A = 'sag-lva1';
const B = 'sag-lvb1';
/** Comes back on its old version: fails its verification and breaches the zero-failure budget. */
const RV = 'sag-lvrv';
/** Stays in its upgrade until the test ends it, so the wave part stays open. */
const SLOW = 'sag-lvsl';
const IDS = [C, A, B, RV, SLOW];

beforeAll(async () => {
  stack = await startStack({
    fleet: {
      versions: VERSIONS,
      instances: [
        instance(C),
        instance(A),
        instance(B),
        instance(RV, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'revert' } }),
        instance(SLOW, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 600, outcome: 'ok' } }),
      ],
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('the report of a running rollout', () => {
  it('shows the devices, counts, failure budget and halt that status shows while a wave part is open', async () => {
    const h = await startRolloutOf(
      stack,
      IDS,
      {
        canary: { count: 1 },
        waves: { cumulativePercents: [100] },
        concurrency: 10,
        healthRecheck: false,
        verify: { timeout: 120_000, pollInterval: 100, consecutivePolls: 2 },
        failureBudget: { maxFailurePercent: 0, minFailures: 1, maxConsecutiveFailures: 0, onBreach: 'pause' },
      },
      'live',
    );
    const rolloutId = h.workflowId.slice('rollout/'.length);
    await stack.run(async () => {
      // Wave-1's part: A, B and RV finished (RV failed, and the part decided to halt), SLOW in flight.
      const p = await untilProgress(h, 'the wave-1 part', (x) => x.currentWave === 1 && !!x.activePart);
      const part = stack.client.workflow.getHandle(p.activePart!);
      for (const deadline = Date.now() + 30_000; ;) {
        const pp = await part.query(partProgressQuery);
        if (pp.finished === 3 && pp.counts['in-progress'] === 1 && pp.halted) break;
        if (Date.now() > deadline) throw new Error(`the part never got there: ${JSON.stringify(pp)}`);
        await new Promise((r) => setTimeout(r, 100));
      }

      const report = await collectReport(stack.client, rolloutId);
      const status = await getRolloutStatus(stack.client, rolloutId);
      // The rollout's own list has not heard of the part's finished devices yet.
      const own = await h.query(devicesQuery, { offset: 0, limit: 1000 });
      expect(own.devices.filter((d) => d.wave === 1).map((d) => d.outcome)).toEqual(
        Array(4).fill('in-progress'),
      );

      expect(status.state).toBe('running');
      expect(report.progress.state).toBe(status.state);
      expect(report.devices.map(({ runs: _runs, notReversible: _nr, ...d }) => d)).toEqual(status.devices);
      expect(report.progress.counts).toEqual(status.counts);
      expect(report.waves.map((w) => w.counts)).toEqual(status.waves.map((w) => w.counts));
      expect(report.progress.failureBudget).toEqual(status.failureBudget);
      expect(report.progress.haltReason).toBe(status.haltReason);

      // The figures are the part's: the canary and A, B, RV finished, RV failed and breached.
      const outcome = Object.fromEntries(report.devices.map((d) => [d.smartAgId, d.outcome]));
      expect(outcome).toEqual({
        [C]: 'upgraded',
        [A]: 'upgraded',
        [B]: 'upgraded',
        [RV]: 'failed',
        [SLOW]: 'in-progress',
      });
      expect(report.progress.counts).toMatchObject({ upgraded: 3, failed: 1, 'in-progress': 1, pending: 0 });
      // The budget is the count that decided the halt, the figure its reason quotes: RV's failure
      // among the devices finished by then (2 to 4, as A and B finish before or after it).
      const [, failed, finished] = /^failure budget exceeded: (\d+)\/(\d+) failed/.exec(
        report.progress.haltReason ?? '',
      )!;
      expect(Number(failed)).toBe(1);
      expect(Number(finished)).toBeGreaterThanOrEqual(2);
      expect(report.progress.failureBudget).toMatchObject({
        failed: 1,
        finished: Number(finished),
        breached: true,
      });
      expect(report.failures).toEqual([
        expect.objectContaining({
          code: report.devices.find((d) => d.smartAgId === RV)!.errorCode,
          devices: [RV],
        }),
      ]);
      const html = renderReport(report, 'html');
      expect(html).toContain(`1/${finished} failed`);
      expect(html).toContain(`Halted: failure budget exceeded: 1/${finished} failed`);

      // The simulator agrees: A and B run the target, RV was asked once and stayed, SLOW is upgrading.
      const sim = new Map(stack.sim.devices().map((d) => [d.SmartAGId, d]));
      for (const id of [A, B]) {
        expect(sim.get(id)!.SoftwareVersion).toBe('2.4.0.0');
        expect(report.devices.find((d) => d.smartAgId === id)!.serials[0]!.to).toBe('2.4.0.0');
      }
      expect(sim.get(RV)).toMatchObject({ SoftwareVersion: '2.3.0.0', upgradeCalls: 1 });
      expect(sim.get(SLOW)!.upgrading).toBeDefined();

      // SLOW's upgrade ends now: the part compensates and the rollout hears of the halt.
      stack.sim.instance(SLOW)!.devices[0]!.operation!.endsAt = Date.now();
      await untilProgress(h, 'the halt reported', (x) => x.state === 'paused' && !!x.haltReason, 30_000);
      const resumed = await h.executeUpdate(resumeUpdate, {
        args: [{ by: 'alice', reason: 'test over', requestId: randomUUID() }],
      });
      expect(resumed.accepted).toBe(true);
      expect((await h.result()).state).toBe('completed');
    });
  }, 90_000);
});
