import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRolloutStatus } from '../../src/operator/status';
import { untilProgress } from '../helpers/progress';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';

// `overlapParts`: a wave's next part starts on the slots its predecessor's finished devices free,
// while that part's slowest device is still watched; the concurrency stays shared, and one
// failure budget spans the parts.
let stack: Stack;

const fast = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'ok' as const } };
const quickRevert = {
  simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' as const },
};
const slow = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 12, outcome: 'ok' as const } };
const slowRevert = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 5, outcome: 'revert' as const } };

const TAIL = Array.from({ length: 12 }, (_, i) => `sag-ovt${String(i + 1).padStart(2, '0')}`);
// Part 1 (the first four) holds the slow device; part 2 (the next four) a quick revert.
const SHARED = Array.from({ length: 8 }, (_, i) => `sag-ovb${String(i + 1).padStart(2, '0')}`);
const PAUSED = Array.from({ length: 12 }, (_, i) => `sag-ovp${String(i + 1).padStart(2, '0')}`);
// Parts of eight: part 1's last device reverts late; part 2 (slower devices, one slot) fails its
// first device early and is still starting devices when part 1's fails.
const SPREAD = Array.from({ length: 16 }, (_, i) => `sag-ovs${String(i + 1).padStart(2, '0')}`);
const paced = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.6, outcome: 'ok' as const } };
const lateRevert = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 6, outcome: 'revert' as const } };
const slowish = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 2, outcome: 'ok' as const } };
// The first device of part 1 reverts at once: the part halts with two devices not started, and
// the last of them is still flashing when the resumed part gives a slot back.
// Part 1: a slow device, a revert after a second, two quick ones; part 2: four 4-second devices.
const HALTING = Array.from({ length: 8 }, (_, i) => `sag-ovg${String(i + 1).padStart(2, '0')}`);
const secondRevert = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 1, outcome: 'revert' as const } };
const tenSeconds = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 10, outcome: 'ok' as const } };
const fourSeconds = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 4, outcome: 'ok' as const } };
const HALTED = Array.from({ length: 8 }, (_, i) => `sag-ovh${String(i + 1).padStart(2, '0')}`);

