/**
 * A production-shaped Temporal cluster on this machine: the official server (built from the Go
 * module proxy, cached under `.tools/`), PostgreSQL for persistence and SQL visibility, several
 * history shards, mutual TLS on the frontend, and the namespace prepared by `sag-rollout setup`'s
 * own logic. Started by `npm run cluster` (scripts/cluster.ts) and by the cluster test suite.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { clientConfigToToml } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { waitForHealth } from '../dev-server';
import { setupNamespace, type SetupResult } from '../setup';
import { ensureClusterBinaries, type ClusterBinaries } from './binaries';
import { generateTlsMaterial, type TlsMaterial } from './certificates';
import { startPostgres, type LocalPostgres } from './postgres';
import {
  CLUSTER_DYNAMIC_CONFIG,
  lowPorts,
  dynamicConfigYaml,
  pickClusterPorts,
  serverConfigYaml,
  type ClusterPorts,
  type DynamicConfigValue,
} from './server-config';

export { SERVER_VERSION, ensureClusterBinaries, recordedBuildMs } from './binaries';
export type { TlsMaterial } from './certificates';

/** The envconfig profile the cluster writes into its `temporal.toml`. */
export const CLUSTER_PROFILE = 'cluster';

export interface ClusterOptions {
  /** Where the cluster keeps everything (PostgreSQL data, certificates, config, logs). Default: a new temp folder, removed on stop. */
  dir?: string;
  /** History shards (fixed for the life of the cluster's database). Default 4. */
  numHistoryShards?: number;
  /** Mutual TLS on the frontend (default true). */
  tls?: boolean;
  /** The namespace to prepare (default `default`). */
  namespace?: string;
  /** Its retention in days (default 3). */
  retentionDays?: number;
  /** Extra dynamic config over {@link CLUSTER_DYNAMIC_CONFIG}. */
  dynamicConfig?: Record<string, DynamicConfigValue>;
  /** Server log level (default warn). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  log?: (line: string) => void;
}

/** How long each stage of the start took, in milliseconds. */
export interface ClusterTimings {
  binariesMs: number;
  /** Present when the binaries were built by this start. */
  buildMs?: number;
  postgresMs: number;
  schemaMs: number;
  serverMs: number;
  setupMs: number;
  totalMs: number;
}

export interface LocalCluster {
  /** The frontend, `127.0.0.1:<port>`. */
  address: string;
  namespace: string;
  numHistoryShards: number;
  dir: string;
  tls: TlsMaterial | undefined;
  /** Options for a worker's NativeConnection (or a Client's Connection): address and TLS. */
  connectionOptions: NativeConnectionOptions;
  /** The `temporal.toml` written for the run and its profile name. */
  profile: { file: string; name: string };
  /** Environment that points sag-rollout (and the `temporal` CLI) at the cluster through the profile. */
  env: Record<string, string>;
  binaries: ClusterBinaries;
  postgres: LocalPostgres;
  ports: ClusterPorts;
  serverLog: string;
  timings: ClusterTimings;
  setup: SetupResult;
  /** The server process's PID (changes on restart). */
  serverPid(): number | undefined;
  /** Stops the server process (SIGTERM waits for a clean stop; SIGKILL is a crash). */
  stopServer(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same database and ports and waits until it is healthy. */
  startServer(): Promise<void>;
  /** Stops the server, PostgreSQL, and removes the temp folder it created. */
  stop(): Promise<void>;
}

function sqlTool(b: ClusterBinaries, pg: LocalPostgres, database: string, args: string[]): void {
  const r = spawnSync(b.sqlTool, args, {
    encoding: 'utf8',
    timeout: 5 * 60_000,
    env: {
      ...process.env,
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: pg.host,
      SQL_PORT: String(pg.port),
      SQL_USER: pg.user,
      SQL_PASSWORD: pg.password,
      SQL_DATABASE: database,
    },
  });
  if (r.status !== 0)
    throw new Error(
      `temporal-sql-tool ${args.join(' ')} on ${database} failed: ${(r.stderr || r.stdout).trim().slice(-2000)}`,
    );
}

/**
 * Creates the persistence and visibility databases and applies the versioned schemas of the
 * server's version (idempotent: `update-schema` applies only what is new).
 */
function applySchemas(b: ClusterBinaries, pg: LocalPostgres, dir: string): void {
  const stores = [
    { db: 'temporal', schema: path.join(b.schemaDir, 'temporal', 'versioned') },
    { db: 'temporal_visibility', schema: path.join(b.schemaDir, 'visibility', 'versioned') },
  ];
  for (const s of stores) {
    const marker = path.join(dir, `.schema-${s.db}`);
    if (!existsSync(marker)) {
      sqlTool(b, pg, s.db, ['create-database']);
      sqlTool(b, pg, s.db, ['setup-schema', '-v', '0.0']);
      writeFileSync(marker, `${b.version}\n`);
    }
    sqlTool(b, pg, s.db, ['update-schema', '-d', s.schema]);
  }
}

function profileToml(address: string, namespace: string, tls: TlsMaterial | undefined): string {
  const toml = clientConfigToToml({
    profiles: {
      [CLUSTER_PROFILE]: {
        address,
        namespace,
        ...(tls
          ? {
              tls: {
                serverName: tls.serverName,
                serverCACert: { path: tls.caCert },
                clientCert: { path: tls.clientCert },
                clientKey: { path: tls.clientKey },
              },
            }
          : {}),
      },
    },
  });
  return typeof toml === 'string' ? toml : Buffer.from(toml).toString('utf8');
}

/**
 * Starts the cluster: binaries (built once per version), PostgreSQL in `dir`, the schemas, the
 * server with `numHistoryShards` shards and SQL visibility, mutual TLS on the frontend with
 * certificates generated for this run, then prepares the namespace through
 * {@link setupNamespace}, as `sag-rollout setup` would.
 * @throws Error naming the stage that failed (build, initdb, schema, server start, setup).
 */
export async function startCluster(o: ClusterOptions = {}): Promise<LocalCluster> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const started = Date.now();
  const ownDir = o.dir === undefined;
  const dir = o.dir ? path.resolve(o.dir) : mkdtempSync(path.join(os.tmpdir(), 'sag-cluster-'));
  mkdirSync(dir, { recursive: true });
  const namespace = o.namespace ?? 'default';
  const numHistoryShards = o.numHistoryShards ?? 4;
  let postgres: LocalPostgres | undefined;
  let server: ChildProcess | undefined;
  const cleanup = () => {
    server?.kill('SIGKILL');
    postgres?.stop();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    let t = Date.now();
    const binaries = await ensureClusterBinaries({ log });
    const binariesMs = Date.now() - t;

    t = Date.now();
    const passwordFile = path.join(dir, 'temporal-db-password');
    if (!existsSync(passwordFile))
      writeFileSync(passwordFile, randomBytes(12).toString('hex'), { mode: 0o600 });
    const password = readFileSync(passwordFile, 'utf8').trim();
    const [pgPort] = await lowPorts(1);
    postgres = startPostgres({
      dataDir: path.join(dir, 'pgdata'),
      port: pgPort!,
      user: 'temporal',
      password,
      log,
    });
    const postgresMs = Date.now() - t;

    t = Date.now();
    applySchemas(binaries, postgres, dir);
    const schemaMs = Date.now() - t;

    const tls = o.tls === false ? undefined : generateTlsMaterial(path.join(dir, 'tls'));
    const ports = await pickClusterPorts();
    const address = `127.0.0.1:${ports.frontend.grpc}`;
    const dynamicConfigFile = path.join(dir, 'dynamicconfig.yaml');
    writeFileSync(dynamicConfigFile, dynamicConfigYaml({ ...CLUSTER_DYNAMIC_CONFIG, ...o.dynamicConfig }));
    const configFile = path.join(dir, 'server.yaml');
    writeFileSync(
      configFile,
      serverConfigYaml({
        ports,
        numHistoryShards,
        postgres,
        databases: { persistence: 'temporal', visibility: 'temporal_visibility' },
        tls,
        dynamicConfigFile,
        logLevel: o.logLevel,
      }),
    );
    const connectionOptions: NativeConnectionOptions = {
      address,
      ...(tls
        ? {
            tls: {
              serverNameOverride: tls.serverName,
              serverRootCACertificate: readFileSync(tls.caCert),
              clientCertPair: { crt: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) },
            },
          }
        : {}),
    };
    const serverLog = path.join(dir, 'server.log');
    let exitReason: string | undefined;
    const launch = async () => {
      const fd = openSync(serverLog, 'a');
      exitReason = undefined;
      const child = spawn(binaries.server, ['--config-file', configFile, '--allow-no-auth', 'start'], {
        stdio: ['ignore', fd, fd],
        cwd: dir,
      });
      closeSync(fd);
      child.once('exit', (code, signal) => {
        exitReason = `code ${code ?? 'none'}, signal ${signal ?? 'none'} (log: ${serverLog})`;
      });
      server = child;
      await waitForHealth(address, 90_000, () => exitReason, {
        tls: connectionOptions.tls,
        server: 'the Temporal server',
        pollMs: 300,
      });
    };
    t = Date.now();
    await launch();
    const serverMs = Date.now() - t;
    log(`cluster: Temporal server ${binaries.version} healthy at ${address} in ${serverMs} ms`);

