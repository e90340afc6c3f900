import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { createRolloutWorker, type RolloutWorker } from '../../src/temporal/worker';
import { auditQuery, progressQuery, setPaceUpdate } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import { fastRolloutPolicy, instance, VERSIONS } from '../helpers/fixtures';
import { workflowBundle } from '../helpers/temporal';

// A server of its own that suggests continue-as-new after a few dozen events, so a small rollout
// crosses several runs.
let server: DevServer;
let sim: SimulatorHandle;
let worker: RolloutWorker;
let running: Promise<void>;
let client: Client;
const taskQueue = 'can-test';
const ids = Array.from({ length: 12 }, (_, i) => `sag-can${String(i + 1).padStart(2, '0')}`);

beforeAll(async () => {
  server = await startDevServer({
    dbFile: ':memory:',
    uiPort: false,
    logFile: path.join(os.tmpdir(), `temporal-can-${randomUUID()}.log`),
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
  });
  sim = await startSimulator({ fleet: { versions: VERSIONS, instances: ids.map((id) => instance(id)) } });
  worker = await createRolloutWorker({
    target: { connectionOptions: { address: server.address }, namespace: 'default' },
    taskQueue,
    credentials: {
      getCredentials: () =>
        Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
    },
    sagEndpoint: sim.endpoint,
    apiRate: 500,
    workflowBundle: workflowBundle(),
  });
  running = worker.worker.run();
  client = new Client({ connection: await Connection.connect({ address: server.address }) });
});

afterAll(async () => {
  worker?.worker.shutdown();
  await running?.catch(() => undefined);
  await worker?.connection.close().catch(() => undefined);
  await client?.connection.close();
  await sim?.stop();
  await server?.stop();
});

describe('rolloutWorkflow continue-as-new', () => {
  it('continues as new between parts, keeping its state, audit and the idempotency of commands', async () => {
    const rolloutId = `can-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start(rolloutWorkflow, {
      workflowId: `rollout/${rolloutId}`,
      taskQueue,
      args: [
        {
          rolloutId,
          inventory: ids.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
          policy: fastRolloutPolicy({ maxPartSize: 2, concurrency: 2, waves: { cumulativePercents: [100] } }),
          operator: 'alice',
          ticket: 'CHG-CAN',
          taskQueue,
        },
      ],
    });
    const firstRun = handle.firstExecutionRunId;
    const pace = { by: 'alice', reason: 'slower', requestId: randomUUID(), concurrency: 1 };
    expect(await handle.executeUpdate(setPaceUpdate, { args: [pace] })).toMatchObject({
      accepted: true,
      duplicate: false,
    });

    const latest = client.workflow.getHandle<typeof rolloutWorkflow>(`rollout/${rolloutId}`);
    let runId = firstRun;
    for (let i = 0; i < 300 && runId === firstRun; i++) {
      runId = (await latest.describe()).runId;
      if (runId === firstRun) await new Promise((r) => setTimeout(r, 100));
    }
    expect(runId).not.toBe(firstRun);
    // The same command in a later run is recognised as a repeat.
    expect(await latest.executeUpdate(setPaceUpdate, { args: [pace] })).toMatchObject({ duplicate: true });

    const result = await latest.result();
    expect(result.state).toBe('completed');
    expect(result.counts.upgraded).toBe(ids.length);
    const upgrades = sim
      .devices()
      .filter((d) => ids.includes(d.SmartAGId))
      .map((d) => d.upgradeCalls);
    expect(upgrades).toEqual(ids.map(() => 1));
    const p = await latest.query(progressQuery);
    expect(p.pace.concurrency).toBe(1);
    const audit = await latest.query(auditQuery, 0);
    expect(audit[0]).toMatchObject({ kind: 'started', by: 'alice' });
    expect(audit.filter((a) => a.kind === 'set-pace')).toHaveLength(1);
    // Follow the chain of runs through their histories: each one stays far below Temporal's
    // warning threshold, and every run but the last ends by continuing as new.
    let runs = 0;
    for (let run: string | undefined = firstRun; run; runs++) {
      const history: temporal.api.history.v1.IHistory = await client.workflow
        .getHandle(`rollout/${rolloutId}`, run)
        .fetchHistory();
      const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
      expect(events.length).toBeLessThan(200);
      run = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    expect(runs).toBeGreaterThan(1);
  }, 120_000);
});
