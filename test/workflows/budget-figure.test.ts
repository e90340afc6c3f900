import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRolloutStatus, type RolloutStatus } from '../../src/operator/status';
import { untilProgress } from '../helpers/progress';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';

// One source for every figure: the failure budget that status shows (status --json, the live
// view, the dashboard) is, at every device completion, the count the halt decision evaluates.
let stack: Stack;

const IDS = Array.from({ length: 12 }, (_, i) => `sag-bfg${String(i + 1).padStart(2, '0')}`);
// Devices 5, 7 and 9 come back on their old version: each fails its verification.
const FAILING = new Set([IDS[4]!, IDS[6]!, IDS[8]!]);
const revert = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' as const } };
const slow = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'ok' as const } };

// Three in flight at once: two fail at once, a third, slower, fails after the halt was decided.
const CONCURRENT = ['sag-bfc01', 'sag-bfc02', 'sag-bfc03', 'sag-bfc04', 'sag-bfc05'];
const slowRevert = {
  simulation: { downloadSeconds: 0.05, upgradeSeconds: 2.5, outcome: 'revert' as const },
};

beforeAll(async () => {
  stack = await startStack({
    fleet: {
      versions: VERSIONS,
      instances: [
        ...IDS.map((id) => instance(id, FAILING.has(id) ? revert : slow)),
        instance(CONCURRENT[0]!, slow),
        instance(CONCURRENT[1]!, revert),
        instance(CONCURRENT[2]!, revert),
        instance(CONCURRENT[3]!, slowRevert),
        instance(CONCURRENT[4]!, slow),
      ],
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

/** The budget count as the devices shown imply it: finished and failed devices (no resume yet). */
function fromDevices(s: RolloutStatus): { failed: number; finished: number } {
  const c = s.counts;
  return { failed: c.failed + c.unconfirmed, finished: c.upgraded + c.failed + c.unconfirmed };
}

describe('the failure budget on screen', () => {
  it('follows every device completion of a wave that breaches, and equals the figure of the halt', async () => {
    const h = await startRolloutOf(
      stack,
      IDS,
      {
        canary: { count: 1 },
        waves: { cumulativePercents: [100] },
        concurrency: 1,
        healthRecheck: false,
        failureBudget: {
          maxFailurePercent: 10,
          minFailures: 2,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
      },
      'figure',
    );
    const rolloutId = h.workflowId.slice('rollout/'.length);
    const seen: { failed: number; finished: number }[] = [];
    let halted: RolloutStatus | undefined;
    const deadline = Date.now() + 60_000;
    while (!halted) {
      expect(Date.now() < deadline, `no halt; figures seen: ${JSON.stringify(seen)}`).toBe(true);
      const s = await getRolloutStatus(stack.client, rolloutId);
      if (s.haltReason) {
        halted = s;
        break;
      }
      // Before the halt every figure is the devices' own count, whichever part runs.
      const fb = s.failureBudget;
      expect({ failed: fb.failed, finished: fb.finished }).toEqual(fromDevices(s));
      const last = seen[seen.length - 1];
      if (!last || last.finished !== fb.finished) seen.push({ failed: fb.failed, finished: fb.finished });
      await new Promise((r) => setTimeout(r, 20));
    }
    // Every completion was seen on its own (one device in flight at a time), failures included.
    expect(seen.map((x) => x.finished)).toEqual(Array.from({ length: seen.length }, (_, i) => i));
    expect(seen.some((x) => x.failed === 1)).toBe(true);

    // Devices 5 and 7 failed: 2 of the 7 finished breach 10%.
    expect(halted.haltReason).toBe('failure budget exceeded: 2/7 failed (28.6% > 10%)');
    const [, n, m] = /(\d+)\/(\d+) failed/.exec(halted.haltReason ?? '')!;
    expect(halted.failureBudget.failed).toBe(Number(n));
    expect(halted.failureBudget.finished).toBe(Number(m));
    expect(halted.failureBudget.breached).toBe(true);
    // The simulator agrees: the two failed devices were asked to upgrade and stayed on 2.3.0.0.
    const sim = new Map(stack.sim.devices().map((d) => [d.SmartAGId, d]));
    const failedOnSim = IDS.slice(0, 7).filter(
      (id) => sim.get(id)!.upgradeCalls > 0 && sim.get(id)!.SoftwareVersion === '2.3.0.0',
    );
    expect(failedOnSim).toEqual([IDS[4], IDS[6]]);
    // The rollout's own query holds the same figure once the part reported the halt.
    const own = await untilProgress(h, 'the halt reported', (p) => p.haltReason !== undefined, 30_000);
    expect(own.haltReason).toBe(halted.haltReason);
    expect(own.failureBudget).toMatchObject({ failed: 2, finished: 7, breached: true });
    const after = await getRolloutStatus(stack.client, rolloutId);
    expect(after.failureBudget).toMatchObject({ failed: 2, finished: 7, breached: true });
    await h.terminate('test over');
  });

  it('keeps the figure that decided a halt while the devices in flight at the decision finish', async () => {
    const h = await startRolloutOf(
      stack,
      CONCURRENT,
      {
        canary: { count: 1 },
        waves: { cumulativePercents: [100] },
        concurrency: 3,
        healthRecheck: false,
        failureBudget: {
          maxFailurePercent: 10,
          minFailures: 2,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
      },
      'figure-c3',
    );
    const rolloutId = h.workflowId.slice('rollout/'.length);
    // The canary and two quick failures: 2 of 3 finished decide the halt while the slow one flashes.
    const reason = 'failure budget exceeded: 2/3 failed (66.7% > 10%)';
    const decided = { failed: 2, finished: 3, breached: true };
    let shown = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      expect(Date.now() < deadline, 'the rollout never heard of the halt').toBe(true);
      const s = await getRolloutStatus(stack.client, rolloutId);
      if (s.haltReason) {
        expect(s.haltReason).toBe(reason);
        expect(s.failureBudget).toMatchObject(decided);
        shown++;
      }
      if (s.state === 'paused') {
        // Heard once the slow device failed too (and the batch was compensated): three devices
        // failed, the figure is the decision's.
        expect(s.counts.failed + s.counts.compensated, JSON.stringify(s.counts)).toBe(3);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // The halt was on screen while the slow device was still in flight, not only once paused.
    expect(shown).toBeGreaterThan(3);
    const own = await untilProgress(h, 'the halt reported', (p) => p.haltReason !== undefined, 30_000);
    expect(own.haltReason).toBe(reason);
    expect(own.failureBudget).toMatchObject(decided);
    // The simulator: the three failed devices were each asked once and stayed on 2.3.0.0.
    const sim = new Map(stack.sim.devices().map((d) => [d.SmartAGId, d]));
    for (const id of CONCURRENT.slice(1, 4))
      expect(sim.get(id)).toMatchObject({ upgradeCalls: 1, SoftwareVersion: '2.3.0.0' });
    await h.terminate('test over');
  });
});
