import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { freePort, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { VERSIONS } from '../helpers/stack';
import { uniqueName, workflowBundle } from '../helpers/temporal';
import {
  allDevices,
  inventoryOf,
  maxCallsPerSerialAndVersion,
  quickFleet,
  quickPolicy,
  spawnWorker,
  startRollout,
  untilProgress,
  waitFor,
  type WorkerProcess,
} from './helpers';

const FINAL = ['upgraded', 'skipped', 'failed', 'excluded', 'compensated'];
const FLEET_C = quickFleet('krc', 150);
let sim: SimulatorHandle;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  sim = await startSimulator({ fleet: { versions: VERSIONS, instances: FLEET_C }, requestLogSize: 20_000 });
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await sim?.stop();
});

function worker(address: string, taskQueue: string): WorkerProcess {
  const w = spawnWorker({ address, taskQueue, sim, apiRate: 400, workflowBundle: workflowBundle().codePath });
  workers.push(w);
  return w;
}

describe('Temporal server restart', () => {
  it('completes a rollout when the Temporal server itself restarts mid-rollout', async () => {
    const dbFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'sag-rel-server-')), 'temporal.db');
    const port = await freePort();
    let server: DevServer | undefined = await startDevServer({
      dbFile,
      uiPort: false,
      port,
      log: () => undefined,
    });
    const conn = await Connection.connect({ address: server.address });
    const client = new Client({ connection: conn, namespace: 'default' });
    const taskQueue = uniqueName('crash-c');
    try {
      let w = worker(server.address, taskQueue);
      await w.ready;
      const rolloutId = uniqueName('crash-c');
      const h = await startRollout(
        client,
        taskQueue,
        rolloutId,
        inventoryOf(FLEET_C),
        quickPolicy({ concurrency: 30, canary: { count: 2 }, waves: { cumulativePercents: [30, 100] } }),
      );
      await untilProgress(
        h,
        'a third of the fleet done',
        (x) => x.counts.upgraded >= FLEET_C.length / 3,
        120_000,
      );
      await server.stop();
      server = await startDevServer({ dbFile, uiPort: false, port, log: () => undefined });
      // A worker that gave up while the server was away is started again; one that waited resumes.
      if (w.proc.exitCode !== null) {
        w = worker(server.address, taskQueue);
        await w.ready;
      }
      const r = await waitFor('the rollout result', async () => h.result(), 150_000, 500);
      expect(r.state).toBe('completed');
      const devices = await allDevices(h);
      expect(devices).toHaveLength(FLEET_C.length);
      for (const d of devices) expect(FINAL).toContain(d.outcome);
      expect(r.counts.upgraded).toBe(FLEET_C.length);
      expect(maxCallsPerSerialAndVersion(sim, new Set(FLEET_C.map((i) => i.SmartAGId)))).toBe(1);
    } finally {
      await conn.close();
      await server?.stop();
    }
  }, 200_000);
});
