import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import {
  abortSignal,
  approveUpdate,
  auditQuery,
  devicesQuery,
  excludeUpdate,
  partProgressQuery,
  pauseSignal,
  progressQuery,
  resumeUpdate,
  retryFailedUpdate,
  setPaceUpdate,
} from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import { SA_ROLLOUT_STATE } from '../../workflows/search-attributes';
import type { InventoryDevice, RolloutPolicy, RolloutProgress } from '../../domain/types';
import { fastRolloutPolicy, haInstance, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { untilProgress } from '../helpers/progress';

let stack: Stack;

// Fleet groups, one per test, so the tests share one simulator without touching each other's devices.
const group = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `sag-${prefix}${String(i + 1).padStart(2, '0')}`);
const BASIC = group('bas', 8);
const CANARY = group('can', 6);
const BREACH = group('brc', 8);
const CONTROL = group('ctl', 12);
const SHARED = group('shr', 6);
const EXCL = group('exc', 6);
const RETRY = group('rty', 4);
const PACE = group('pac', 3);
const EARLY = group('ear', 3);
const EXRUN = group('exr', 3);

const fleet = {
  versions: VERSIONS,
  instances: [
    ...BASIC.map((id) => instance(id)),
    ...EXRUN.map((id) =>
      instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 2, outcome: 'ok' as const } }),
    ),
    ...CANARY.map((id, i) =>
      instance(
        id,
        i === 0
          ? { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' as const } }
          : {},
      ),
    ),
    // BREACH: canary ok; wave 1 has an HA pair whose active device reverts (split pair), a device
    // that reverts, and an ok device; previous versions are requested and refused (VersionTooOld).
    ...BREACH.map((id, i) =>
      i === 1
        ? {
            ...haInstance(id),
            Devices: [
              // The active device reverts on its first upgrade and takes the second (the forward repair).
              {
                SerialNumber: `sn${id.slice(4)}a`,
                SoftwareVersion: '2.3.0.0',
                HaState: 'Active' as const,
                HcState: 'online' as const,
                simulation: { outcomes: ['revert', 'ok'] as ('ok' | 'revert')[] },
              },
              {
                SerialNumber: `sn${id.slice(4)}b`,
                SoftwareVersion: '2.3.0.0',
                HaState: 'Standby' as const,
                HcState: 'online' as const,
              },
            ],
            simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1 },
          }
        : i === 2
          ? instance(id, {
              simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' as const },
            })
          : instance(id),
    ),
    ...CONTROL.map((id) =>
      instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.6, outcome: 'ok' as const } }),
    ),
    ...SHARED.map((id) =>
      instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.8, outcome: 'ok' as const } }),
    ),
    ...EXCL.map((id) => instance(id)),
    ...PACE.map((id) => instance(id)),
    ...EARLY.map((id) => instance(id)),
    ...RETRY.map((id, i) =>
      instance(
        id,
        i === 1
          ? {
              simulation: {
                downloadSeconds: 0.05,
                upgradeSeconds: 0.1,
                outcomes: ['revert', 'ok'] as ('ok' | 'revert')[],
              },
            }
          : {},
      ),
    ),
  ],
};

beforeAll(async () => {
  stack = await startStack({ fleet });
});
afterAll(async () => {
  await stack?.stop();
});

const inv = (ids: string[]): InventoryDevice[] =>
  ids.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' }));
const cmd = (by = 'alice', reason = 'test') => ({ by, reason, requestId: randomUUID() });

async function startRollout(
  ids: string[],
  policy: Partial<RolloutPolicy> = {},
  rolloutId = uniqueName('r'),
): Promise<WorkflowHandle<typeof rolloutWorkflow>> {
  return stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId,
        inventory: inv(ids),
        policy: fastRolloutPolicy(policy),
        operator: 'alice',
        ticket: 'CHG-1',
        taskQueue: stack.taskQueue,
      },
    ],
  });
}

const until = (handle: WorkflowHandle, pred: (p: RolloutProgress) => boolean, timeoutMs = 30_000) =>
  untilProgress(handle, 'the rollout', pred, timeoutMs);