beforeAll(async () => {
  stack = await startStack({
    fleet: {
      versions: VERSIONS,
      instances: [
        ...TAIL.map((id, i) => instance(id, i === 0 ? slow : fast)),
        ...SHARED.map((id, i) => instance(id, i === 0 ? slowRevert : i === 4 ? quickRevert : fast)),
        ...PAUSED.map((id, i) => instance(id, i === 0 ? slow : fast)),
        ...SPREAD.map((id, i) =>
          instance(id, i === 7 ? lateRevert : i === 8 ? quickRevert : i < 8 ? fast : paced),
        ),
        ...HALTING.map((id, i) =>
          instance(id, i === 0 ? tenSeconds : i === 2 ? secondRevert : i < 4 ? fast : fourSeconds),
        ),
        ...HALTED.map((id, i) => instance(id, i === 0 ? quickRevert : i === 3 ? slowish : fast)),
      ],
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const policy = {
  canary: { count: 0 },
  waves: { cumulativePercents: [100] },
  maxPartSize: 4,
  concurrency: 4,
  overlapParts: true,
  healthRecheck: false,
  verify: { timeout: 40_000, pollInterval: 100, consecutivePolls: 2 },
};

/** When each device workflow of the rollout ran, from Temporal's visibility. */
async function deviceRuns(rolloutId: string): Promise<{ id: string; start: number; end: number }[]> {
  const runs: { id: string; start: number; end: number }[] = [];
  for await (const w of stack.client.workflow.list({
    query: `SagRolloutId = "${rolloutId}" AND WorkflowType = "deviceUpgradeWorkflow"`,
  })) {
    runs.push({ id: w.workflowId, start: w.startTime.getTime(), end: (w.closeTime ?? new Date()).getTime() });
  }
  return runs;
}

/** The most intervals open at one instant. */
function mostAtOnce(runs: { start: number; end: number }[]): number {
  const edges = runs.flatMap((r) => [
    { t: r.start, d: 1 },
    { t: r.end, d: -1 },
  ]);
  // An end before a start at the same instant: a slot freed and taken.
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (open += e.d));
  return most;
}

function onTarget(id: string): boolean {
  return stack.sim.devices().find((d) => d.SmartAGId === id)?.SoftwareVersion === '2.4.0.0';
}

describe('overlapping wave parts', () => {
  it('upgrade the next parts while the first part still watches its slowest device, within the concurrency', async () => {
    const h = await startRolloutOf(stack, TAIL, policy, 'overlap');
    const rolloutId = h.workflowId.slice('rollout/'.length);
    // Every device but the slow one of part 1 reaches the target while that one still flashes.
    const deadline = Date.now() + 60_000;
    while (!TAIL.slice(1).every(onTarget)) {
      expect(Date.now() < deadline, 'the fast devices never all reached the target').toBe(true);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(onTarget(TAIL[0]!), 'the slow device finished first: the parts did not overlap').toBe(false);
    const running = await getRolloutStatus(stack.client, rolloutId);
    expect(running.state).toBe('running');

    const done = await h.result();
    expect(done.state).toBe('completed');
    expect(done.counts.upgraded).toBe(12);
    // The simulator accepted one call per device, and every device is on the target.
    for (const id of TAIL) {
      expect(stack.sim.upgrades({ smartAgId: id }).length, id).toBe(1);
      expect(onTarget(id), id).toBe(true);
    }
    // Never more than the concurrency in flight across the overlapping parts.
    const runs = await deviceRuns(rolloutId);
    expect(runs).toHaveLength(12);
    expect(mostAtOnce(runs)).toBeLessThanOrEqual(4);
    expect(mostAtOnce(runs)).toBeGreaterThan(1);
  });

  it('count one failure budget: a failure in each part breaches it together', async () => {
    const h = await startRolloutOf(
      stack,
      SHARED,
      {
        ...policy,
        failureBudget: {
          maxFailurePercent: 10,
          minFailures: 2,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
      },
      'overlap-budget',
    );
    // Part 2's quick revert fails alone (1 of 2 needed); part 1's slow revert fails later, and
    // only the two together reach `minFailures`.
    const halted = await untilProgress(h, 'the halt', (p) => p.haltReason !== undefined, 45_000);
    expect(halted.haltReason).toBe('failure budget exceeded: 2/8 failed (25.0% > 10%)');
    expect(halted.failureBudget).toMatchObject({ failed: 2, finished: 8, breached: true });
    // The parts overlapped: part 2's first call came before part 1's slow device was back.
    const firstOf = (id: string) => Date.parse(stack.sim.upgrades({ smartAgId: id })[0]!.time);
    expect(firstOf(SHARED[4]!)).toBeLessThan(firstOf(SHARED[0]!) + 5000);
    // The simulator: both failing devices were asked once and stayed on their old version; the
    // others were asked once and upgraded.
    for (const [i, id] of SHARED.entries()) {
      expect(stack.sim.upgrades({ smartAgId: id }).length, id).toBe(1);
      expect(onTarget(id), id).toBe(i !== 0 && i !== 4);
    }
    await h.terminate('test over');
  });

  it('pause every running part: nothing starts until the resume', async () => {
    const h = await startRolloutOf(stack, PAUSED, policy, 'overlap-pause');
    const rolloutId = h.workflowId.slice('rollout/'.length);
    // Two parts run: the first still watches its slow device.
    await untilProgress(h, 'two parts running', (p) => (p.activeParts?.length ?? 0) >= 2, 30_000);
    await h.signal('pause', { by: 'alice', requestId: 'overlap-pause-1' });
    await untilProgress(h, 'paused', (p) => p.state === 'paused');
    // Calls accepted until the devices in flight at the pause finished; none after.
    await new Promise((r) => setTimeout(r, 3000));
    const before = stack.sim.upgrades().filter((u) => PAUSED.includes(u.SmartAGId)).length;
    expect(before).toBeLessThan(12);
    await new Promise((r) => setTimeout(r, 2000));
    expect(stack.sim.upgrades().filter((u) => PAUSED.includes(u.SmartAGId)).length).toBe(before);
    const status = await getRolloutStatus(stack.client, rolloutId);
    expect(status.counts.pending).toBe(12 - before);
    await h.executeUpdate('resumeRollout', { args: [{ by: 'alice', requestId: 'overlap-resume-1' }] });
    const done = await h.result();
    expect(done.counts.upgraded).toBe(12);
    for (const id of PAUSED) expect(stack.sim.upgrades({ smartAgId: id }).length, id).toBe(1);
  });

  it('halt on a breach spread over a part still starting devices and an older one', async () => {
    const h = await startRolloutOf(
      stack,
      SPREAD,
      {
        ...policy,
        maxPartSize: 8,
        concurrency: 2,
        failureBudget: {
          maxFailurePercent: 10,
          minFailures: 2,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
      },
      'overlap-spread',
    );
    // Each part alone has one failure; only their sum reaches `minFailures`.
    const halted = await untilProgress(h, 'the halt', (p) => p.haltReason !== undefined, 45_000);
    expect(halted.haltReason).toMatch(/^failure budget exceeded: 2\/\d+ failed/);
    expect(halted.failureBudget).toMatchObject({ failed: 2, breached: true });
    for (const id of [SPREAD[7]!, SPREAD[8]!]) {
      expect(stack.sim.upgrades({ smartAgId: id }).length, id).toBe(1);
      expect(onTarget(id), id).toBe(false);
    }
    await h.terminate('test over');
  });

  it('resume a halted part without handing its devices not started to another part', async () => {
    const h = await startRolloutOf(
      stack,
      HALTED,
      {
        ...policy,
        concurrency: 2,
        failureBudget: {
          maxFailurePercent: 10,
          minFailures: 1,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
      },
      'overlap-halted',
    );
    await untilProgress(h, 'the halt', (p) => p.state === 'paused' && p.haltReason !== undefined, 30_000);
    await h.executeUpdate('resumeRollout', { args: [{ by: 'alice', requestId: 'overlap-halted-resume' }] });
    const done = await h.result();
    expect(done.state).toBe('completed');
    // Every other device upgraded once, by its own part: none recorded as skipped by a second part.
    expect(done.counts).toMatchObject({ upgraded: 7, skipped: 0 });
    for (const id of HALTED.slice(1)) {
      expect(stack.sim.upgrades({ smartAgId: id }).length, id).toBe(1);
      expect(onTarget(id), id).toBe(true);
    }
    const parts: string[] = [];
    const rolloutId = h.workflowId.slice('rollout/'.length);
    for await (const w of stack.client.workflow.list({
      query: `SagRolloutId = "${rolloutId}" AND WorkflowType = "wavePartWorkflow"`,
    }))
      parts.push(w.workflowId);
    expect(parts, parts.join(', ')).toHaveLength(2);
  });

  it('stop the other parts as soon as one decides a halt, not once its devices in flight finished', async () => {
    const h = await startRolloutOf(
      stack,
      HALTING,
      {
        ...policy,
        failureBudget: {
          maxFailurePercent: 10,
          minFailures: 1,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
      },
      'overlap-halting',
    );
    // Part 1 decides the halt about a second in, and reports it once its slow device is back
    // (~10 s); part 2 had started two devices on the slots part 1 gave back.
    await untilProgress(h, 'the halt', (p) => p.state === 'paused' && p.haltReason !== undefined, 45_000);
    const part2 = HALTING.slice(4);
    const called = () => part2.filter((id) => stack.sim.upgrades({ smartAgId: id }).length > 0);
    expect(called(), 'part 2 went on starting devices after part 1 decided the halt').toHaveLength(2);
    await h.executeUpdate('resumeRollout', { args: [{ by: 'alice', requestId: 'overlap-halting-resume' }] });
    await untilProgress(h, 'the end', (p) => p.state === 'completed', 30_000);
    const done = await h.result();
    expect(done.counts.upgraded).toBe(7);
    expect(called()).toHaveLength(4);
    for (const id of HALTING) expect(stack.sim.upgrades({ smartAgId: id }).length, id).toBe(1);
  });
});
