import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import {
  abortSignal,
  auditQuery,
  devicesQuery,
  excludeUpdate,
  progressQuery,
  resumeUpdate,
} from '../../workflows/messages';
import type { RolloutPolicy, RolloutProgress } from '../../domain/types';
import { untilProgress } from '../helpers/progress';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';

// Credentials that stop working mid-rollout (an STS token expires, a key is disabled) halt the
// rollout with the code, count no device against the budget, and after they are fixed a resume
// finishes every device with one accepted call.
let stack: Stack;
const STS = { accessKeyId: 'STS.test-rollout', accessKeySecret: 'sts-secret-1', securityToken: 'token-one' };
/** What the worker's credential chain currently yields; a refresh replaces it while the worker runs. */
let current = { ...STS };

const group = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `sag-${prefix}${String(i + 1).padStart(2, '0')}`);
const EXPIRY = group('crx', 10);
const DISABLED = group('crd', 6);
const ABORTED = group('cra', 8);
const KEPT = group('crk', 8);
// Slow enough that several devices are in flight, in verify, when the credentials fail.
const slow = { simulation: { downloadSeconds: 0.3, upgradeSeconds: 1.2, outcome: 'ok' as const } };

beforeAll(async () => {
  stack = await startStack(
    {
      fleet: {
        versions: VERSIONS,
        instances: [...EXPIRY, ...DISABLED, ...ABORTED, ...KEPT].map((id) => instance(id, slow)),
      },
      credentials: [STS],
    },
    { credentials: { getCredentials: () => Promise.resolve({ ...current }) } },
  );
});
afterEach(() => {
  // Each test starts with working credentials, whatever the last one left.
  stack.sim.updateCredential(STS.accessKeyId, { expired: false, disabled: false });
});
afterAll(async () => {
  await stack?.stop();
});

const cmd = (by = 'alice', reason = 'test') => ({ by, reason, requestId: randomUUID() });
const until = (h: WorkflowHandle, pred: (p: RolloutProgress) => boolean) =>
  untilProgress(h, 'the rollout', pred, 40_000);

const start = (ids: string[], policy: Partial<RolloutPolicy>) => startRolloutOf(stack, ids, policy, 'cred');