    t = Date.now();
    const conn = await Connection.connect({ address, tls: connectionOptions.tls });
    let setup: SetupResult;
    try {
      setup = await setupNamespace(conn, {
        namespace,
        address,
        retentionDays: o.retentionDays ?? 3,
        cloud: false,
      });
    } finally {
      await conn.close();
    }
    const setupMs = Date.now() - t;
    if (!setup.ready)
      throw new Error(
        `namespace ${namespace} could not be prepared: ${setup.steps
          .filter((s) => s.outcome === 'failed')
          .map((s) => `${s.subject}: ${s.detail ?? s.outcome}`)
          .join('; ')}`,
      );

    // A parent that exits without stop() (a crash, process.exit) takes the cluster with it.
    const onExit = () => {
      server?.kill('SIGKILL');
      postgres?.stop();
    };
    process.once('exit', onExit);

    const profileFile = path.join(dir, 'temporal.toml');
    writeFileSync(profileFile, profileToml(address, namespace, tls));
    const stopServer = async (signal: NodeJS.Signals = 'SIGTERM') => {
      const child = server;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    };
    return {
      address,
      namespace,
      numHistoryShards,
      dir,
      tls,
      connectionOptions,
      profile: { file: profileFile, name: CLUSTER_PROFILE },
      env: { TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: CLUSTER_PROFILE },
      binaries,
      postgres,
      ports,
      serverLog,
      timings: {
        binariesMs,
        ...(binaries.buildMs !== undefined ? { buildMs: binaries.buildMs } : {}),
        postgresMs,
        schemaMs,
        serverMs,
        setupMs,
        totalMs: Date.now() - started,
      },
      setup,
      serverPid: () => server?.pid,
      stopServer,
      startServer: launch,
      async stop() {
        process.removeListener('exit', onExit);
        await stopServer('SIGTERM');
        postgres?.stop();
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
