import net from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import type { SagSignature } from '../../sag/client';
import { loadFleetFile, type FleetFile, type SimulatorHandle, type SimulatorOptions } from '../../simulator';
import type { DevServer } from '../../temporal/dev-server';
import { projectRoot } from '../../temporal/tooling';
import type { RolloutWorker } from '../../temporal/worker';
import { action, globalsOf, targetOf } from '../context';
import { runDemo } from '../demo';
import { buildDemoFleet, inventoryOf } from '../demo-fleet';
import { DevStack, type DevFiles } from '../dev-stack';
import { ExitCode, type ExitCodeValue } from '../errors';
import { positiveNumber, sagSignature, wholeNumber } from '../inputs';
import { durationFlag, signatureOption } from '../options';
import { info, out } from '../output';
import { formatSpan } from '../render/table';
import { describeSignature, installLogging } from '../rollout-worker';

interface DevFlags {
  demo?: boolean;
  port?: number;
  uiPort?: number;
  ui: boolean;
  db?: string;
  devices?: number;
  seed?: number;
  fleet?: string;
  apiRate?: number;
  reportsDir: string;
  demoPause: number;
  signature?: string;
}

/** `dev`: the local stack in one process, and with `--demo` the demo rollout on it. */
export function registerDev(program: Command): void {
  const cmd = program
    .command('dev')
    .description(
      'start a local Temporal dev server (SQLite in .data/, web UI), the SAG simulator and a worker together',
    )
    .option('--demo', 'run the demo rollout of ~300 simulated devices, then exit (0 when it worked)')
    .option('--port <port>', 'Temporal gRPC port (default 7233 when free; the UI is on port + 1000)', (v) =>
      wholeNumber(v, '--port', 1),
    )
    .option('--ui-port <port>', 'Temporal web UI port', (v) => wholeNumber(v, '--ui-port', 1))
    .option('--no-ui', 'run the dev server without its web UI')
    .option('--db <file>', 'SQLite file of the dev server (default .data/temporal.db)')
    .option('--devices <n>', 'simulated instances (default 50; 300 for --demo)', (v) =>
      wholeNumber(v, '--devices', 1),
    )
    .option('--seed <n>', 'seed of the generated fleet', (v) => wholeNumber(v, '--seed'))
    .option('--fleet <file>', 'simulator fleet file instead of a generated fleet (see docs/simulator.md)')
    .option('--api-rate <r>', 'smartag requests per second (default 20; 100 for --demo)', (v) =>
      positiveNumber(v, '--api-rate'),
    )
    .option('--reports-dir <dir>', 'where closing rollouts write their reports', 'reports')
    .option(
      '--demo-pause <duration>',
      'how long the demo shows the approval gate and the halt before acting',
      durationFlag('--demo-pause'),
      5000,
    );
  signatureOption(cmd).action(
    action(async (o: DevFlags, c: Command) => {
      const g = globalsOf(c);
      const signature = sagSignature(o.signature, process.env);
      return runDev({
        signature,
        port: o.port,
        uiPort: o.ui ? o.uiPort : false,
        dbFile: o.db ? path.resolve(o.db) : undefined,
        devices: o.devices,
        seed: o.seed,
        fleet: o.fleet,
        apiRate: o.apiRate ?? (o.demo ? 100 : 20),
        reportsDir: path.resolve(o.reportsDir),
        taskQueue: targetOf(g).taskQueue,
        demo: Boolean(o.demo),
        demoPauseSeconds: o.demoPause / 1000,
        json: Boolean(g.json),
      });
    }),
  );
}

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

/**
 * `dev`: the local Temporal dev server (SQLite under .data/, web UI), the SAG simulator and a
 * worker in one process. With `demo`, it then runs the demo rollout and returns its exit code;
 * otherwise it runs until SIGINT or SIGTERM.
 */
export async function runDev(o: DevOptions): Promise<ExitCodeValue> {
  const dataDir = path.join(projectRoot(), '.data');
  installLogging('info', path.join(dataDir, 'dev-worker.log'));
  const started = Date.now();
  const stack = new DevStack();
  try {
    const port = o.port ?? ((await portFree(7233)) && (await portFree(8233)) ? 7233 : undefined);
    const server = await stack.startServer({ port, uiPort: o.uiPort, dbFile: o.dbFile, dataDir });
    const demo = o.demo ? buildDemoFleet(o.devices ?? 300, o.seed ?? 7) : undefined;
    const sim = await stack.startSimulator(await simulatorOptions(o, demo?.fleet));
    const worker = await stack.startWorker(o);
    const files = stack.writeFiles(dataDir, o.signature);
    const rel = (p: string) => path.relative(process.cwd(), p) || p;
    const banner = [
      `Temporal      ${server.address} (namespace ${server.namespace})`,
      `Temporal UI   ${server.uiUrl ?? '(headless)'}`,
      `SAG simulator ${sim.endpoint}`,
      `worker        task queue ${worker.taskQueue}, API rate ${o.apiRate}/s, smartag ${describeSignature(o.signature)}, reports into ${rel(o.reportsDir)}, log ${rel(path.join(dataDir, 'dev-worker.log'))}`,
    ];
    info(`dev: up in ${formatSpan(Date.now() - started)}\n  ${banner.join('\n  ')}`);
    if (!demo) {
      printNextSteps({ server, sim, worker }, files, o.json);
      await stack.untilWorkerStops();
      return ExitCode.ok;
    }
    return await runDemo(await stack.connect(), {
      inventory: inventoryOf(demo.fleet),
      taskQueue: worker.taskQueue,
      uiUrl: server.uiUrl,
      namespace: server.namespace,
      pauseMs: o.demoPauseSeconds * 1000,
      design: demo.design,
      startedAt: started,
      json: o.json,
    });
  } finally {
    await stack.stop();
  }
}

async function simulatorOptions(o: DevOptions, demoFleet: FleetFile | undefined): Promise<SimulatorOptions> {
  if (demoFleet) return { fleet: demoFleet };
  if (o.fleet) return { fleet: await loadFleetFile(o.fleet) };
  return {
    generate: {
      devices: o.devices ?? 50,
      seed: o.seed ?? 1,
      simulation: { downloadSeconds: 1, upgradeSeconds: 4 },
    },
  };
}

/** What to run in another terminal, and with `--json` the stack's addresses on stdout. */
function printNextSteps(
  stack: { server: DevServer; sim: SimulatorHandle; worker: RolloutWorker },
  files: DevFiles,
  json: boolean,
): void {
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  info(
    [
      'In another terminal:',
      `  set -a; . ${rel(files.envFile)}; set +a`,
      `  sag-rollout plan --inventory ${rel(files.inventoryFile)} --target-version 2.4.0.0`,
      `  sag-rollout start --inventory ${rel(files.inventoryFile)} --target-version 2.4.0.0 --bake 10s --yes --watch`,
      'Ctrl-C stops everything (the dev server keeps its history in .data/).',
    ].join('\n'),
  );
  if (json)
    out(
      JSON.stringify({
        address: stack.server.address,
        namespace: stack.server.namespace,
        uiUrl: stack.server.uiUrl,
        simulator: stack.sim.endpoint,
        taskQueue: stack.worker.taskQueue,
        envFile: files.envFile,
        inventoryFile: files.inventoryFile,
      }),
    );
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
