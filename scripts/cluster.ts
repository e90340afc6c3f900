/**
 * `npm run cluster`: a production-shaped Temporal cluster on this machine, for trying sag-rollout
 * where operators run it, and for the cluster test suite (which calls the same `startCluster`).
 *
 *   the Temporal server 1.32.0 and temporal-sql-tool, built once with `go install` into
 *   .tools/temporal-server/1.32.0/ (10 to 47 minutes on two cores), reused afterwards;
 *   PostgreSQL (Debian's) initialised in a temp folder, persistence and SQL visibility schemas;
 *   4 history shards; mutual TLS on the frontend with a CA and certificates made for the run;
 *   the namespace and search attributes prepared as `sag-rollout setup` does.
 *
 * Prints the address and how to connect (a temporal.toml profile and environment variables), then
 * runs until Ctrl-C. Options: --shards N, --no-tls, --namespace NS, --retention DAYS,
 * --dir DIR (keep the cluster's data there across runs), --build-only (build or find the
 * binaries and exit), --check (start, print, stop: measures a start), --json.
 */
import { Command } from 'commander';
import { ensureClusterBinaries, startCluster, type LocalCluster } from '../src/temporal/cluster';

interface Options {
  shards: number;
  tls: boolean;
  namespace: string;
  retention: number;
  dir?: string;
  buildOnly?: boolean;
  check?: boolean;
  json?: boolean;
}

function howToConnect(c: LocalCluster): string {
  const lines = [
    '',
    `Temporal ${c.binaries.version} at ${c.address}: PostgreSQL ${c.postgres.host}:${c.postgres.port}, ${c.numHistoryShards} history shards, SQL visibility, ${c.tls ? 'mutual TLS' : 'no TLS'}; namespace ${c.namespace}`,
    '',
    'Connect sag-rollout (CLI, worker, dashboard) or the temporal CLI through the profile:',
    `  export TEMPORAL_CONFIG_FILE=${c.profile.file}`,
    `  export TEMPORAL_PROFILE=${c.profile.name}`,
  ];
  if (c.tls)
    lines.push(
      'or with environment variables alone:',
      `  export TEMPORAL_ADDRESS=${c.address} TEMPORAL_NAMESPACE=${c.namespace}`,
      `  export TEMPORAL_TLS_SERVER_CA_CERT_PATH=${c.tls.caCert} TEMPORAL_TLS_SERVER_NAME=${c.tls.serverName}`,
      `  export TEMPORAL_TLS_CLIENT_CERT_PATH=${c.tls.clientCert} TEMPORAL_TLS_CLIENT_KEY_PATH=${c.tls.clientKey}`,
    );
  lines.push(
    '',
    'then, e.g.: npx sag-rollout setup && npx sag-rollout worker   (server log: ' + c.serverLog + ')',
    'Ctrl-C stops the cluster' + (c.dir.includes('sag-cluster-') ? ' and removes its folder' : ''),
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const program = new Command('cluster')
    .option('--shards <n>', 'history shards', (v) => Number(v), 4)
    .option('--no-tls', 'no TLS on the frontend')
    .option('--namespace <ns>', 'the namespace to prepare', 'default')
    .option('--retention <days>', 'its retention in days', (v) => Number(v), 3)
    .option('--dir <dir>', 'keep the data in this folder across runs (default: a temp folder)')
    .option('--build-only', 'build or find the binaries, then exit')
    .option('--check', 'start, print how to connect, stop')
    .option('--json', 'print the cluster as JSON on stdout')
    .parse(process.argv);
  const o = program.opts<Options>();
  const log = (l: string) => process.stderr.write(`${l}\n`);
  if (o.buildOnly) {
    const t = Date.now();
    const b = await ensureClusterBinaries({ log });
    process.stdout.write(`${JSON.stringify({ ...b, ms: Date.now() - t })}\n`);
    return;
  }
  const c = await startCluster({
    numHistoryShards: o.shards,
    tls: o.tls,
    namespace: o.namespace,
    retentionDays: o.retention,
    dir: o.dir,
    log,
  });
  if (o.json)
    process.stdout.write(
      `${JSON.stringify(
        {
          address: c.address,
          namespace: c.namespace,
          numHistoryShards: c.numHistoryShards,
          dir: c.dir,
          env: c.env,
          tls: c.tls,
          postgres: { host: c.postgres.host, port: c.postgres.port },
          serverLog: c.serverLog,
          timings: c.timings,
          setup: c.setup,
        },
        null,
        2,
      )}\n`,
    );
  else process.stdout.write(`${howToConnect(c)}\n`);
  const t = c.timings;
  log(
    `cluster: started in ${(t.totalMs / 1000).toFixed(1)} s (binaries ${t.buildMs !== undefined ? `built in ${(t.buildMs / 60_000).toFixed(1)} min` : `cached, ${t.binariesMs} ms`}; PostgreSQL ${t.postgresMs} ms; schemas ${t.schemaMs} ms; server ${t.serverMs} ms; setup ${t.setupMs} ms)`,
  );
  if (o.check) {
    await c.stop();
    return;
  }
  await new Promise<void>((resolve) => {
    const stop = () => void c.stop().then(resolve, resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log('cluster: stopped');
}

main().catch((err: unknown) => {
  process.stderr.write(`cluster: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
