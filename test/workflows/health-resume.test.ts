import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HealthPolicy, RolloutPolicy, RolloutProgress } from '../../domain/types';
import { approveUpdate, devicesQuery, resumeUpdate, retryFailedUpdate } from '../../workflows/messages';
import { untilProgress } from '../helpers/progress';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';

// The health analysis when the branch needs a moment after the restart (the grace), and when the
// credentials fail while it runs: the resumed rollout finishes the analysis against the baseline
// read before the upgrade call, it does not find the device on the target and skip it.
let stack: Stack;
const KEY = { accessKeyId: 'LTAI-health-resume', accessKeySecret: 'health-resume-secret' };

const fast = { downloadSeconds: 0.05, upgradeSeconds: 0.2 };
// A diagnosis that takes a few seconds keeps the device in its analysis long enough to pull the key.
const slowDiagnosis = { ...fast, diagnosisSeconds: 3 };
const fleet = {
  versions: VERSIONS,
  instances: [
    instance('sag-hgr01', { simulation: { ...fast, outcome: 'link-down' as const } }),
    instance('sag-hgr02', { simulation: { ...fast, outcome: 'link-down' as const } }),
    instance('sag-hcr01', { simulation: { ...slowDiagnosis, outcome: 'link-down' as const } }),
    instance('sag-hcr02', { simulation: slowDiagnosis }),
    instance('sag-hcr03', { simulation: { ...slowDiagnosis, linkDown: true } }),
    instance('sag-hrt00'),
    instance('sag-hrt01', { simulation: { ...fast, outcome: 'link-down' as const } }),
    instance('sag-hrt02'),
  ],
};

beforeAll(async () => {
  stack = await startStack(
    { fleet, credentials: [KEY] },
    { credentials: { getCredentials: () => Promise.resolve({ ...KEY }) } },
  );
});
afterEach(() => {
  stack.sim.updateCredential(KEY.accessKeyId, { disabled: false });
});
afterAll(async () => {
  await stack?.stop();
});

const HEALTH: HealthPolicy = {
  links: true,
  ha: true,
  controller: true,
  diagnosis: false,
  features: [],
  probes: [],
};
const ONE_WAVE: Partial<RolloutPolicy> = {
  healthRecheck: false,
  canary: { count: 0 },
  waves: { cumulativePercents: [100] },
  verify: { timeout: 10_000, pollInterval: 200, consecutivePolls: 2 },
  failureBudget: { maxFailurePercent: 100, minFailures: 10, maxConsecutiveFailures: 0, onBreach: 'pause' },
};
const start = (ids: string[], policy: Partial<RolloutPolicy>) =>
  startRolloutOf(stack, ids, { ...ONE_WAVE, ...policy }, 'hres');
const until = (h: WorkflowHandle, pred: (p: RolloutProgress) => boolean) =>
  untilProgress(h, 'the rollout', pred, 60_000);
const devices = async (h: WorkflowHandle) => (await h.query(devicesQuery, {})).devices;
const onTarget = (id: string) =>
  stack.sim.devices().find((d) => d.SmartAGId === id)?.SoftwareVersion === '2.4.0.0';
const accepted = (id: string) => stack.sim.upgrades({ smartAgId: id }).length;

/** The simulator's count of `action` requests for `id` at or after `since` (ms). */
function requestsSince(id: string, action: string, since: number): number {
  return stack.sim
    .requests()
    .filter((e) => e.smartAgId === id && e.action === action && Date.parse(e.time) >= since).length;
}

/** Polls `pred` (the simulator's state) until it holds; returns when it first held. */
async function untilSim(what: string, pred: () => boolean, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now();
}

describe('health analysis: grace after the restart', () => {
  it('reads a link that is down after the restart again, and passes the device when it comes back within the grace', async () => {
    const h = await start(['sag-hgr01'], { health: { ...HEALTH, grace: 30_000 } });
    const t0 = await untilSim('sag-hgr01 on the target', () => onTarget('sag-hgr01'));
    // Verify takes two passing polls on the target; every links read beyond those (and one in
    // flight) is the analysis reading again inside its grace.
    await untilSim(
      'links read again within the grace',
      () => requestsSince('sag-hgr01', 'DescribeSmartAccessGatewayAttribute', t0) >= 5,
    );
    expect((await h.query(devicesQuery, {})).devices[0]?.outcome).toBe('in-progress');
    stack.sim.instance('sag-hgr01')!.activeDevice().health.linkDown = false;

    const r = await h.result();
    expect(r.state).toBe('completed');
    const d = (await devices(h))[0]!;
    expect(d.outcome).toBe('upgraded');
    expect(d.health?.regressions).toEqual([]);
    expect(accepted('sag-hgr01')).toBe(1);
  });

  it('fails a link that stays down once the grace has passed, not before', async () => {
    const h = await start(['sag-hgr02'], { health: { ...HEALTH, grace: 3000 } });
    const t0 = await untilSim('sag-hgr02 on the target', () => onTarget('sag-hgr02'));
    const r = await h.result();
    const failedAt = Date.now();
    expect(r.state).toBe('completed');
    const d = (await devices(h))[0]!;
    expect(d).toMatchObject({ outcome: 'failed', errorCode: 'HealthCheckFailed', phase: 'health' });
    expect(d.message).toContain('links ccn-01: Active → Inactive');
    // Judged only after the grace: the links were read again through it (verify's two passing
    // polls, then at least two more reads).
    expect(failedAt - t0).toBeGreaterThanOrEqual(3000);
    expect(requestsSince('sag-hgr02', 'DescribeSmartAccessGatewayAttribute', t0)).toBeGreaterThanOrEqual(4);
    expect(accepted('sag-hgr02')).toBe(1);
  });
});

