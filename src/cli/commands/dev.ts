import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { SagSignature } from '../../sag/client';
import {
  loadFleetFile,
  startSimulator,
  type FleetFile,
  type SimulatorHandle,
  type SimulatorOptions,
} from '../../simulator';
import { startDevServer, type DevServer } from '../../temporal/dev-server';
import { connectClient } from '../../temporal/connection';
import { projectRoot } from '../../temporal/tooling';
import type { RolloutWorker } from '../../temporal/worker';
import type { RolloutResult } from '../../../workflows/rollout';
import { canPrompt, info, out } from '../context';
import { buildDemoFleet, demoPolicy, inventoryOf } from '../demo-fleet';
import { ExitCode, type ExitCodeValue } from '../errors';
import { renderStatusText } from '../render/status-text';
import { clock, formatSpan } from '../render/table';
import { sendControl } from '../../operator/control';
import type { RolloutStatus } from '../../operator/status';
import { startRollout } from './start';
import { watchRollout } from './status';
import { createWorker, describeSignature, installLogging } from './worker';
import { rolloutWorkflowId } from '../../operator/ids';

export interface DevOptions {
  port?: number;
  uiPort?: number | false;
  dbFile?: string;
  devices?: number;
  seed?: number;
  fleet?: string;
  apiRate: number;
  reportsDir: string;
  taskQueue: string;
  demo: boolean;
  /** Seconds the demo waits before it approves the canary and resumes after the breach. */
  demoPauseSeconds: number;
  json: boolean;
  /** How the worker signs its smartag calls (the simulator serves both). */
  signature: SagSignature;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * `dev`: the local Temporal dev server (SQLite under .data/, web UI), the SAG simulator and a
 * worker in one process. With `demo`, it then runs the demo rollout and returns its exit code;
 * otherwise it runs until SIGINT or SIGTERM.
 */
export async function runDev(o: DevOptions): Promise<ExitCodeValue> {
  const root = projectRoot();
  const dataDir = path.join(root, '.data');
  installLogging('info', path.join(dataDir, 'dev-worker.log'));
  const started = Date.now();
  let server: DevServer | undefined;
  let sim: SimulatorHandle | undefined;
  let worker: RolloutWorker | undefined;
  let client: Client | undefined;
  let running: Promise<void> | undefined;
  try {
    const port = o.port ?? ((await portFree(7233)) && (await portFree(8233)) ? 7233 : undefined);
    info(
      `dev: starting the Temporal dev server (SQLite ${path.relative(process.cwd(), o.dbFile ?? path.join(dataDir, 'temporal.db')) || '.'})`,
    );
    server = await startDevServer({
      port,
      uiPort: o.uiPort,
      dbFile: o.dbFile,
      log: (l) => info(`dev: ${l}`),
    });
    const target = { connectionOptions: { address: server.address }, namespace: server.namespace };

    let fleet: FleetFile | undefined;
    let design: ReturnType<typeof buildDemoFleet>['design'] | undefined;
    const simOptions: SimulatorOptions = {};
    if (o.demo) {
      ({ fleet, design } = buildDemoFleet(o.devices ?? 300, o.seed ?? 7));
      simOptions.fleet = fleet;
    } else if (o.fleet) {
      simOptions.fleet = await loadFleetFile(o.fleet);
    } else {
      simOptions.generate = {
        devices: o.devices ?? 50,
        seed: o.seed ?? 1,
        simulation: { downloadSeconds: 1, upgradeSeconds: 4 },
      };
    }
    sim = await startSimulator(simOptions);
    const simCreds = { accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret };
    info(
      `dev: SAG simulator at ${sim.endpoint} (${new Set(sim.devices().map((d) => d.SmartAGId)).size} instances)`,
    );

    info('dev: starting the worker (bundling the workflows takes a few seconds)');
    ({ worker } = await createWorker({
      target,
      taskQueue: o.taskQueue,
      apiRate: o.apiRate,
      reportsDir: o.reportsDir,
      env: process.env,
      credentials: { getCredentials: () => Promise.resolve(simCreds) },
      sagEndpoint: sim.endpoint,
      signature: o.signature,
    }));
    running = worker.worker.run();

    // What another terminal needs to drive this stack: the simulator's keys stay in a private file.
    mkdirSync(dataDir, { recursive: true });
    const envFile = path.join(dataDir, 'dev.env');
    writeFileSync(
      envFile,
      `TEMPORAL_ADDRESS=${server.address}\nSAG_ENDPOINT=${sim.endpoint}\nSAG_SIGNATURE=${o.signature}\nSAG_SIMULATOR_ACCESS_KEY_ID=${sim.accessKeyId}\nSAG_SIMULATOR_ACCESS_KEY_SECRET=${sim.accessKeySecret}\n`,
      { mode: 0o600 },
    );
    const inventoryFile = path.join(dataDir, 'dev-inventory.csv');
    const ids = [...new Map(sim.devices().map((d) => [d.SmartAGId, d.RegionId])).entries()];
    writeFileSync(inventoryFile, `SmartAGId,RegionId\n${ids.map(([id, r]) => `${id},${r}`).join('\n')}\n`);

    const rel = (p: string) => path.relative(process.cwd(), p) || p;
    const banner = [
      `Temporal      ${server.address} (namespace ${server.namespace})`,
      `Temporal UI   ${server.uiUrl ?? '(headless)'}`,
      `SAG simulator ${sim.endpoint}`,
      `worker        task queue ${worker.taskQueue}, API rate ${o.apiRate}/s, smartag ${describeSignature(o.signature)}, reports into ${rel(o.reportsDir)}, log ${rel(path.join(dataDir, 'dev-worker.log'))}`,
    ];
    info(`dev: up in ${formatSpan(Date.now() - started)}\n  ${banner.join('\n  ')}`);
    if (!o.demo) {
      info(
        [
          'In another terminal:',
          `  set -a; . ${rel(envFile)}; set +a`,
          `  sag-rollout plan --inventory ${rel(inventoryFile)} --target-version 2.4.0.0`,
          `  sag-rollout start --inventory ${rel(inventoryFile)} --target-version 2.4.0.0 --bake 10s --yes --watch`,
          'Ctrl-C stops everything (the dev server keeps its history in .data/).',
        ].join('\n'),
      );
      if (o.json)
        out(
          JSON.stringify({
            address: server.address,
            namespace: server.namespace,
            uiUrl: server.uiUrl,
            simulator: sim.endpoint,
            taskQueue: worker.taskQueue,
            envFile,
            inventoryFile,
          }),
        );
      await running;
      return ExitCode.ok;
    }

    client = await connectClient(target);
    return await runDemo(client, {
      inventory: inventoryOf(fleet!),
      taskQueue: worker.taskQueue,
      uiUrl: server.uiUrl,
      namespace: server.namespace,
      pauseMs: o.demoPauseSeconds * 1000,
      design: design!,
      startedAt: started,
      json: o.json,
    });
  } finally {
    if (worker && worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
    await running?.catch(() => undefined);
    await worker?.connection.close().catch(() => undefined);
    await client?.connection.close().catch(() => undefined);
    await sim?.stop().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  }
}

interface DemoArgs {
  inventory: ReturnType<typeof inventoryOf>;
  taskQueue: string;
  uiUrl: string | undefined;
  namespace: string;
  pauseMs: number;
  design: ReturnType<typeof buildDemoFleet>['design'];
  startedAt: number;
  json: boolean;
}

/** Waits `ms`, or less when the operator presses Enter on a terminal. */
function waitOrEnter(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      if (canPrompt()) {
        process.stdin.off('data', done);
        process.stdin.pause();
      }
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (canPrompt()) {
      process.stdin.on('data', done);
      process.stdin.resume();
    }
  });
}