function upgradeCalls(ids: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of stack.sim.devices())
    if (ids.includes(row.SmartAGId)) out[row.SmartAGId] = (out[row.SmartAGId] ?? 0) + row.upgradeCalls;
  return out;
}

describe('rolloutWorkflow', () => {
  it('runs the canary and growing waves and upgrades every device exactly once', async () => {
    const h = await startRollout(BASIC, { waves: { cumulativePercents: [30, 100] } });
    const r = await stack.run(() => h.result());
    expect(r.state).toBe('completed');
    expect(r.counts.upgraded).toBe(BASIC.length);
    expect(Object.values(upgradeCalls(BASIC))).toEqual(BASIC.map(() => 1));
    const p = await h.query(progressQuery);
    expect(p.waves.map((w) => [w.name, w.size])).toEqual([
      ['canary', 1],
      ['wave-1', 3],
      ['wave-2', 4],
    ]);
    const audit = await h.query(auditQuery, 0);
    expect(audit[0]).toMatchObject({ kind: 'started', by: 'alice' });
  });

  it('halts the rollout when the canary fails, before any broad wave starts', async () => {
    const h = await startRollout(CANARY);
    const p = await until(h, (x) => x.state === 'paused');
    expect(p.haltReason).toMatch(/canary/);
    expect(p.counts.failed + p.counts.compensated).toBe(1);
    expect(upgradeCalls(CANARY.slice(1))).toEqual(Object.fromEntries(CANARY.slice(1).map((id) => [id, 0])));
    await h.signal(abortSignal, { ...cmd(), compensate: false });
    const r = await h.result();
    expect(r.state).toBe('aborted');
    expect(upgradeCalls(CANARY.slice(1))).toEqual(Object.fromEntries(CANARY.slice(1).map((id) => [id, 0])));
  });
});

describe('rolloutWorkflow failure budget and compensation', () => {
  it('compensates exactly the failed batch on a budget breach, pauses, and continues on resume', async () => {
    const h = await startRollout(BREACH, {
      waves: { cumulativePercents: [60, 100] },
      failureBudget: { maxFailurePercent: 20, minFailures: 2, maxConsecutiveFailures: 0, onBreach: 'pause' },
      compensation: { repairHaPairs: true, requestPreviousVersion: true },
    });
    const p = await until(h, (x) => x.state === 'paused' && x.haltReason !== undefined);
    expect(p.haltReason).toMatch(/failure budget/);
    expect(p.waves.find((w) => w.name === 'wave-2')?.counts.pending).toBeGreaterThan(0);
    const list = (await h.query(devicesQuery, { limit: 100 })).devices;
    const byId = Object.fromEntries(list.map((d) => [d.smartAgId, d]));
    // The split HA pair: its active device took the upgrade once and reverted, so the rollout does
    // not send it again on its own. Compensation says so, and the pair stays as it is.
    expect(byId['sag-brc02']).toMatchObject({ outcome: 'failed', errorCode: 'UpgradeReverted' });
    expect(byId['sag-brc02']?.compensation).toMatch(/^compensation-failed:UpgradeAlreadySent/);
    const pair = stack.sim.devices().filter((d) => d.SmartAGId === 'sag-brc02');
    expect(pair.map((d) => d.SoftwareVersion)).toEqual(['2.3.0.0', '2.4.0.0']);
    expect(
      stack.sim
        .upgrades({ smartAgId: 'sag-brc02' })
        .map((u) => u.SerialNumber)
        .sort(),
    ).toEqual(['snbrc02a', 'snbrc02b']);
    // Devices of the batch that upgraded: the previous version was requested and refused, reported with its RequestId.
    const upgradedInBatch = list.filter((d) => d.wave === 1 && d.compensation?.includes('not-reversible'));
    expect(upgradedInBatch.length).toBeGreaterThan(0);
    for (const d of upgradedInBatch)
      expect(d.compensation).toMatch(/not-reversible:\S+:VersionTooOld:[0-9A-F-]{36}/);
    // Nothing of the next wave started while paused.
    const wave2 = list.filter((d) => d.wave === 2).map((d) => d.smartAgId);
    expect(Object.values(upgradeCalls(wave2)).every((n) => n === 0)).toBe(true);

    const resumed = await h.executeUpdate(resumeUpdate, {
      args: [cmd('alice', 'fixed the reverting devices')],
    });
    expect(resumed.accepted).toBe(true);
    const r = await stack.run(() => h.result());
    expect(r.state).toBe('completed');
    expect(Object.values(upgradeCalls(wave2))).toEqual(wave2.map(() => 1));
  });
});

