import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { freePort, waitForHealth } from '../../src/temporal/dev-server';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { resolveTemporalCli } from '../../src/temporal/tooling';

// A bare dev server, started without the project's search attributes, as a fresh cluster would be.
let proc: ReturnType<typeof spawn>;
let address: string;

beforeAll(async () => {
  const cli = resolveTemporalCli({ install: false });
  const port = await freePort();
  address = `127.0.0.1:${port}`;
  proc = spawn(
    cli.path!,
    ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port)],
    { stdio: 'ignore' },
  );
  await waitForHealth(address, 30_000);
});
afterAll(() => {
  proc?.kill();
});

describe('ensureSearchAttributes', () => {
  it("registers the project's search attributes on a bare namespace once, through the worker's own connection", async () => {
    const native = await NativeConnection.connect({ address });
    const client = await Connection.connect({ address });
    try {
      expect((await ensureSearchAttributes(native, 'default')).sort()).toEqual([
        'SagFollowUpOf',
        'SagRolloutId',
        'SagRolloutState',
        'SagSmartAgId',
        'SagTargetVersion',
      ]);
      expect(await ensureSearchAttributes(native, 'default')).toEqual([]);
      const listed = await client.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(listed.customAttributes ?? {})).toEqual(
        expect.arrayContaining([
          'SagFollowUpOf',
          'SagRolloutId',
          'SagRolloutState',
          'SagSmartAgId',
          'SagTargetVersion',
        ]),
      );
    } finally {
      await client.close();
      await native.close();
    }
  });
});