/** Accepted upgrade calls per serial number and version, as the simulator counted them. */
function ledger(ids: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const u of stack.sim.upgrades()) {
    if (!ids.includes(u.SmartAGId)) continue;
    const k = `${u.SerialNumber}@${u.VersionCode}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Waits until `pred` holds of the simulator's state (polled; tests do not sleep for progress). */
async function untilSim(pred: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the simulator');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const POLICY: Partial<RolloutPolicy> = {
  canary: { count: 1 },
  waves: { cumulativePercents: [100] },
  concurrency: 5,
  // A budget that any counted failure would breach: the halt must come from the credentials.
  failureBudget: { maxFailurePercent: 0, minFailures: 1, maxConsecutiveFailures: 0, onBreach: 'pause' },
  verify: { timeout: 15_000, pollInterval: 100, consecutivePolls: 2 },
};

describe('credentials that stop working mid-rollout', () => {
  it('halts on an expired STS token without failing a device, and finishes after a refresh and resume', async () => {
    const h = await start(EXPIRY, POLICY);
    // Expire the token once upgrades were accepted for devices not yet verified.
    await until(h, (p) => p.currentWave === 1);
    await untilSim(
      async () =>
        Object.keys(ledger(EXPIRY)).length >= 3 && (await h.query(progressQuery)).counts.upgraded < 3,
    );
    stack.sim.updateCredential(STS.accessKeyId, { expired: true });

    const halted = await until(
      h,
      (p) => p.state === 'paused' && p.haltReason !== undefined && p.counts['in-progress'] === 0,
    );
    expect(halted.haltReason).toMatch(/InvalidSecurityToken\.Expired/);
    expect(halted.counts.failed).toBe(0);
    expect(halted.failureBudget.failed).toBe(0);
    expect(halted.failureBudget.breaches ?? 0).toBe(0);
    // Some devices had their upgrade accepted and were interrupted before they were verified.
    expect(Object.keys(ledger(EXPIRY)).length).toBeGreaterThan(halted.counts.upgraded);
    const audit = await h.query(auditQuery, 0);
    expect(audit.find((e) => e.kind === 'halted')?.detail).toMatchObject({
      code: 'InvalidSecurityToken.Expired',
      credentials: true,
    });

    // The STS credentials are refreshed: a new token, picked up by the running worker's chain.
    stack.sim.updateCredential(STS.accessKeyId, { securityToken: 'token-two' });
    current = { ...STS, securityToken: 'token-two' };
    expect(
      await h.executeUpdate(resumeUpdate, { args: [cmd('alice', 'STS token refreshed')] }),
    ).toMatchObject({ accepted: true });

    const r = await stack.run(() => h.result());
    expect(r.state).toBe('completed');
    expect(r.counts.upgraded).toBe(EXPIRY.length);
    // Every serial number: exactly one accepted call, including the devices interrupted mid-verify.
    expect(ledger(EXPIRY)).toEqual(Object.fromEntries(EXPIRY.map((id) => [`sn${id.slice(4)}a@2.4.0.0`, 1])));
    for (const row of stack.sim.devices().filter((d) => EXPIRY.includes(d.SmartAGId)))
      expect(row.SoftwareVersion).toBe('2.4.0.0');
  });

  it('halts on a disabled AccessKey and finishes once it is enabled again', async () => {
    const h = await start(DISABLED, POLICY);
    await until(h, (p) => p.currentWave === 1 && p.counts['in-progress'] > 0);
    stack.sim.updateCredential(STS.accessKeyId, { disabled: true });
    const halted = await until(
      h,
      (p) => p.state === 'paused' && p.haltReason !== undefined && p.counts['in-progress'] === 0,
    );
    expect(halted.haltReason).toMatch(/InvalidAccessKeyId\.Inactive/);
    expect(halted.counts.failed).toBe(0);
    const devices = (await h.query(devicesQuery, { limit: 100 })).devices;
    expect(devices.filter((d) => d.outcome === 'failed')).toEqual([]);

    stack.sim.updateCredential(STS.accessKeyId, { disabled: false });
    await h.executeUpdate(resumeUpdate, { args: [cmd('alice', 'key enabled again')] });
    const r = await stack.run(() => h.result());
    expect(r).toMatchObject({ state: 'completed' });
    expect(r.counts.upgraded).toBe(DISABLED.length);
    expect(ledger(DISABLED)).toEqual(
      Object.fromEntries(DISABLED.map((id) => [`sn${id.slice(4)}a@2.4.0.0`, 1])),
    );
  });

  it('ends and compensates the interrupted devices when a halted rollout is aborted', async () => {
    const h = await start(ABORTED, POLICY);
    await until(h, (p) => p.currentWave === 1);
    await untilSim(
      async () =>
        Object.keys(ledger(ABORTED)).length >= 3 && (await h.query(progressQuery)).counts.upgraded < 3,
    );
    stack.sim.updateCredential(STS.accessKeyId, { expired: true });
    await until(
      h,
      (p) => p.state === 'paused' && p.haltReason !== undefined && p.counts['in-progress'] === 0,
    );
    // The credentials work again, but the operator aborts instead of resuming.
    stack.sim.updateCredential(STS.accessKeyId, { expired: false });
    await h.signal(abortSignal, { ...cmd('alice', 'change window over'), compensate: true });
    const r = await stack.run(() => h.result());
    expect(r.state).toBe('aborted');

    const devices = (await h.query(devicesQuery, { limit: 100 })).devices;
    const sent = new Set(
      stack.sim
        .upgrades()
        .filter((u) => ABORTED.includes(u.SmartAGId))
        .map((u) => u.SmartAGId),
    );
    for (const d of devices) {
      if (!sent.has(d.smartAgId)) continue;
      // Every device an upgrade was accepted for ends somewhere, and what was not verified was compensated.
      expect(d.outcome, d.smartAgId).not.toBe('pending');
      if (d.outcome !== 'upgraded') expect(d.compensation, d.smartAgId).toBeDefined();
      if (d.outcome === 'unconfirmed') {
        const writes = stack.sim
          .requests(1000)
          .filter(
            (q) =>
              q.action === 'ModifyDeviceAutoUpgradePolicy' &&
              q.smartAgId === d.smartAgId &&
              q.code === undefined,
          )
          .map((q) => q.params.UpgradeType);
        expect(writes.at(-1), d.smartAgId).toBe('scheduled');
      }
    }
    expect(devices.some((d) => d.outcome === 'unconfirmed')).toBe(true);
    expect(Math.max(...Object.values(ledger(ABORTED)))).toBe(1);
  });

  it('keeps in a device whose interrupted upgrade may still flash when an operator excludes it, and verifies it on resume', async () => {
    const h = await start(KEPT, POLICY);
    await until(h, (p) => p.currentWave === 1);
    await untilSim(
      async () => Object.keys(ledger(KEPT)).length >= 3 && (await h.query(progressQuery)).counts.upgraded < 3,
    );
    stack.sim.updateCredential(STS.accessKeyId, { expired: true });
    await until(
      h,
      (p) => p.state === 'paused' && p.haltReason !== undefined && p.counts['in-progress'] === 0,
    );
    // Interrupted devices wait, pending, some with an upgrade the simulator accepted; others were
    // never asked anything.
    const sent = new Set(stack.sim.upgrades().map((u) => u.SmartAGId));
    const asked = new Set(stack.sim.requests(5000).map((q) => q.smartAgId));
    const devices = (await h.query(devicesQuery, { limit: 100 })).devices;
    const interrupted = devices
      .filter((d) => d.outcome === 'pending' && sent.has(d.smartAgId))
      .map((d) => d.smartAgId);
    expect(interrupted.length).toBeGreaterThan(0);
    const untouched = devices
      .filter((d) => d.outcome === 'pending' && !asked.has(d.smartAgId))
      .map((d) => d.smartAgId);
    expect(untouched.length).toBeGreaterThan(0);
    const others = devices
      .filter((d) => d.outcome === 'pending' && asked.has(d.smartAgId) && !sent.has(d.smartAgId))
      .map((d) => d.smartAgId);
    await h.executeUpdate(excludeUpdate, {
      args: [{ ...cmd('alice', 'branch closed'), smartAgIds: [...interrupted, ...others, ...untouched] }],
    });
    stack.sim.updateCredential(STS.accessKeyId, { expired: false });
    await h.executeUpdate(resumeUpdate, { args: [cmd('alice', 'credentials fixed')] });
    const r = await stack.run(() => h.result());
    const end = new Map((await h.query(devicesQuery, { limit: 100 })).devices.map((d) => [d.smartAgId, d]));
    // The interrupted ones were verified where their accepted call took them; the others stayed out.
    for (const id of interrupted) expect(end.get(id)!.outcome, id).toBe('upgraded');
    for (const id of untouched) expect(end.get(id)!.outcome, id).toBe('excluded');
    // Asked but left nothing open (no send, no pinned policy): out as well; the rest ran to the end.
    for (const id of others) expect(['excluded', 'upgraded'], id).toContain(end.get(id)!.outcome);
    // An excluded one had no auto-upgrade policy changed: nothing was left to restore.
    const pinnedOnSim = (id: string) =>
      stack.sim
        .requests(5000)
        .some(
          (q) => q.action === 'ModifyDeviceAutoUpgradePolicy' && q.smartAgId === id && q.code === undefined,
        );
    for (const id of others.filter((x) => end.get(x)!.outcome === 'excluded'))
      expect(pinnedOnSim(id), id).toBe(false);
    expect(r.counts.excluded).toBe(
      untouched.length + others.filter((id) => end.get(id)!.outcome === 'excluded').length,
    );
    expect(Math.max(...Object.values(ledger(KEPT)))).toBe(1);
    for (const id of untouched) expect(stack.sim.upgrades().some((u) => u.SmartAGId === id)).toBe(false);
  });
});