/**
 * The demo rollout: canary, an approval given after a short pause (Enter approves at once on a
 * terminal), growing waves, the budget breach in wave 2 with its compensated batch, a resume
 * after showing it, then the summary, the report files and the Temporal UI address.
 */
async function runDemo(client: Client, a: DemoArgs): Promise<ExitCodeValue> {
  const policy = demoPolicy();
  const rolloutId = `demo-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const live = Boolean(process.stdout.isTTY) && !a.json;
  const write = (t: string) => process.stdout.write(t);
  const r = await startRollout(client, {
    rolloutId,
    inventory: a.inventory,
    policy,
    operator: 'demo-operator',
    ticket: 'CHG-DEMO',
    taskQueue: a.taskQueue,
  });
  info(
    `demo: started rollout ${r.rolloutId}: ${r.devices} simulated devices to ${policy.targetVersion} in waves ${r.waves.map((w) => `${w.name} (${w.size})`).join(', ')}\n` +
      `demo: designed trouble: ${a.design.reverts.length} devices come back on the old version, one HA pair is split, ${a.design.offline.length} are offline, ${a.design.unbound.length} have no CCN`,
  );
  const notes: string[] = [];
  const note = (t: string) => {
    notes.push(`${clock()} ${t}`);
    if (!live) write(`${clock()} demo: ${t}\n`);
  };
  let approving = false;
  let resuming = false;
  let lastError: unknown;
  const act = (what: () => Promise<unknown>) => {
    void what().catch((err: unknown) => {
      lastError = err;
      note(`control failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  };
  let latest: RolloutStatus | undefined;
  const onStatus = (s: RolloutStatus) => {
    latest = s;
    // A gate is acted on once; a status read that started before the answer may still show it.
    if (s.state !== 'waiting-approval') approving = false;
    if (s.state !== 'paused') resuming = false;
    if (s.state === 'waiting-approval' && !approving) {
      approving = true;
      note(
        `the canary passed; approving wave-1 in ${Math.round(a.pauseMs / 1000)} s${canPrompt() ? ' (Enter approves now)' : ''}`,
      );
      act(async () => {
        await waitOrEnter(a.pauseMs);
        const res = await sendControl(client, rolloutId, 'approve', {
          by: 'demo-approver',
          reason: 'demo: canary looks healthy',
        });
        note(`approve: ${res.result?.message ?? 'sent'}`);
      });
    }
    if (s.state === 'paused' && s.haltReason && !resuming) {
      resuming = true;
      note(
        `halted: ${s.haltReason}; the failed batch is compensated; resuming in ${Math.round(a.pauseMs / 1000)} s`,
      );
      act(async () => {
        await new Promise((res) => setTimeout(res, a.pauseMs));
        // Resume once the halted part has compensated its batch, so the compensated devices show first.
        for (
          let i = 0;
          i < 60 &&
          !(
            latest?.part?.state === 'halted' &&
            latest.counts.compensated > 0 &&
            latest.counts['in-progress'] === 0
          );
          i++
        ) {
          await new Promise((res) => setTimeout(res, 500));
        }
        const res = await sendControl(client, rolloutId, 'resume', {
          by: 'demo-operator',
          reason: 'demo: breach reviewed, compensation done',
        });
        note(`resume: ${res.result?.message ?? 'sent'}`);
      });
    }
  };
  const final = await watchRollout(client, rolloutId, {
    intervalMs: 700,
    mode: a.json ? 'json' : live ? 'live' : 'lines',
    write,
    onStatus,
    footer: () => notes.slice(-4),
  });
  void lastError;
  const result = (await client.workflow
    .getHandle(rolloutWorkflowId(rolloutId))
    .result()
    .catch(() => undefined)) as RolloutResult | undefined;
  const files = result?.reportFiles ?? [];
  const ui = a.uiUrl
    ? `${a.uiUrl}/namespaces/${a.namespace}/workflows/${encodeURIComponent(rolloutWorkflowId(rolloutId))}`
    : undefined;
  if (a.json) {
    out(
      JSON.stringify({
        rolloutId,
        state: final.state,
        counts: final.counts,
        reportFiles: files,
        temporalUi: ui,
      }),
    );
  } else {
    out(`\n${renderStatusText(final)}\n`);
    out(`demo finished in ${formatSpan(Date.now() - a.startedAt)}: rollout ${rolloutId} ${final.state}`);
    const html = files.find((f) => f.endsWith('.html'));
    out(
      `report:      ${files.length ? files.map((f) => path.relative(process.cwd(), f)).join(', ') : '(not written)'}`,
    );
    if (html) out(`             open ${path.relative(process.cwd(), html)} in a browser`);
    out(`Temporal UI: ${ui ?? '(headless)'}`);
    out('             (the history stays in .data/: `npx sag-rollout dev` serves the UI again)');
  }
  return final.state === 'completed' ? ExitCode.ok : ExitCode.halted;
}
