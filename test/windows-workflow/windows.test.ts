import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devicesQuery } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import type { RolloutPolicy } from '../../domain/types';
import { fastRolloutPolicy, haInstance, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { deviceRuns, inventory, onceWindow, startDecisions, statusUntil, upgradeCallTimes } from './helpers';

// Change windows on the shared dev server, in real time: one-off windows a few seconds long,
// computed from the clock when each test starts. The tests run concurrently, each on its own devices.

let stack: Stack;

const INFLIGHT = ['sag-wif01', 'sag-wif02'];
const FREEZE = ['sag-wfz01', 'sag-wfz02'];
const EXPECTED = ['sag-wex01', 'sag-wex02'];
const DEADLINE = ['sag-wdl01', 'sag-wdl02', 'sag-wdl03'];
const WARMUP = 'sag-wwu01';

const sim = (upgradeSeconds: number) => ({
  simulation: { downloadSeconds: 0.05, upgradeSeconds, outcome: 'ok' as const },
});

beforeAll(async () => {
  stack = await startStack(
    {
      requestLogSize: 20_000,
      fleet: {
        versions: VERSIONS,
        instances: [
          instance(INFLIGHT[0]!, sim(4.5)),
          instance(INFLIGHT[1]!),
          ...FREEZE.map((id) => instance(id)),
          instance(EXPECTED[0]!),
          haInstance(EXPECTED[1]!, sim(0.1)),
          instance(DEADLINE[0]!, sim(3.5)),
          ...DEADLINE.slice(1).map((id) => instance(id)),
          instance(WARMUP),
        ],
      },
    },
    { sharedQuota: false },
  );
  // A first rollout loads the workflow code into the worker, so the timed tests do not pay for it.
  const { handle } = await start([WARMUP], windowPolicy({}));
  await stack.run(() => handle.result());
});
afterAll(async () => {
  await stack?.stop();
});

/** One wave of every device, one device at a time unless told otherwise. */
function windowPolicy(overrides: Partial<RolloutPolicy>): RolloutPolicy {
  return fastRolloutPolicy({
    canary: { count: 0 },
    waves: { cumulativePercents: [100] },
    concurrency: 1,
    ...overrides,
  });
}

async function start(ids: string[], policy: RolloutPolicy, serials: Record<string, string[]> = {}) {
  const rolloutId = uniqueName('win');
  const handle = await stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId,
        inventory: inventory(ids, serials),
        policy,
        operator: 'alice',
        ticket: 'CHG-7',
        taskQueue: stack.taskQueue,
      },
    ],
  });
  return { rolloutId, handle };
}