describe('rolloutWorkflow operator controls', () => {
  it('waits at the approval gate, refuses the starter as approver, and takes a repeated approval once', async () => {
    const h = await startRollout(CONTROL, { approval: 'canary', approverMustDiffer: true, concurrency: 2 });
    await until(h, (x) => x.state === 'waiting-approval');
    expect(Object.values(upgradeCalls(CONTROL.slice(1))).every((n) => n === 0)).toBe(true);
    const refused = await h.executeUpdate(approveUpdate, { args: [{ ...cmd('alice'), wave: 1 }] });
    expect(refused).toMatchObject({ accepted: false, duplicate: false });
    expect(refused.message).toMatch(/must differ/);
    const approval = { ...cmd('bob', 'canary looks good'), wave: 1 };
    expect(await h.executeUpdate(approveUpdate, { args: [approval] })).toMatchObject({
      accepted: true,
      duplicate: false,
    });
    expect(await h.executeUpdate(approveUpdate, { args: [approval] })).toMatchObject({
      accepted: true,
      duplicate: true,
    });

    // Pause stops new starts; upgrades in flight finish; nothing starts until resume.
    await until(h, (x) => x.currentWave >= 1);
    await h.signal(pauseSignal, cmd('carol', 'maintenance call'));
    await until(h, (x) => x.state === 'paused');
    const part = (await until(h, (x) => x.activePart !== undefined)).activePart!;
    const partHandle = stack.client.workflow.getHandle(part);
    for (let i = 0; i < 300; i++) {
      const pp = await partHandle.query(partProgressQuery);
      if (pp.state === 'paused' && pp.inFlight === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const frozen = upgradeCalls(CONTROL);
    const startedWhilePaused = (await partHandle.query(partProgressQuery)).started;
    await new Promise((r) => setTimeout(r, 1500));
    expect(upgradeCalls(CONTROL)).toEqual(frozen);
    expect((await partHandle.query(partProgressQuery)).started).toBe(startedWhilePaused);
    const resume = cmd('carol', 'call over');
    expect(await h.executeUpdate(resumeUpdate, { args: [resume] })).toMatchObject({
      accepted: true,
      duplicate: false,
    });
    expect(await h.executeUpdate(resumeUpdate, { args: [resume] })).toMatchObject({ duplicate: true });
    const r = await stack.run(() => h.result());
    expect(r.state).toBe('completed');
    expect(Object.values(upgradeCalls(CONTROL))).toEqual(CONTROL.map(() => 1));
    const audit = await h.query(auditQuery, 0);
    const kinds = audit.map((a) => a.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['approve-refused', 'approve', 'pause', 'resume', 'completed']),
    );
    expect(audit.filter((a) => a.kind === 'approve')).toHaveLength(1);
    expect(audit.find((a) => a.kind === 'pause')).toMatchObject({ by: 'carol', reason: 'maintenance call' });
  });

  it('takes a pause delivered with the start: the start is recorded first and the rollout stays paused', async () => {
    const rolloutId = uniqueName('r');
    // Signal-with-start puts the pause into the rollout's first workflow task, before any await.
    const h = await stack.client.workflow.signalWithStart(rolloutWorkflow, {
      workflowId: `rollout/${rolloutId}`,
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId,
          inventory: inv(EARLY),
          policy: fastRolloutPolicy({}),
          operator: 'alice',
          ticket: 'CHG-1',
          taskQueue: stack.taskQueue,
        },
      ],
      signal: pauseSignal,
      signalArgs: [cmd('carol', 'hold until the change board meets')],
    });
    await until(h, (x) => x.state === 'paused');
    const audit = await h.query(auditQuery, 0);
    expect(audit.slice(0, 2)).toMatchObject([
      { seq: 1, kind: 'started', by: 'alice' },
      { seq: 2, kind: 'pause', by: 'carol' },
    ]);
    // The state search attribute follows the pause, not the start that used to overwrite it.
    let state: string | undefined;
    for (let i = 0; i < 50 && state !== 'paused'; i++) {
      state = (await h.describe()).typedSearchAttributes.get(SA_ROLLOUT_STATE);
      if (state !== 'paused') await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toBe('paused');
    await new Promise((r) => setTimeout(r, 500));
    expect(upgradeCalls(EARLY)).toEqual(Object.fromEntries(EARLY.map((id) => [id, 0])));
    await h.executeUpdate(resumeUpdate, { args: [cmd('carol', 'approved')] });
    const r = await stack.run(() => h.result());
    expect(r.counts.upgraded).toBe(EARLY.length);
    expect((await h.describe()).typedSearchAttributes.get(SA_ROLLOUT_STATE)).toBe('completed');
  });

  it('excludes pending devices, refuses finished ones, and never touches the excluded', async () => {
    const h = await startRollout(EXCL, { approval: 'canary' });
    await until(h, (x) => x.state === 'waiting-approval');
    const ex = { ...cmd('alice', 'site closed'), smartAgIds: ['sag-exc06', 'sag-exc01'] };
    const res = await h.executeUpdate(excludeUpdate, { args: [ex] });
    expect(res.accepted).toBe(true);
    expect(res.message).toMatch(/excluded 1; refused: sag-exc01 \(upgraded\)/);
    expect(await h.executeUpdate(excludeUpdate, { args: [ex] })).toMatchObject({ duplicate: true });
    await h.executeUpdate(approveUpdate, { args: [cmd('bob')] });
    const r = await stack.run(() => h.result());
    expect(r.counts).toMatchObject({ upgraded: 5, excluded: 1 });
    expect(upgradeCalls(['sag-exc06'])).toEqual({ 'sag-exc06': 0 });
  });

  it('excludes a device of the running part that has not started, and leaves in one it has started', async () => {
    const h = await startRollout(EXRUN, { concurrency: 1, waves: { cumulativePercents: [100] } });
    // wave-1 runs one device at a time: its first flashes, the last waits in the part.
    await until(
      h,
      (x) => x.waves[1]?.state === 'running' && x.counts.upgraded === 1 && x.activePart !== undefined,
    );
    const part = stack.client.workflow.getHandle((await h.query(progressQuery)).activePart!);
    for (const deadline = Date.now() + 20_000; (await part.query(partProgressQuery)).inFlight !== 1;) {
      expect(Date.now() < deadline).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
    }
    const inPart = (await part.query(devicesQuery, {})).devices;
    const started = inPart.find((d) => d.outcome === 'in-progress')!.smartAgId;
    const waiting = inPart.find((d) => d.outcome === 'pending')!.smartAgId;
    // To the rollout both are in progress: it cannot tell which one the part started.
    const own = (await h.query(devicesQuery, {})).devices;
    expect(own.filter((d) => [started, waiting].includes(d.smartAgId)).map((d) => d.outcome)).toEqual([
      'in-progress',
      'in-progress',
    ]);
    const res = await h.executeUpdate(excludeUpdate, {
      args: [{ ...cmd('alice', 'branch closed'), smartAgIds: [waiting] }],
    });
    expect(res.accepted).toBe(true);
    expect(res.message).toContain(`1 in the running part: taken out unless already started (${waiting})`);
    // The started one stays in: the part has it in flight.
    await h.executeUpdate(excludeUpdate, { args: [{ ...cmd('alice', 'too late'), smartAgIds: [started] }] });
    const r = await stack.run(() => h.result());
    expect(r.counts).toMatchObject({ upgraded: 2, excluded: 1 });
    // The simulator: the waiting device was never asked to upgrade.
    expect(upgradeCalls(EXRUN)).toEqual({ [EXRUN[0]!]: 1, [started]: 1, [waiting]: 0 });
  });

  it('changes the pace of a running rollout and refuses a malformed pace', async () => {
    const h = await startRollout(PACE, { approval: 'canary', concurrency: 1 });
    await until(h, (x) => x.state === 'waiting-approval');
    const r = await h.executeUpdate(setPaceUpdate, {
      args: [{ ...cmd(), concurrency: 4, maxPerMinute: 120 }],
    });
    expect(r.accepted).toBe(true);
    expect((await h.query(progressQuery)).pace).toEqual({ concurrency: 4, maxPerMinute: 120 });
    await expect(h.executeUpdate(setPaceUpdate, { args: [{ ...cmd(), concurrency: 0 }] })).rejects.toThrow();
    expect((await h.query(progressQuery)).pace.concurrency).toBe(4);
    await h.executeUpdate(approveUpdate, { args: [cmd('bob')] });
    expect((await stack.run(() => h.result())).counts.upgraded).toBe(PACE.length);
  });

  it('retries failed devices when asked, and only then', async () => {
    const h = await startRollout(RETRY, {
      waves: { cumulativePercents: [50, 100] },
      approval: 'each-wave',
      failureBudget: {
        maxFailurePercent: 100,
        minFailures: 100,
        maxConsecutiveFailures: 0,
        onBreach: 'pause',
      },
    });
    await until(h, (x) => x.state === 'waiting-approval');
    await h.executeUpdate(approveUpdate, { args: [cmd('bob')] });
    const p = await until(h, (x) => x.state === 'waiting-approval' && x.currentWave === 2);
    expect(p.counts.failed).toBe(1);
    const retry = cmd('alice', 'device power-cycled');
    expect(await h.executeUpdate(retryFailedUpdate, { args: [retry] })).toMatchObject({ accepted: true });
    expect(await h.executeUpdate(retryFailedUpdate, { args: [retry] })).toMatchObject({ duplicate: true });
    await h.executeUpdate(approveUpdate, { args: [cmd('bob')] });
    const r = await stack.run(() => h.result());
    expect(r.counts.upgraded).toBe(RETRY.length);
    expect(upgradeCalls(['sag-rty02'])).toEqual({ 'sag-rty02': 2 });
  });
});

