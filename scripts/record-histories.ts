/**
 * Records the histories of three rollouts into test/fixtures/histories/, for the replay test that
 * runs them through the current workflow code (binary protobuf, one file per workflow run): a full
 * rollout (canary, approval gate, a failure-budget breach with compensation of an HA pair, resume,
 * completion), one on the safety paths (an unconfirmed device, a credential halt and resume, an
 * abort at a gate with compensation), and one that continues as new between parts (a pace change
 * repeated in a later run, a pause and resume there, an abort that compensates a device that
 * failed in an earlier run), and a fourth with overlapping parts (`overlapParts`: a halt while two
 * parts run, a resume, a pace change, completion). Files of earlier recordings stay: they guard
 * the histories of rollouts started by earlier code. Run: `npx tsx scripts/record-histories.ts`
 * for all four, `... overlap` for the fourth alone.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startSimulator } from '../src/simulator';
import { startDevServer } from '../src/temporal/dev-server';
import { createRolloutWorker } from '../src/temporal/worker';
import {
  abortSignal,
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  setPaceUpdate,
} from '../workflows/messages';
import { rolloutWorkflow } from '../workflows/rollout';
import { fastRolloutPolicy, haInstance, instance, VERSIONS } from '../test/helpers/fixtures';

async function main(): Promise<void> {
  const out = path.resolve(__dirname, '../test/fixtures/histories');
  mkdirSync(out, { recursive: true });
  if (process.argv[2] === 'overlap') {
    process.stderr.write(`recorded ${await recordOverlap(out)} histories into ${out}\n`);
    return;
  }
  const server = await startDevServer({ dbFile: ':memory:', uiPort: false });
  const ids = ['sag-rec01', 'sag-rec02', 'sag-rec03', 'sag-rec04', 'sag-rec05', 'sag-rec06'];
  const sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: ids.map((id, i) => {
        if (i === 1) {
          const ha = haInstance(id);
          return {
            ...ha,
            Devices: [{ ...ha.Devices[0]!, simulation: { outcomes: ['revert', 'ok'] } }, ha.Devices[1]!],
          };
        }
        if (i === 2)
          return instance(id, {
            simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' },
          });
        return instance(id);
      }),
    },
  });
  const taskQueue = 'record-histories';
  const worker = await recordingWorker(server.address, sim, taskQueue);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const rolloutId = 'replay-1';
  const handle = await client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue,
    args: [
      {
        rolloutId,
        inventory: ids.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
        policy: fastRolloutPolicy({
          approval: 'canary',
          waves: { cumulativePercents: [40, 100] },
          failureBudget: {
            maxFailurePercent: 20,
            minFailures: 2,
            maxConsecutiveFailures: 0,
            onBreach: 'pause',
          },
          compensation: { repairHaPairs: true, requestPreviousVersion: true },
        }),
        operator: 'alice',
        ticket: 'CHG-REPLAY',
        taskQueue,
      },
    ],
  });
  const cmd = (by: string) => ({ by, reason: 'recording', requestId: randomUUID() });
  const waitFor = async (pred: (s: string) => boolean) => {
    for (;;) {
      const p = await handle.query(progressQuery);
      if (pred(p.state)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await worker.worker.runUntil(async () => {
    await waitFor((s) => s === 'waiting-approval');
    await handle.executeUpdate(approveUpdate, { args: [cmd('bob')] });
    await waitFor((s) => s === 'paused');
    await handle.executeUpdate(resumeUpdate, { args: [cmd('alice')] });
    await handle.result();
  });
  await worker.shutdown();

  // Second rollout, on the safety paths: an upgrade accepted and answered with a 500 on a device
  // that downloads for longer than the settle (unconfirmed), an STS token that expires mid-wave
  // (a credential halt, then a resume), and an abort at the approval gate that compensates the
  // failed devices of the waves before it.
  const ids2 = ['sag-rec21', 'sag-rec22', 'sag-rec23', 'sag-rec24', 'sag-rec25', 'sag-rec26'];
  const sts = { accessKeyId: 'STS.record', accessKeySecret: 'record-secret', securityToken: 'token-1' };
  let current = { ...sts };
  const sim2 = await startSimulator({
    credentials: [sts],
    fleet: {
      versions: VERSIONS,
      instances: ids2.map((id, i) => {
        if (i === 1)
          return instance(id, { simulation: { downloadSeconds: 3, upgradeSeconds: 0.2, outcome: 'ok' } });
        if (i === 2)
          return instance(id, {
            simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' },
          });
        return instance(id, { simulation: { downloadSeconds: 0.3, upgradeSeconds: 1, outcome: 'ok' } });
      }),
    },
    faults: {
      rules: [
        {
          action: 'UpdateSmartAccessGatewayVersion',
          smartAgId: 'sag-rec22',
          kind: 'after-error',
          code: 'InternalError',
          httpStatus: 500,
        },
      ],
    },
  });
  const worker2 = await createRolloutWorker({
    target: { connectionOptions: { address: server.address }, namespace: 'default' },
    taskQueue,
    credentials: { getCredentials: () => Promise.resolve({ ...current }) },
    sagEndpoint: sim2.endpoint,
    apiRate: 200,
  });
  const rolloutId2 = 'replay-2';
  const handle2 = await client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId2}`,
    taskQueue,
    args: [
      {
        rolloutId: rolloutId2,
        inventory: ids2.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
        policy: fastRolloutPolicy({
          approval: 'each-wave',
          waves: { sizes: [4, 1] },
          concurrency: 4,
          upgradeSettle: 1000,
          failureBudget: {
            maxFailurePercent: 100,
            minFailures: 100,
            maxConsecutiveFailures: 0,
            onBreach: 'pause',
          },
        }),
        operator: 'alice',
        ticket: 'CHG-REPLAY-2',
        taskQueue,
      },
    ],
  });
  const state2 = () => handle2.query(progressQuery);
  const until2 = async (
    what: string,
    pred: (p: Awaited<ReturnType<typeof state2>>) => boolean | Promise<boolean>,
  ) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const p = await state2();
      if (await pred(p)) return;
      if (Date.now() > deadline)
        throw new Error(
          `replay-2: timed out waiting for ${what}: ${JSON.stringify({ state: p.state, counts: p.counts, gate: p.gate })}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await worker2.worker.runUntil(async () => {
    await until2('the gate before wave 1', (p) => p.state === 'waiting-approval' && p.gate?.wave === 1);
    await handle2.executeUpdate(approveUpdate, { args: [cmd('bob')] });
    // The token expires once wave 1's upgrades were accepted and before they are all verified.
    await until2('accepted upgrades in wave 1', () => sim2.upgrades().length >= 4);
    sim2.updateCredential(sts.accessKeyId, { expired: true });
    await until2('the credential halt', (p) => p.state === 'paused');
    sim2.updateCredential(sts.accessKeyId, { securityToken: 'token-2' });
    current = { ...sts, securityToken: 'token-2' };
    await handle2.executeUpdate(resumeUpdate, { args: [cmd('alice')] });
    await until2('the gate before wave 2', (p) => p.state === 'waiting-approval' && p.gate?.wave === 2);
    await handle2.signal(abortSignal, { ...cmd('alice'), compensate: true });
    await handle2.result();
  });
  await worker2.shutdown();
  await sim2.stop();

  let n = await save(client, `SagRolloutId = '${rolloutId}' OR SagRolloutId = '${rolloutId2}'`, out);
  await connection.close();
  await sim.stop();
  await server.stop();
  n += await recordContinueAsNew(out);
  n += await recordOverlap(out);
  process.stderr.write(`recorded ${n} histories into ${out}\n`);
}

/** Polls `pred` every 50 ms until it holds; throws after two minutes, naming `rollout` and `what`. */
async function waitFor(rollout: string, what: string, pred: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`${rollout}: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A worker on `taskQueue` of the server at `address`, calling the simulator `sim`. */
function recordingWorker(
  address: string,
  sim: { accessKeyId: string; accessKeySecret: string; endpoint: string },
  taskQueue: string,
) {
  return createRolloutWorker({
    target: { connectionOptions: { address }, namespace: 'default' },
    taskQueue,
    credentials: {
      getCredentials: () =>
        Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
    },
    sagEndpoint: sim.endpoint,
    apiRate: 200,
  });
}

/** Writes the history of every workflow run the visibility query finds; returns how many. */
async function save(client: Client, query: string, out: string): Promise<number> {
  let n = 0;
  for await (const wf of client.workflow.list({ query })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    // Binary protobuf, the format Temporal's own tools read back exactly.
    const name = `${wf.type}-${wf.workflowId.replace(/[^A-Za-z0-9-]/g, '_')}-${wf.runId.slice(-12)}.bin`;
    writeFileSync(path.join(out, name), temporal.api.history.v1.History.encode(history).finish());
    n++;
  }
  return n;
}

/**
 * Third rollout, on a server of its own that suggests continue-as-new after a few dozen events,
 * so the rollout crosses several runs between parts of two devices: a pace change in the first
 * run and the same command repeated in a later one, a pause and resume there, and an abort that
 * compensates a device whose upgrade reverted in an earlier run.
 */
async function recordContinueAsNew(out: string): Promise<number> {
  const server = await startDevServer({
    dbFile: ':memory:',
    uiPort: false,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
  });
  const ids = Array.from({ length: 14 }, (_, i) => `sag-rec3${String(i + 1).padStart(2, '0')}`);
  const sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: ids.map((id, i) =>
        i === 2
          ? instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' } })
          : instance(id),
      ),
    },
  });
  const taskQueue = 'record-histories-can';
  const worker = await recordingWorker(server.address, sim, taskQueue);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const rolloutId = 'replay-3';
  const handle = await client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue,
    args: [
      {
        rolloutId,
        inventory: ids.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
        policy: fastRolloutPolicy({
          maxPartSize: 2,
          concurrency: 2,
          waves: { cumulativePercents: [100] },
          failureBudget: {
            maxFailurePercent: 100,
            minFailures: 100,
            maxConsecutiveFailures: 0,
            onBreach: 'pause',
          },
        }),
        operator: 'alice',
        ticket: 'CHG-REPLAY-3',
        taskQueue,
      },
    ],
  });
  const cmd = (by: string) => ({ by, reason: 'recording', requestId: randomUUID() });
  const latest = client.workflow.getHandle<typeof rolloutWorkflow>(`rollout/${rolloutId}`);
  const until = (what: string, pred: () => Promise<boolean>) => waitFor('replay-3', what, pred);
  await worker.worker.runUntil(async () => {
    const pace = { ...cmd('alice'), concurrency: 1 };
    await handle.executeUpdate(setPaceUpdate, { args: [pace] });
    await until('a second run', async () => (await latest.describe()).runId !== handle.firstExecutionRunId);
    await latest.executeUpdate(setPaceUpdate, { args: [pace] });
    await latest.executeUpdate(pauseUpdate, { args: [cmd('alice')] });
    await until('the pause', async () => (await latest.query(progressQuery)).state === 'paused');
    await latest.executeUpdate(resumeUpdate, { args: [cmd('alice')] });
    await until('the failed device and more parts', async () => {
      const p = await latest.query(progressQuery);
      return p.counts.failed >= 1 && p.counts.upgraded >= 6;
    });
    await latest.executeUpdate(abortUpdate, { args: [{ ...cmd('alice'), compensate: true }] });
    const r = await latest.result();
    if (r.state !== 'aborted') throw new Error(`replay-3 ended ${r.state}, not aborted`);
  });
  await worker.shutdown();
  const n = await save(client, `SagRolloutId = '${rolloutId}'`, out);
  await connection.close();
  await sim.stop();
  await server.stop();
  return n;
}

/**
 * Fourth rollout, with overlapping parts of four devices at concurrency 2: part 1 holds a slow
 * device while part 2 starts on the slot its quick devices freed; part 2's revert halts the
 * rollout (part 1 is told at once), the operator resumes, raises the concurrency, and the rollout
 * completes.
 */
async function recordOverlap(out: string): Promise<number> {
  const server = await startDevServer({ dbFile: ':memory:', uiPort: false });
  const ids = Array.from({ length: 12 }, (_, i) => `sag-rec4${String(i + 1).padStart(2, '0')}`);
  const sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: ids.map((id, i) => {
        if (i === 0)
          return instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 3, outcome: 'ok' } });
        if (i === 5)
          return instance(id, {
            simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' },
          });
        return instance(id);
      }),
    },
  });
  const taskQueue = 'record-histories-overlap';
  const worker = await recordingWorker(server.address, sim, taskQueue);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const rolloutId = 'replay-4';
  const handle = await client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue,
    args: [
      {
        rolloutId,
        inventory: ids.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
        policy: fastRolloutPolicy({
          canary: { count: 0 },
          waves: { cumulativePercents: [100] },
          maxPartSize: 4,
          concurrency: 2,
          overlapParts: true,
          healthRecheck: false,
          verify: { timeout: 20_000, pollInterval: 100, consecutivePolls: 2 },
          failureBudget: {
            maxFailurePercent: 10,
            minFailures: 1,
            maxConsecutiveFailures: 0,
            onBreach: 'pause',
          },
        }),
        operator: 'alice',
        ticket: 'CHG-REPLAY-4',
        taskQueue,
      },
    ],
  });
  const cmd = (by: string) => ({ by, reason: 'recording', requestId: randomUUID() });
  const until = (what: string, pred: () => Promise<boolean>) => waitFor('replay-4', what, pred);
  await worker.worker.runUntil(async () => {
    await until('the halt', async () => {
      const p = await handle.query(progressQuery);
      return p.state === 'paused' && p.haltReason !== undefined;
    });
    await handle.executeUpdate(resumeUpdate, { args: [cmd('alice')] });
    await handle.executeUpdate(setPaceUpdate, { args: [{ ...cmd('alice'), concurrency: 3 }] });
    const r = await handle.result();
    if (r.state !== 'completed') throw new Error(`replay-4 ended ${r.state}, not completed`);
  });
  await worker.shutdown();
  const n = await save(client, `SagRolloutId = '${rolloutId}'`, out);
  await connection.close();
  await sim.stop();
  await server.stop();
  return n;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