describe('health analysis: credentials that fail while it runs', () => {
  it('halts, and the resumed rollout finishes the analysis against the baseline instead of skipping the device', async () => {
    const ids = ['sag-hcr01', 'sag-hcr02', 'sag-hcr03'];
    const h = await start(ids, { concurrency: 3, health: { ...HEALTH, diagnosis: true } });
    // All on the target and in the diagnosis after the upgrade (the second DiagnoseSmartAccessGateway).
    await untilSim(
      'every device in its diagnosis after the upgrade',
      () => ids.every((id) => onTarget(id) && requestsSince(id, 'DiagnoseSmartAccessGateway', 0) >= 2),
      40_000,
    );
    stack.sim.updateCredential(KEY.accessKeyId, { disabled: true });
    const halted = await until(
      h,
      (p) => p.state === 'paused' && p.haltReason !== undefined && p.counts['in-progress'] === 0,
    );
    expect(halted.haltReason).toMatch(/InvalidAccessKeyId\.Inactive/);
    expect(halted.counts.failed).toBe(0);
    expect(halted.counts.upgraded).toBe(0);

    stack.sim.updateCredential(KEY.accessKeyId, { disabled: false });
    expect(
      await h.executeUpdate(resumeUpdate, {
        args: [{ by: 'alice', reason: 'key enabled again', requestId: randomUUID() }],
      }),
    ).toMatchObject({ accepted: true });
    const r = await stack.run(() => h.result());
    expect(r.state).toBe('completed');

    const list = await devices(h);
    // The device whose link went down with the upgrade is caught after the resume, against the
    // baseline read before its call (not skipped as AlreadyOnTarget).
    const broken = list.find((x) => x.smartAgId === 'sag-hcr01')!;
    expect(broken).toMatchObject({ outcome: 'failed', errorCode: 'HealthCheckFailed', phase: 'health' });
    expect(broken.health?.regressions).toEqual([
      { check: 'links', subject: 'ccn-01', before: 'Active', after: 'Inactive' },
    ]);
    const healthy = list.find((x) => x.smartAgId === 'sag-hcr02')!;
    expect(healthy.outcome).toBe('upgraded');
    expect(healthy.health?.regressions).toEqual([]);
    // Its link was down before the upgrade: the baseline carried across the halt says so, and the
    // device passes with a note (compared with no baseline, it would fail).
    const wasDown = list.find((x) => x.smartAgId === 'sag-hcr03')!;
    expect(wasDown.outcome).toBe('upgraded');
    expect(wasDown.health?.notes).toEqual([
      { check: 'links', subject: 'ccn-01', before: 'Inactive', after: 'Inactive' },
    ]);
    // One accepted upgrade each, as the simulator counted; both on the target.
    for (const id of ids) {
      expect(accepted(id)).toBe(1);
      expect(onTarget(id)).toBe(true);
    }
  });
});

describe('health analysis: an operator retry of a device that failed it', () => {
  it('analyses the device again against its first baseline, sending nothing, instead of skipping it as on the target', async () => {
    const ids = ['sag-hrt00', 'sag-hrt01', 'sag-hrt02'];
    const cmd = (reason: string) => ({ by: 'alice', reason, requestId: randomUUID() });
    const h = await startRolloutOf(
      stack,
      ids,
      {
        ...ONE_WAVE,
        canary: { count: 1 },
        waves: { cumulativePercents: [50, 100] },
        approval: 'each-wave',
        health: HEALTH,
      },
      'hres',
    );
    await until(h, (p) => p.state === 'waiting-approval');
    await h.executeUpdate(approveUpdate, { args: [{ ...cmd('canary fine'), by: 'bob' }] });
    const gate = await until(h, (p) => p.state === 'waiting-approval' && p.currentWave === 2);
    expect(gate.counts.failed).toBe(1);
    expect((await devices(h)).find((d) => d.smartAgId === 'sag-hrt01')).toMatchObject({
      outcome: 'failed',
      errorCode: 'HealthCheckFailed',
    });
    // The branch is mended (the link comes back); the operator retries the failed device.
    stack.sim.instance('sag-hrt01')!.activeDevice().health.linkDown = false;
    expect(await h.executeUpdate(retryFailedUpdate, { args: [cmd('link repaired')] })).toMatchObject({
      accepted: true,
    });
    await h.executeUpdate(approveUpdate, { args: [{ ...cmd('wave 1 fine'), by: 'bob' }] });
    const r = await stack.run(() => h.result());
    expect(r.state).toBe('completed');
    const d = (await devices(h)).find((x) => x.smartAgId === 'sag-hrt01')!;
    expect(d.outcome).toBe('upgraded');
    expect(d.health?.regressions).toEqual([]);
    // Analysed again, not sent again: still the one accepted upgrade the simulator counted.
    expect(accepted('sag-hrt01')).toBe(1);
    expect(r.counts.upgraded).toBe(ids.length);
  });
});
