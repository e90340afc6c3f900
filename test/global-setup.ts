import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { ensureSearchAttributes } from '../src/temporal/search-attributes';
import { Connection } from '@temporalio/client';
import { writeFileSync } from 'node:fs';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    tmpRoot: string;
    /** The CA and client certificate (PEM) of a TLS server; absent on the dev server. */
    temporalTls?: { ca: string; crt: string; key: string; serverName: string };
    /** Environment that points a child process (a worker, the CLI) at the server: a temporal.toml profile. */
    temporalEnv?: Record<string, string>;
  }
}

/**
 * One Temporal dev server for the whole run (or the one at TEMPORAL_ADDRESS), and the workflow
 * bundle built once, shared by every test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'sag-rollout-test-'));
  let server: DevServer | undefined;
  let address = process.env.TEMPORAL_ADDRESS;
  if (!address) {
    server = await startDevServer({ dbFile: path.join(tmpRoot, 'temporal.db'), uiPort: false });
    address = server.address;
    process.stderr.write(
      `test: Temporal dev server ${server.cli.version} at ${address}, healthy in ${server.startupMs} ms\n`,
    );
  }
  const conn = await Connection.connect({ address });
  await ensureSearchAttributes(conn, 'default');
  await conn.close();

  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../workflows/index.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const workflowBundlePath = path.join(tmpRoot, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, code);
  process.stderr.write(`test: workflow bundle built in ${Date.now() - started} ms\n`);

  project.provide('temporalAddress', address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('tmpRoot', tmpRoot);
  return async () => {
    await server?.stop();
    rmSync(tmpRoot, { recursive: true, force: true });
  };
}
