import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/messages';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { FAST_POLICY, cli, ensureBuilt, temporalArgs, tempDir, until, write } from './helpers';

// What `start` says before it acts: no worker on the task queue (a warning, or a refusal with
// --require-worker), devices that a running rollout holds (named, with the rollout), and the waves.
let stack: Stack;
let inventoryFile: string;
let policyFile: string;
const HELD = ['sag-sch01', 'sag-sch02'];
const FREE = ['sag-sch03'];
// Long enough that the first rollout still holds its devices while the second one starts.
const slow = { simulation: { downloadSeconds: 20, upgradeSeconds: 20, outcome: 'ok' as const } };

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({
    fleet: {
      versions: VERSIONS,
      instances: [...HELD.map((id) => instance(id, slow)), ...FREE.map((id) => instance(id))],
    },
  });
  const dir = tempDir('start-checks');
  inventoryFile = write(
    dir,
    'inventory.csv',
    `SmartAGId,RegionId\n${[...HELD, ...FREE].map((id) => `${id},cn-shanghai`).join('\n')}\n`,
  );
  policyFile = write(dir, 'policy.yaml', FAST_POLICY);
});
afterAll(async () => {
  await stack?.stop();
});

const exists = async (rolloutId: string) =>
  stack.client.workflow
    .getHandle(`rollout/${rolloutId}`)
    .describe()
    .then(
      () => true,
      () => false,
    );

describe('start, before it acts', () => {
  it('refuses with --require-worker when no worker polls the task queue, and starts nothing', async () => {
    const queue = uniqueName('no-worker');
    const id = uniqueName('sc');
    const r = await cli([
      ...temporalArgs(queue),
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policyFile,
      '--rollout-id',
      id,
      '--yes',
      '--require-worker',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`refused: no worker polls task queue ${queue}`);
    expect(await exists(id)).toBe(false);
    expect(stack.sim.upgrades()).toEqual([]);
  });

  it('names the rollout that holds devices of the inventory, and says how many workers poll', async () => {
    const first = await startRolloutOf(stack, HELD, {
      canary: { count: 0 },
      waves: { cumulativePercents: [100] },
    });
    // Both devices' upgrade workflows run (their upgrades accepted, the devices still downloading).
    await until(
      async () =>
        (await first.query(progressQuery)).counts['in-progress'] === HELD.length ? true : undefined,
      30_000,
      'the first rollout holding both devices',
    );
    const id = uniqueName('sc');
    const r = await cli([
      ...temporalArgs(stack.taskQueue),
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policyFile,
      '--rollout-id',
      id,
      '--yes',
    ]);
    expect(r.code).toBe(0);
    const holder = first.workflowId.slice('rollout/'.length);
    expect(r.stderr).toContain(
      `warning: 2 of the devices are held by running rollouts and will be reported HeldByAnotherRollout, not touched: rollout ${holder} holds 2 (sag-sch01, sag-sch02)`,
    );
    expect(r.stderr).not.toContain('no worker polls');
    await first.terminate('test over');
  });

  it('asks with the waves, the workers and the held devices', async () => {
    const r = await cli([
      ...temporalArgs(uniqueName('no-worker')),
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policyFile,
    ]);
    // No terminal and no --yes: refused after showing the question.
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/warning: no worker polls task queue/);
    expect(r.stderr).toMatch(
      /start rollout \S+: 3 devices to 2\.4\.0\.0 \(Device\) in canary \(1\), wave-1 \(1\), wave-2 \(1\); 0 workers polling/,
    );
  });
});
