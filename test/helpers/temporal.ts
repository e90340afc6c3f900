import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { TemporalTarget } from '../../src/temporal/connection';

/**
 * How tests reach the run's server: its address, and on the TLS cluster of `npm run test:cluster`
 * (test/cluster/global-setup.ts) the run's CA and client certificate.
 */
export function testConnectionOptions(): NativeConnectionOptions {
  const tls = inject('temporalTls');
  return {
    address: inject('temporalAddress'),
    ...(tls
      ? {
          tls: {
            serverNameOverride: tls.serverName,
            serverRootCACertificate: Buffer.from(tls.ca),
            clientCertPair: { crt: Buffer.from(tls.crt), key: Buffer.from(tls.key) },
          },
        }
      : {}),
  };
}

/** The run's server and its `default` namespace, as a worker takes them. */
export function testTarget(): TemporalTarget {
  return { connectionOptions: testConnectionOptions(), namespace: 'default' };
}

/** Connects to the run's shared server (started once in global-setup). */
export async function connectTestEnv(): Promise<TestWorkflowEnvironment> {
  const { address, tls } = testConnectionOptions();
  return TestWorkflowEnvironment.createFromExistingServer({
    address,
    namespace: 'default',
    ...(tls ? { connectionOptions: { tls } } : {}),
  });
}

/** The workflow bundle built once per run. */
export function workflowBundle(): { codePath: string } {
  return { codePath: inject('workflowBundlePath') };
}

/** A task queue (or ID) no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
