import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { connectClient } from '../../src/temporal/connection';
import { uniqueName } from '../helpers/temporal';

// A workflow whose history holds more than gRPC's default 4 MiB message: four 1.5 MB signals
// recorded while no worker runs it. A large rollout's history is like that (part results of
// 1,000 devices each), and the report reads it whole.
const address = inject('temporalAddress');
let plain: Connection;
let handle: WorkflowHandle;

beforeAll(async () => {
  // No retry interceptor: a refused read fails at once instead of being retried for a minute.
  plain = await Connection.connect({ address, interceptors: [] });
  const client = new Client({ connection: plain, namespace: 'default' });
  handle = await client.workflow.start('noWorkerHere', {
    workflowId: uniqueName('big-history'),
    taskQueue: uniqueName('nobody'),
    args: [],
  });
  const blob = 'x'.repeat(1_500_000);
  for (let i = 0; i < 4; i++) await handle.signal('large', `${i}${blob}`);
});
afterAll(async () => {
  await handle?.terminate('test done').catch(() => undefined);
  await plain?.close();
});

describe('connectClient', () => {
  it('reads a history larger than gRPC’s default message limit', async () => {
    // The same read over a connection with gRPC's defaults fails: the history really is that large.
    await expect(handle.fetchHistory()).rejects.toThrow(/RESOURCE_EXHAUSTED|larger than max/);
    const client = await connectClient({ connectionOptions: { address }, namespace: 'default' });
    try {
      const history = await client.workflow.getHandle(handle.workflowId).fetchHistory();
      const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
      expect(signals).toHaveLength(4);
    } finally {
      await client.connection.close();
    }
  });
});
