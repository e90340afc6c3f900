import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { createRolloutWorker, type RolloutWorker } from '../../src/temporal/worker';
import { progressQuery } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import { fastRolloutPolicy, instance, VERSIONS } from '../helpers/fixtures';
import { testConnectionOptions, workflowBundle } from '../helpers/temporal';
import { CAN_NAMESPACE, CAN_THRESHOLD } from './constants';

// The cluster suggests continue-as-new after CAN_THRESHOLD events in this namespace only
// (dynamic config constrained by namespace), so a small rollout crosses several runs.
let sim: SimulatorHandle;
let worker: RolloutWorker;
let running: Promise<void>;
let client: Client;
const taskQueue = `can-${randomUUID().slice(0, 8)}`;
const ids = Array.from({ length: 16 }, (_, i) => `sag-ccan${String(i + 1).padStart(2, '0')}`);

beforeAll(async () => {
  sim = await startSimulator({ fleet: { versions: VERSIONS, instances: ids.map((id) => instance(id)) } });
  const connectionOptions = testConnectionOptions();
  worker = await createRolloutWorker({
    target: { connectionOptions, namespace: CAN_NAMESPACE },
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
  client = new Client({
    connection: await Connection.connect({ address: connectionOptions.address, tls: connectionOptions.tls }),
    namespace: CAN_NAMESPACE,
  });
});

afterAll(async () => {
  worker?.worker.shutdown();
  await running?.catch(() => undefined);
  await worker?.connection.close().catch(() => undefined);
  await client?.connection.close();
  await sim?.stop();
});

describe('continue-as-new on the cluster', () => {
  it(`continues as new at a threshold of ${CAN_THRESHOLD} events and upgrades each device once`, async () => {
    const rolloutId = `ccan-${randomUUID().slice(0, 8)}`;
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
            waves: { cumulativePercents: [50, 100] },
          }),
          operator: 'alice',
          ticket: 'CHG-CCAN',
          taskQueue,
        },
      ],
    });
    const latest = client.workflow.getHandle<typeof rolloutWorkflow>(`rollout/${rolloutId}`);
    const result = await latest.result();
    expect(result.state).toBe('completed');
    expect(result.counts.upgraded).toBe(ids.length);
    expect((await latest.query(progressQuery)).counts.upgraded).toBe(ids.length);
    const calls = sim
      .devices()
      .filter((d) => ids.includes(d.SmartAGId))
      .map((d) => d.upgradeCallsByVersion['2.4.0.0']);
    expect(calls).toEqual(ids.map(() => 1));
    // Follow the chain of runs: every run but the last ends by continuing as new.
    let runs = 0;
    for (let run: string | undefined = handle.firstExecutionRunId; run; runs++) {
      const history: temporal.api.history.v1.IHistory = await client.workflow
        .getHandle(`rollout/${rolloutId}`, run)
        .fetchHistory();
      const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
      run = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    expect(runs).toBeGreaterThan(2);
    console.info(`cluster continue-as-new: ${runs} runs for ${ids.length} devices`);
  }, 240_000);
});
