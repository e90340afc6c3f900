import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startCluster, type LocalCluster } from '../../src/temporal/cluster';
import { clientTlsPem } from '../../src/temporal/cluster/certificates';
import { setupNamespace } from '../../src/temporal/setup';
import { CAN_NAMESPACE, CAN_THRESHOLD } from './constants';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `POST <url>/restart?signal=SIGKILL|SIGTERM` restarts the cluster's server; `GET <url>/` describes it. */
    clusterControlUrl: string;
    clusterInfo: {
      address: string;
      numHistoryShards: number;
      serverVersion: string;
      dir: string;
      profileFile: string;
    };
  }
}

/**
 * The cluster for `npm run test:cluster`: the Temporal server on PostgreSQL with 4 history shards,
 * SQL visibility and mutual TLS, started once for the run (scripts/cluster.ts's `startCluster`),
 * the namespace prepared by `sag-rollout setup`'s logic, and the workflow bundle built once. Tests
 * take its address and TLS material from the provided context (test/helpers/temporal.ts), child
 * processes its temporal.toml profile (`temporalEnv`). Restarting the server is a request to a
 * small control endpoint, because the server is a child of this process, not of the test files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'sag-rollout-cluster-test-'));
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const cluster: LocalCluster = await startCluster({
    numHistoryShards: 4,
    tls: true,
    retentionDays: 1,
    dynamicConfig: {
      'limit.historyCount.suggestContinueAsNew': [
        { value: CAN_THRESHOLD, constraints: { namespace: CAN_NAMESPACE } },
        { value: 4096 },
      ],
    },
    log,
  });
  const t = cluster.timings;
  log(
    `test: cluster ${cluster.binaries.version} at ${cluster.address} (${cluster.numHistoryShards} shards, PostgreSQL, mutual TLS) up in ${(t.totalMs / 1000).toFixed(1)} s` +
      (t.buildMs !== undefined ? ` including a ${(t.buildMs / 60_000).toFixed(1)} min build` : ''),
  );
  const conn = await Connection.connect({
    address: cluster.address,
    tls: cluster.connectionOptions.tls,
  });
  try {
    const can = await setupNamespace(conn, {
      namespace: CAN_NAMESPACE,
      address: cluster.address,
      retentionDays: 1,
      cloud: false,
    });
    if (!can.ready) throw new Error(`namespace ${CAN_NAMESPACE}: ${JSON.stringify(can.steps)}`);
  } finally {
    await conn.close();
  }

  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../workflows/index.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const workflowBundlePath = path.join(tmpRoot, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, code);
  log(`test: workflow bundle built in ${Date.now() - started} ms`);

  let restarts = 0;
  const control = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/restart') {
      const signal = url.searchParams.get('signal') === 'SIGTERM' ? 'SIGTERM' : 'SIGKILL';
      const t0 = Date.now();
      cluster
        .stopServer(signal)
        .then(() => cluster.startServer())
        .then(
          () => {
            restarts++;
            res.end(
              JSON.stringify({ restarted: true, signal, ms: Date.now() - t0, pid: cluster.serverPid() }),
            );
          },
          (err: unknown) => {
            res.statusCode = 500;
            res.end(JSON.stringify({ error: String(err) }));
          },
        );
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ address: cluster.address, pid: cluster.serverPid(), restarts }));
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));

  project.provide('temporalAddress', cluster.address);
  project.provide('temporalTls', clientTlsPem(cluster.tls!));
  project.provide('temporalEnv', cluster.env);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('tmpRoot', tmpRoot);
  project.provide('clusterControlUrl', `http://127.0.0.1:${(control.address() as AddressInfo).port}`);
  project.provide('clusterInfo', {
    address: cluster.address,
    numHistoryShards: cluster.numHistoryShards,
    serverVersion: cluster.binaries.version,
    dir: cluster.dir,
    profileFile: cluster.profile.file,
  });
  return async () => {
    await new Promise<void>((r) => control.close(() => r()));
    await cluster.stop();
    rmSync(tmpRoot, { recursive: true, force: true });
  };
}