describe('rolloutWorkflow change windows', () => {
  it('refuses a rollout whose windows never open before its deadline, before any device starts', async () => {
    const past = new Date(Date.now() - 3_600_000);
    const h = await startRollout(BASIC.slice(0, 2), {
      windows: [
        { kind: 'once', start: new Date(past.getTime() - 3_600_000).toISOString(), end: past.toISOString() },
      ],
      deadline: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const before = upgradeCalls(BASIC.slice(0, 2));
    const err = await stack
      .run(() => h.result())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as { cause?: { type?: string } } | undefined)?.cause?.type).toBe('ImpossibleWindow');
    expect(upgradeCalls(BASIC.slice(0, 2))).toEqual(before);
  });
});

describe('rolloutWorkflow device lock', () => {
  it('never upgrades a device twice when two rollouts share it', async () => {
    const a = await startRollout(SHARED, { concurrency: 6, waves: { cumulativePercents: [100] } });
    await until(a, (x) => x.currentWave >= 1);
    const b = await startRollout(SHARED, {
      concurrency: 6,
      canary: { count: 0 },
      waves: { cumulativePercents: [100] },
    });
    const [ra, rb] = await stack.run(() => Promise.all([a.result(), b.result()]));
    expect(ra.state).toBe('completed');
    expect(rb.state).toBe('completed');
    expect(Object.values(upgradeCalls(SHARED))).toEqual(SHARED.map(() => 1));
    const bDevices = (await b.query(devicesQuery, {})).devices;
    const unexpected = bDevices.filter(
      (d) =>
        d.outcome !== 'skipped' || !['HeldByAnotherRollout', 'AlreadyOnTarget'].includes(d.errorCode ?? ''),
    );
    expect(
      unexpected.map((d) => `${d.smartAgId}:${d.outcome}:${d.errorCode ?? ''}:${d.message ?? ''}`),
    ).toEqual([]);
    expect(bDevices.some((d) => d.errorCode === 'HeldByAnotherRollout')).toBe(true);
  });
});
