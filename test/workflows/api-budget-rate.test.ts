/**
 * A budget smaller than the rollout needs slows it down instead of exceeding the rate: the
 * worker's limiter holds every call (shared list pages included) to the rate the simulator counts,
 * and the part starts devices only as fast as their expected calls fit `apiBudget.requestsPerSecond`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { eventually } from '../simulator/helpers';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const sim = { simulation: { downloadSeconds: 0.2, upgradeSeconds: 0.3 } };
const LEVERS = { firstPollAfter: 400, bulkStatus: true, shareVersions: true };

describe('a read budget smaller than needed', () => {
  it('slows the rollout down and never exceeds the rate in any second', async () => {
    const RATE = 8;
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => `sag-rate${s}`);
    stack = await startStack(
      { fleet: { versions: VERSIONS, instances: ids.map((id) => instance(id, sim)) }, requestLogSize: 5000 },
      { apiRate: RATE },
    );
    const s = stack;
    s.sim.resetStats();
    const started = Date.now();
    const handle = await s.run(() => startRolloutOf(s, ids, { concurrency: 6, apiBudget: LEVERS }, 'rate'));
    const r = await handle.result();
    const elapsedS = (Date.now() - started) / 1000;
    expect(r.state).toBe('completed');
    expect(r.counts.upgraded).toBe(ids.length);
    for (const id of ids) expect(s.sim.upgrades({ smartAgId: id })).toHaveLength(1);
    const st = s.sim.stats();
    // The limiter's burst is a fraction of a second's worth: no wall-clock second over the rate.
    expect(Math.max(...st.perSecond.map((x) => x.count))).toBeLessThanOrEqual(RATE);
    // The calls took at least as long as the rate allows for them: the budget, not the devices, set the pace.
    expect(elapsedS).toBeGreaterThanOrEqual(st.totalRequests / RATE - 1);
  });

  it('starts devices only as fast as their expected calls fit the budget', async () => {
    const ids = ['a', 'b', 'c'].map((s) => `sag-pace${s}`);
    stack = await startStack({
      fleet: { versions: VERSIONS, instances: ids.map((id) => instance(id, sim)) },
    });
    const s = stack;
    // 0.1 requests/s at 6 calls a device: one device a minute.
    const handle = await s.run(() =>
      startRolloutOf(
        s,
        ids,
        {
          concurrency: 10,
          waves: { cumulativePercents: [100] },
          apiBudget: { requestsPerSecond: 0.1, callsPerDevice: 6 },
        },
        'pace',
      ),
    );
    // The canary's part, then the wave's: its first device starts at once, the second waits a minute.
    await eventually(
      () => (s.sim.upgrades({ smartAgId: ids[1] }).length > 0 ? true : undefined),
      30_000,
      100,
    );
    await new Promise((r) => setTimeout(r, 4000));
    expect(s.sim.upgrades({ smartAgId: ids[2] })).toHaveLength(0);
    const p = await handle.query('progress');
    expect(p).toMatchObject({ state: 'running' });
    await handle.terminate('test done');
  });
});
