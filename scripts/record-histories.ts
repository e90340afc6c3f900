/**
 * Records the histories of a full rollout (canary, approval gate, a failure-budget breach with
 * compensation of an HA pair, resume, completion) into test/fixtures/histories/, for the replay
 * test that runs them through the current workflow code (binary protobuf, one file per workflow). Run: `npx tsx scripts/record-histories.ts`.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startSimulator } from '../src/simulator';
import { startDevServer } from '../src/temporal/dev-server';
import { createRolloutWorker } from '../src/temporal/worker';
import { approveUpdate, progressQuery, resumeUpdate } from '../workflows/messages';
import { rolloutWorkflow } from '../workflows/rollout';
import { fastRolloutPolicy, haInstance, instance, VERSIONS } from '../test/helpers/fixtures';

async function main(): Promise<void> {
  const out = path.resolve(__dirname, '../test/fixtures/histories');
  mkdirSync(out, { recursive: true });
  const server = await startDevServer({ dbFile: ':memory:', uiPort: false });
  const ids = ['sag-rec01', 'sag-rec02', 'sag-rec03', 'sag-rec04', 'sag-rec05', 'sag-rec06'];
  const sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: ids.map((id, i) => {
        if (i === 1) {
          const ha = haInstance(id);
          return { ...ha, Devices: [{ ...ha.Devices[0]!, simulation: { outcomes: ['revert', 'ok'] } }, ha.Devices[1]!] };
        }
        if (i === 2) return instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' } });
        return instance(id);
      }),
    },
  });
  const taskQueue = 'record-histories';
  const worker = await createRolloutWorker({
    target: { connectionOptions: { address: server.address }, namespace: 'default' },
    taskQueue,
    credentials: { getCredentials: () => Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }) },
    sagEndpoint: sim.endpoint,
    apiRate: 200,
  });
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
          failureBudget: { maxFailurePercent: 20, minFailures: 2, maxConsecutiveFailures: 0, onBreach: 'pause' },
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
  let n = 0;
  for await (const wf of client.workflow.list({ query: `SagRolloutId = '${rolloutId}'` })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    // Binary protobuf, the format Temporal's own tools read back exactly.
    const name = `${wf.type}-${wf.workflowId.replace(/[^A-Za-z0-9-]/g, "_")}-${wf.runId.slice(-12)}.bin`;
    writeFileSync(path.join(out, name), temporal.api.history.v1.History.encode(history).finish());
    n++;
  }
  process.stderr.write(`recorded ${n} histories into ${out}\n`);
  await connection.close();
  await worker.connection.close();
  await sim.stop();
  await server.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
