import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { devicesQuery, promoteUpdate, resumeUpdate } from '../../workflows/messages';
import type { RolloutPolicy, RolloutProgress } from '../../domain/types';
import { untilProgress } from '../helpers/progress';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';

// The failure budget decides the same way on every path: as devices finish, and in the health
// re-check after a bake (the canary's zero tolerance and the consecutive rule included); a resume
// starts it afresh; an offline device is deferred as often as the error-code table says.
let stack: Stack;

const group = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `sag-${prefix}${String(i + 1).padStart(2, '0')}`);
const CANARY = group('fbc', 4);
const CONSEC = group('fbs', 6);
const FRESH = group('fbr', 9);
const OFFLINE = group('fbo', 2);
const revert = { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' as const } };

const fleet = {
  versions: VERSIONS,
  instances: [
    ...CANARY.map((id) => instance(id)),
    // Devices 3 and 4 of the wave after the canary revert: two failures in a row.
    ...CONSEC.map((id, i) => instance(id, i === 2 || i === 3 ? revert : {})),
    // The last wave's first device reverts.
    ...FRESH.map((id, i) => instance(id, i === 4 ? revert : {})),
    // The second device is offline throughout (the canary, the first, is not).
    ...OFFLINE.map((id, i) => (i === 1 ? instance(id, {}, { HcState: 'offline' }) : instance(id))),
  ],
};

beforeAll(async () => {
  stack = await startStack({ fleet });
});
afterAll(async () => {
  await stack?.stop();
});

const cmd = (by = 'alice', reason = 'test') => ({ by, reason, requestId: randomUUID() });
const until = (h: WorkflowHandle, pred: (p: RolloutProgress) => boolean) =>
  untilProgress(h, 'the rollout', pred, 40_000);

const start = (ids: string[], policy: Partial<RolloutPolicy>) => startRolloutOf(stack, ids, policy, 'budget');

/** Makes an instance unhealthy for the bulk re-check, through the simulator's admin interface. */
async function setStatus(smartAgId: string, status: string): Promise<void> {
  const res = await fetch(`${stack.sim.endpoint}/_admin/devices/sn${smartAgId.slice(4)}a`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Status: status }),
  });
  expect(res.status).toBe(200);
}

const calls = (ids: string[]) => stack.sim.upgrades().filter((u) => ids.includes(u.SmartAGId)).length;

describe('the failure budget', () => {
  it('halts when the canary fails its health re-check, whatever the share allows', async () => {
    const h = await start(CANARY, {
      canary: { count: 1 },
      waves: { cumulativePercents: [100] },
      bake: 600_000,
      healthRecheck: true,
      failureBudget: { maxFailurePercent: 50, minFailures: 3, maxConsecutiveFailures: 0, onBreach: 'pause' },
    });
    await until(h, (p) => p.gate?.kind === 'bake' && p.gate.wave === 0);
    await setStatus(CANARY[0]!, 'Offline');
    await h.executeUpdate(promoteUpdate, { args: [cmd('bob', 'bake done')] });
    const p = await until(h, (x) => x.state === 'paused' && x.haltReason !== undefined);
    expect(p.haltReason).toMatch(
      /health re-check after canary: 1 device unhealthy \(canary device sag-fbc01 failed \(HealthRecheckFailed\)\)/,
    );
    expect(calls(CANARY.slice(1))).toBe(0);
    await h.terminate('test over');
  });

  it('halts on consecutive failures when the share would not', async () => {
    const h = await start(CONSEC, {
      canary: { count: 1 },
      waves: { cumulativePercents: [100] },
      concurrency: 1,
      failureBudget: {
        maxFailurePercent: 100,
        minFailures: 100,
        maxConsecutiveFailures: 2,
        onBreach: 'pause',
      },
    });
    const p = await until(h, (x) => x.state === 'paused' && x.haltReason !== undefined);
    expect(p.haltReason).toBe('2 consecutive failures');
    // Devices after the second failure in a row never started.
    expect(calls(CONSEC.slice(4))).toBe(0);
    await h.terminate('test over');
  });

  it('starts afresh after a resume: failures before the halt do not count in later waves', async () => {
    const h = await start(FRESH, {
      canary: { count: 1 },
      waves: { sizes: [3, 5] },
      bake: 600_000,
      healthRecheck: true,
      failureBudget: { maxFailurePercent: 20, minFailures: 2, maxConsecutiveFailures: 0, onBreach: 'pause' },
    });
    await until(h, (p) => p.gate?.kind === 'bake' && p.gate.wave === 0);
    await h.executeUpdate(promoteUpdate, { args: [cmd('bob')] });
    await until(h, (p) => p.gate?.kind === 'bake' && p.gate.wave === 1);
    // Two of wave 1's three devices fail the re-check: 2/4 failed, over 20%.
    await setStatus(FRESH[1]!, 'Offline');
    await setStatus(FRESH[2]!, 'Offline');
    await h.executeUpdate(promoteUpdate, { args: [cmd('bob')] });
    const halted = await until(h, (x) => x.state === 'paused' && x.haltReason !== undefined);
    expect(halted.haltReason).toMatch(/health re-check after wave-1: 2 devices unhealthy/);
    await h.executeUpdate(resumeUpdate, { args: [cmd('alice', 'checked the two branches')] });
    // Wave 2: one device of five reverts; alone it is under the minimum of a fresh budget.
    const r = await stack.run(() => h.result());
    expect(r.state).toBe('completed');
    expect(r.haltReason).toBeUndefined();
    const devices = (await h.query(devicesQuery, { limit: 100 })).devices;
    expect(devices.filter((d) => d.wave === 2 && d.outcome === 'upgraded')).toHaveLength(4);
    expect(devices.find((d) => d.smartAgId === FRESH[4])).toMatchObject({
      outcome: 'failed',
      errorCode: 'UpgradeReverted',
    });
  });

  it('defers an offline device as often as its row in the error-code table retries it', async () => {
    const h = await start(OFFLINE, {
      canary: { count: 1 },
      waves: { cumulativePercents: [100] },
      errorOverrides: { SmartAccessGatewayNotOnline: { maximumAttempts: 3 } },
      failureBudget: {
        maxFailurePercent: 100,
        minFailures: 100,
        maxConsecutiveFailures: 0,
        onBreach: 'pause',
      },
    });
    const r = await stack.run(() => h.result());
    expect(r.counts.failed).toBe(1);
    // Each attempt inspects the device once: three attempts, then it fails.
    const inspections = stack.sim
      .requests(1000)
      .filter((q) => q.action === 'DescribeSmartAccessGatewayVersions' && q.smartAgId === OFFLINE[1]);
    expect(inspections).toHaveLength(3);
  });
});
