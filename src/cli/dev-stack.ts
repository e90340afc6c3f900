/** The local stack `dev` runs: a Temporal dev server, the SAG simulator and a worker, stopped together. */

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { SagSignature } from '../sag/client';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../simulator';
import { connectClient } from '../temporal/connection';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import type { RolloutWorker } from '../temporal/worker';
import { info } from './output';
import { createWorker } from './rollout-worker';

/** The files another terminal needs to drive the stack. */
export interface DevFiles {
  /** `TEMPORAL_ADDRESS`, `SAG_ENDPOINT` and the simulator's keys, to `source` (mode 0600). */
  envFile: string;
  /** The simulated fleet as an inventory. */
  inventoryFile: string;
}

/**
 * The parts start one after another; {@link DevStack.stop} stops whatever started, in reverse,
 * also after a part failed to start.
 */
export class DevStack {
  server?: DevServer;
  sim?: SimulatorHandle;
  worker?: RolloutWorker;
  private running?: Promise<void>;
  private client?: Client;

  /** Starts the Temporal dev server (SQLite in `dbFile`, the web UI on `uiPort` unless false). */
  async startServer(o: {
    port?: number;
    uiPort?: number | false;
    dbFile?: string;
    dataDir: string;
  }): Promise<DevServer> {
    info(
      `dev: starting the Temporal dev server (SQLite ${path.relative(process.cwd(), o.dbFile ?? path.join(o.dataDir, 'temporal.db')) || '.'})`,
    );
    this.server = await startDevServer({
      port: o.port,
      uiPort: o.uiPort,
      dbFile: o.dbFile,
      log: (l) => info(`dev: ${l}`),
    });
    return this.server;
  }

  async startSimulator(options: SimulatorOptions): Promise<SimulatorHandle> {
    this.sim = await startSimulator(options);
    info(
      `dev: SAG simulator at ${this.sim.endpoint} (${new Set(this.sim.devices().map((d) => d.SmartAGId)).size} instances)`,
    );
    return this.sim;
  }

  /** Starts a worker on the dev server that calls the simulator with its keys. */
  async startWorker(o: {
    taskQueue: string;
    apiRate: number;
    reportsDir: string;
    signature: SagSignature;
  }): Promise<RolloutWorker> {
    const { server, sim } = this.started();
    const simCreds = { accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret };
    info('dev: starting the worker (bundling the workflows takes a few seconds)');
    ({ worker: this.worker } = await createWorker({
      target: this.target(server),
      taskQueue: o.taskQueue,
      apiRate: o.apiRate,
      reportsDir: o.reportsDir,
      env: process.env,
      credentials: { getCredentials: () => Promise.resolve(simCreds) },
      sagEndpoint: sim.endpoint,
      signature: o.signature,
    }));
    this.running = this.worker.worker.run();
    return this.worker;
  }

  /** Writes what another terminal needs: the simulator's keys stay in a private file. */
  writeFiles(dataDir: string, signature: SagSignature): DevFiles {
    const { server, sim } = this.started();
    mkdirSync(dataDir, { recursive: true });
    const envFile = path.join(dataDir, 'dev.env');
    writeFileSync(
      envFile,
      `TEMPORAL_ADDRESS=${server.address}\nSAG_ENDPOINT=${sim.endpoint}\nSAG_SIGNATURE=${signature}\nSAG_SIMULATOR_ACCESS_KEY_ID=${sim.accessKeyId}\nSAG_SIMULATOR_ACCESS_KEY_SECRET=${sim.accessKeySecret}\n`,
      { mode: 0o600 },
    );
    const inventoryFile = path.join(dataDir, 'dev-inventory.csv');
    const ids = [...new Map(sim.devices().map((d) => [d.SmartAGId, d.RegionId])).entries()];
    writeFileSync(inventoryFile, `SmartAGId,RegionId\n${ids.map(([id, r]) => `${id},${r}`).join('\n')}\n`);
    return { envFile, inventoryFile };
  }

  /** Resolves when the worker stops (Ctrl-C). */
  async untilWorkerStops(): Promise<void> {
    await this.running;
  }

  /** A client of the dev server, closed with the stack. */
  async connect(): Promise<Client> {
    this.client = await connectClient(this.target(this.started().server));
    return this.client;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker && worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
    await this.running?.catch(() => undefined);
    await worker?.connection.close().catch(() => undefined);
    await this.client?.connection.close().catch(() => undefined);
    await this.sim?.stop().catch(() => undefined);
    await this.server?.stop().catch(() => undefined);
  }

  private target(server: DevServer) {
    return { connectionOptions: { address: server.address }, namespace: server.namespace };
  }

  private started(): { server: DevServer; sim: SimulatorHandle } {
    if (!this.server || !this.sim) throw new Error('the dev server and the simulator start first');
    return { server: this.server, sim: this.sim };
  }
}