describe.concurrent('change windows on a real server', () => {
  it('starts devices only inside windows, lets an upgrade finish after its window closes, waits, and resumes in the next window', async () => {
    const t0 = Date.now();
    const w1 = { start: t0 + 5000, end: t0 + 8000 };
    const w2 = { start: t0 + 18_000, end: t0 + 28_000 };
    const { rolloutId, handle } = await start(
      INFLIGHT,
      windowPolicy({
        expectedUpgradeTime: 1000,
        windows: [onceWindow(w1.start, w1.end), onceWindow(w2.start, w2.end)],
      }),
    );

    // The first device (4.5 s of simulated flashing) outlives the first window; once it is done
    // the rollout shows that it waits for the next window.
    const waiting = await statusUntil(
      stack.client,
      rolloutId,
      (s) => s.state === 'waiting-window' && s.counts.upgraded === 1,
      40_000,
      'waiting-window after the first device',
    );
    expect(Date.now()).toBeLessThan(w2.start);
    expect(waiting.part).toMatchObject({ state: 'waiting-window', inFlight: 0, nextWindowAt: w2.start });
    expect(waiting.devices.find((d) => d.smartAgId === INFLIGHT[1])?.outcome).toBe('pending');
    expect(upgradeCallTimes(stack.sim, [INFLIGHT[1]!])[INFLIGHT[1]!]).toEqual([]);

    const r = await stack.run(() => handle.result());
    expect(r).toMatchObject({ state: 'completed', counts: { upgraded: 2 } });
    const [a, b] = INFLIGHT as [string, string];
    // Each start was decided inside a window with at least expectedUpgradeTime left.
    const decided = await startDecisions(stack.client, `rollout/${rolloutId}/wave-0`);
    expect(decided[a]).toBeGreaterThanOrEqual(w1.start);
    expect(decided[a]).toBeLessThanOrEqual(w1.end - 1000);
    expect(decided[b]).toBeGreaterThanOrEqual(w2.start);
    expect(decided[b]).toBeLessThanOrEqual(w2.end - 1000);
    const runs = await deviceRuns(stack.client, INFLIGHT);
    expect(runs[a]!.start).toBeGreaterThanOrEqual(w1.start);
    // The first upgrade finished after its window had closed, and before the second device started.
    expect(runs[a]!.close).toBeGreaterThan(w1.end);
    expect(runs[a]!.close).toBeLessThan(w2.start);
    expect(runs[b]!.start).toBeGreaterThanOrEqual(w2.start);
    const calls = upgradeCallTimes(stack.sim, INFLIGHT);
    expect(calls[a]).toHaveLength(1);
    expect(calls[a]![0]).toBeGreaterThanOrEqual(w1.start);
    expect(calls[a]![0]).toBeLessThan(w2.start);
    expect(calls[b]).toHaveLength(1);
    expect(calls[b]![0]).toBeGreaterThanOrEqual(w2.start);
  });

  it('holds every device during a freeze period and starts them when it ends', async () => {
    const t0 = Date.now();
    const freezeEnd = t0 + 8000;
    const { rolloutId, handle } = await start(
      FREEZE,
      windowPolicy({
        concurrency: 2,
        freezes: [
          {
            start: new Date(t0 - 60_000).toISOString(),
            end: new Date(freezeEnd).toISOString(),
            reason: 'quarter close',
          },
        ],
      }),
    );
    const waiting = await statusUntil(
      stack.client,
      rolloutId,
      (s) => s.state === 'waiting-window',
      30_000,
      'waiting-window during the freeze',
    );
    expect(Date.now()).toBeLessThan(freezeEnd);
    expect(waiting.part?.nextWindowAt).toBe(freezeEnd);
    expect(waiting.counts.pending).toBe(2);

    const r = await stack.run(() => handle.result());
    expect(r).toMatchObject({ state: 'completed', counts: { upgraded: 2 } });
    const runs = await deviceRuns(stack.client, FREEZE);
    const calls = upgradeCallTimes(stack.sim, FREEZE);
    for (const id of FREEZE) {
      expect(runs[id]!.start).toBeGreaterThanOrEqual(freezeEnd);
      expect(calls[id]).toHaveLength(1);
      expect(calls[id]![0]).toBeGreaterThanOrEqual(freezeEnd);
    }
  });

  it('starts a device only with expectedUpgradeTime left in its window, twice that for an HA pair', async () => {
    const t0 = Date.now();
    // 3.5 s: room for a single device (2 s) but never for the pair (4 s).
    const w1 = { start: t0 + 5000, end: t0 + 8500 };
    const w2 = { start: t0 + 12_000, end: t0 + 18_000 };
    const [single, pair] = EXPECTED as [string, string];
    const { rolloutId, handle } = await start(
      EXPECTED,
      windowPolicy({
        concurrency: 2,
        expectedUpgradeTime: 2000,
        windows: [onceWindow(w1.start, w1.end), onceWindow(w2.start, w2.end)],
      }),
      { [pair]: [`sn${pair.slice(4)}a`, `sn${pair.slice(4)}b`] },
    );
    const r = await stack.run(() => handle.result());
    expect(r).toMatchObject({ state: 'completed', counts: { upgraded: 2 } });
    const decided = await startDecisions(stack.client, `rollout/${rolloutId}/wave-0`);
    expect(decided[single]).toBeGreaterThanOrEqual(w1.start);
    expect(decided[single]).toBeLessThanOrEqual(w1.end - 2000);
    expect(decided[pair]).toBeGreaterThanOrEqual(w2.start);
    expect(decided[pair]).toBeLessThanOrEqual(w2.end - 4000);
    const runs = await deviceRuns(stack.client, EXPECTED);
    expect(runs[single]!.start).toBeGreaterThanOrEqual(w1.start);
    expect(runs[pair]!.start).toBeGreaterThanOrEqual(w2.start);
    const calls = upgradeCallTimes(stack.sim, [pair]);
    // Standby first, then the active device: two calls, both after the second window opened.
    expect(calls[pair]).toHaveLength(2);
    for (const at of calls[pair]!) expect(at).toBeGreaterThanOrEqual(w2.start);
  });

  it('stops new starts at the deadline and reports the unstarted devices as skipped with DeadlinePassed', async () => {
    const t0 = Date.now();
    const w1 = { start: t0 + 5000, end: t0 + 8000 };
    const deadline = t0 + 18_000;
    // One window only: once it closes no device can start again, and the deadline ends the wait.
    const { rolloutId, handle } = await start(
      DEADLINE,
      windowPolicy({
        expectedUpgradeTime: 1000,
        windows: [onceWindow(w1.start, w1.end)],
        deadline: new Date(deadline).toISOString(),
      }),
    );
    await statusUntil(
      stack.client,
      rolloutId,
      (s) => s.state === 'waiting-window' && s.counts.upgraded === 1,
      40_000,
      'waiting after the only window',
    );
    expect(Date.now()).toBeLessThan(deadline);
    const r = await stack.run(() =>
      Promise.race([
        handle.result(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the rollout did not close after its deadline')), 40_000),
        ),
      ]),
    );
    expect(r).toMatchObject({ state: 'completed', counts: { upgraded: 1, skipped: 2 } });
    const devices = (await handle.query(devicesQuery, {})).devices;
    expect(devices.filter((d) => d.outcome === 'skipped').map((d) => [d.smartAgId, d.errorCode])).toEqual([
      [DEADLINE[1], 'DeadlinePassed'],
      [DEADLINE[2], 'DeadlinePassed'],
    ]);
    const runs = await deviceRuns(stack.client, DEADLINE);
    expect(runs[DEADLINE[0]!]!.start).toBeGreaterThanOrEqual(w1.start);
    // The first device finished well before the deadline; the rest waited for it, then were skipped.
    expect(runs[DEADLINE[0]!]!.close).toBeLessThan(deadline);
    expect(runs[DEADLINE[1]!]).toBeUndefined();
    expect(runs[DEADLINE[2]!]).toBeUndefined();
    const calls = upgradeCallTimes(stack.sim, DEADLINE);
    expect(calls[DEADLINE[1]!]).toEqual([]);
    expect(calls[DEADLINE[2]!]).toEqual([]);
  });
});
