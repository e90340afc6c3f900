import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningRollouts, startChecks } from '../../src/operator/start-checks';
import { progressQuery } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import {
  fastRolloutPolicy,
  instance,
  startRolloutOf,
  startStack,
  VERSIONS,
  type Stack,
} from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { FAST_POLICY, cli, ensureBuilt, temporalArgs, tempDir, until, write } from './helpers';

// What `start` says before it acts: no worker on the task queue (a warning, or a refusal with
// --require-worker), devices that a running rollout holds (named, with the rollout), running
// rollouts with devices of the inventory still to reach (a refusal when they target another
// version), and the waves.
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

/**
 * A running rollout of `ids` that no worker serves (its task queue has none): it stays running,
 * its inventory and target in its history, and touches no device.
 */
async function idleRollout(ids: string[], targetVersion: string, versionType: 'Device' | 'Dpi' = 'Device') {
  const rolloutId = uniqueName('idle');
  const handle = await stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: uniqueName('idle-tq'),
    args: [
      {
        rolloutId,
        inventory: ids.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
        policy: fastRolloutPolicy({ targetVersion, versionType }),
        operator: 'alice',
        taskQueue: uniqueName('idle-tq'),
      },
    ],
  });
  return { rolloutId, handle };
}

/** Until visibility lists the rollout as running (it is eventually consistent). */
const listed = (rolloutId: string) =>
  until(
    async () => {
      for await (const w of stack.client.workflow.list({
        query: `WorkflowId = 'rollout/${rolloutId}' AND ExecutionStatus = 'Running'`,
      }))
        return w;
      return undefined;
    },
    10_000,
    `visibility to list ${rolloutId}`,
  );

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
      '--watch',
      '--interval',
      '0.2',
    ]);
    const holder = first.workflowId.slice('rollout/'.length);
    expect(r.stderr).toContain(
      `warning: 2 of the devices are held by running rollouts and will be reported HeldByAnotherRollout, not touched: rollout ${holder} holds 2 (sag-sch01, sag-sch02)`,
    );
    expect(r.stderr).toContain(
      `warning: running rollout ${holder} (to 2.4.0.0) has 2 of the devices in its inventory: the two rollouts race for them`,
    );
    expect(r.stderr).not.toContain('no worker polls');
    // It completed with the free device upgraded and the held ones not reached: not done, exit 6.
    expect(r.code, r.stdout + r.stderr).toBe(6);
    const status = await cli([...temporalArgs(stack.taskQueue), 'status', id, '--json', '--all-devices']);
    expect(status.code).toBe(6);
    const doc = JSON.parse(status.stdout) as {
      state: string;
      devices: { smartAgId: string; outcome: string; errorCode?: string }[];
    };
    expect(doc.state).toBe('completed');
    expect(doc.devices.map((d) => [d.smartAgId, d.outcome, d.errorCode])).toEqual([
      ['sag-sch01', 'skipped', 'HeldByAnotherRollout'],
      ['sag-sch02', 'skipped', 'HeldByAnotherRollout'],
      ['sag-sch03', 'upgraded', undefined],
    ]);
    // export's default takes the devices it did not reach, as an inventory to start again from.
    const exported = await cli([...temporalArgs(stack.taskQueue), 'export', id]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.trim().split('\n').slice(1)).toEqual([
      'sag-sch01,cn-shanghai,,,,skipped,HeldByAnotherRollout',
      'sag-sch02,cn-shanghai,,,,skipped,HeldByAnotherRollout',
    ]);
    await first.terminate('test over');
  });

  it('refuses a rollout to another target version while a running rollout has devices of the inventory', async () => {
    const other = await idleRollout([...HELD, 'sag-elsewhere'], '2.5.0.0');
    const same = await idleRollout(FREE, '2.4.0.0');
    // Another thing upgraded (the DPI engine): it shares devices, but no version of theirs conflicts.
    const dpi = await idleRollout(HELD, '20240101_1_0-0.0.2', 'Dpi');
    try {
      await listed(other.rolloutId);
      await listed(same.rolloutId);
      await listed(dpi.rolloutId);
      const id = uniqueName('sc');
      const args = [
        ...temporalArgs(stack.taskQueue),
        'start',
        '--inventory',
        inventoryFile,
        '--policy',
        policyFile,
        '--rollout-id',
        id,
      ];
      const refused = await cli([...args, '--yes']);
      expect(refused.code, refused.stderr).toBe(3);
      expect(refused.stderr).toContain(
        `refused: running rollout ${other.rolloutId} targets 2.5.0.0, not 2.4.0.0, and has 2 of the devices in its inventory: a device both rollouts reach ends on whichever version reached it last (--allow-other-target starts it anyway)`,
      );
      expect(refused.stderr).not.toContain(dpi.rolloutId);
      expect(await exists(id)).toBe(false);
      // Allowed, it still says so loudly (here without a terminal, and without --yes: nothing starts).
      const allowed = await cli([...args, '--allow-other-target']);
      expect(allowed.code).toBe(3);
      expect(allowed.stderr).toContain(
        `warning: ANOTHER TARGET VERSION: running rollout ${other.rolloutId} targets 2.5.0.0, not 2.4.0.0, and has 2 of the devices in its inventory`,
      );
      expect(allowed.stderr).toContain(
        `warning: running rollout ${same.rolloutId} (to 2.4.0.0) has 1 of the devices in its inventory`,
      );
      expect(allowed.stderr).toContain(
        `warning: running rollout ${dpi.rolloutId} (to 20240101_1_0-0.0.2, Dpi) has 2 of the devices in its inventory`,
      );
      // The one-line question names each of them.
      const asked = allowed.stderr.split('\n').find((l) => l.includes('refusing to start rollout')) ?? '';
      expect(asked).toContain(
        `rollout ${other.rolloutId} (to 2.5.0.0, not 2.4.0.0) has 2 of the devices in its inventory`,
      );
      expect(asked).toContain(`rollout ${same.rolloutId} (to 2.4.0.0) has 1 of the devices in its inventory`);
      expect(await exists(id)).toBe(false);
    } finally {
      await other.handle.terminate('test over');
      await same.handle.terminate('test over');
      await dpi.handle.terminate('test over');
    }
  });

  it('reads at most the cap of running rollouts, and counts those it left unread', async () => {
    const a = await idleRollout(['sag-cap1'], '2.4.0.0');
    const b = await idleRollout(['sag-cap2'], '2.4.0.0');
    try {
      await listed(a.rolloutId);
      await listed(b.rolloutId);
      const r = await runningRollouts(stack.client, ['sag-cap1', 'sag-cap2'], undefined, 1);
      expect(r.read).toBe(1);
      expect(r.running).toBeGreaterThanOrEqual(2);
      expect(r.overlaps.length).toBeLessThanOrEqual(1);
      const all = await runningRollouts(stack.client, ['sag-cap1', 'sag-cap2']);
      expect(all.overlaps.map((o) => o.rolloutId).sort()).toEqual([a.rolloutId, b.rolloutId].sort());
    } finally {
      await a.handle.terminate('test over');
      await b.handle.terminate('test over');
    }
  });

  it('reports the held devices and running rollouts unknown when visibility fails, without failing', async () => {
    // A namespace the server does not have: every visibility list fails.
    const client = new Client({ connection: stack.client.connection, namespace: uniqueName('no-such-ns') });
    const c = await startChecks(client, stack.taskQueue, HELD);
    expect(c.workers).toBe(-1);
    expect(c.held).toEqual([]);
    expect(c.heldUnknown).toMatch(/namespace/i);
    expect(c.rolloutsUnknown).toMatch(/namespace/i);
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
