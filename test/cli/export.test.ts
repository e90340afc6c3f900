import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/config/inventory';
import { instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import {
  FAST_POLICY,
  cli,
  ensureBuilt,
  temporalArgs,
  tempDir,
  until,
  write,
  type RunResult,
} from './helpers';

// A rollout closed half way: its canary upgraded one device and failed one (no version on offer),
// which halted it; it was aborted, leaving the rest pending. Export takes the failed and
// pending devices to a new rollout.
const fleet = {
  versions: VERSIONS,
  instances: [
    instance('sag-e01'),
    instance('sag-enover', {
      versions: { Device: [{ VersionCode: '2.3.0.0', Type: 'release' }], Dpi: [] },
    }),
    instance('sag-e02'),
    instance('sag-e03'),
    instance('sag-e04'),
  ],
};
const INVENTORY = `SmartAGId,RegionId,SerialNumber,group,tags
sag-e01,cn-shanghai,sne01a,north,
sag-enover,cn-shanghai,snenovera,north,"shop;big, old"
sag-e02,cn-shanghai,sne02a,south,shop
sag-e03,cn-shanghai,,south,
sag-e04,cn-shanghai,sne04a,,
`;

let stack: Stack;
let dir: string;
let simEnv: NodeJS.ProcessEnv;
let closedId: string;

function json<T>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

const run = (args: string[]) => cli([...temporalArgs(stack.taskQueue), ...args], { env: simEnv });

type Status = { state: string; devices: { smartAgId: string; outcome: string }[] };
const statusOf = async (id: string) => json<Status>(await run(['status', id, '--json', '--all-devices']));
const waitState = (id: string, states: string[]) =>
  until(
    async () => {
      const s = await statusOf(id);
      return states.includes(s.state) ? s : undefined;
    },
    60_000,
    `${id} to reach ${states.join('/')}`,
  );

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({ fleet });
  dir = tempDir('export');
  simEnv = {
    SAG_ENDPOINT: stack.sim.endpoint,
    SAG_SIMULATOR_ACCESS_KEY_ID: stack.sim.accessKeyId,
    SAG_SIMULATOR_ACCESS_KEY_SECRET: stack.sim.accessKeySecret,
  };
  const inventory = write(dir, 'inventory.csv', INVENTORY);
  const gated = write(
    dir,
    'gated.yaml',
    FAST_POLICY.replace('canary: 1', 'canary: 2').concat('approval: canary\n'),
  );
  closedId = uniqueName('exp');
  const started = await run([
    'start',
    '--inventory',
    inventory,
    '--policy',
    gated,
    '--rollout-id',
    closedId,
    '--yes',
  ]);
  expect(started.code, started.stderr).toBe(0);
  // The canary's failure halts it (zero tolerance in the canary): the rest stays pending.
  await waitState(closedId, ['waiting-approval', 'paused']);
  const aborted = await run(['abort', closedId, '--no-compensate', '--yes']);
  expect(aborted.code, aborted.stderr).toBe(0);
  await waitState(closedId, ['aborted']);
});
afterAll(async () => {
  await stack?.stop();
});

describe('export', () => {
  it('writes the failed and pending devices as an inventory that plan and start accept', async () => {
    const status = await statusOf(closedId);
    const expected = status.devices
      .filter((d) => d.outcome === 'failed' || d.outcome === 'pending')
      .map((d) => d.smartAgId);
    expect(expected).toEqual(['sag-enover', 'sag-e02', 'sag-e03', 'sag-e04']);

    const file = path.join(dir, 'retry.csv');
    const r = await run(['export', closedId, '--outcome', 'failed,pending', '--out', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`exported 4 devices of rollout ${closedId} (1 failed, 3 pending)`);
    const text = readFileSync(file, 'utf8');
    // The inventory parser reads it back with the rollout's own entries: serial numbers, groups, tags.
    expect(parseInventory(text, 'csv', { source: file })).toEqual(
      [
        {
          smartAgId: 'sag-enover',
          regionId: 'cn-shanghai',
          serialNumbers: ['snenovera'],
          group: 'north',
          tags: ['shop', 'big, old'],
        },
        {
          smartAgId: 'sag-e02',
          regionId: 'cn-shanghai',
          serialNumbers: ['sne02a'],
          group: 'south',
          tags: ['shop'],
        },
        { smartAgId: 'sag-e03', regionId: 'cn-shanghai', group: 'south' },
        { smartAgId: 'sag-e04', regionId: 'cn-shanghai', serialNumbers: ['sne04a'] },
      ].map((d): unknown => expect.objectContaining(d)),
    );
    expect(text.split('\n')[1]).toBe(
      'sag-enover,cn-shanghai,snenovera,north,"shop;big, old",failed,VersionNotExist',
    );

    const planned = await run([
      'plan',
      '--inventory',
      file,
      '--policy',
      write(dir, 'p.yaml', FAST_POLICY),
      '--json',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(json<{ devices: { smartAgId: string }[] }>(planned).devices.map((d) => d.smartAgId)).toEqual(
      expected,
    );

    const next = uniqueName('exp-next');
    const started = await run([
      'start',
      '--inventory',
      file,
      '--policy',
      write(dir, 'next.yaml', FAST_POLICY.replace('canary: 1', 'canary:\n  group: south')),
      '--rollout-id',
      next,
      '--yes',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const done = await waitState(next, ['completed', 'aborted', 'failed']);
    expect(done.state).toBe('completed');
    expect(Object.fromEntries(done.devices.map((d) => [d.smartAgId, d.outcome]))).toEqual({
      'sag-enover': 'failed',
      'sag-e02': 'upgraded',
      'sag-e03': 'upgraded',
      'sag-e04': 'upgraded',
    });
    // The simulator: the pending devices reached the target through the new rollout.
    const versions = Object.fromEntries(stack.sim.devices().map((d) => [d.SmartAGId, d.SoftwareVersion]));
    expect(versions).toEqual({
      'sag-e01': '2.4.0.0',
      'sag-enover': '2.3.0.0',
      'sag-e02': '2.4.0.0',
      'sag-e03': '2.4.0.0',
      'sag-e04': '2.4.0.0',
    });
  });

  it('writes JSON that the inventory parser reads, by --format or the file name', async () => {
    const file = path.join(dir, 'failed.json');
    const r = await run(['export', closedId, '--outcome', 'failed', '--out', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toEqual({ rolloutId: closedId, file, format: 'json', devices: 1, counts: { failed: 1 } });
    const doc = readFileSync(file, 'utf8');
    expect(parseInventory(doc, 'auto', { source: file })).toEqual([
      {
        smartAgId: 'sag-enover',
        regionId: 'cn-shanghai',
        serialNumbers: ['snenovera'],
        group: 'north',
        tags: ['shop', 'big, old'],
      },
    ]);
    const stdout = await run(['export', closedId, '--outcome', 'upgraded', '--format', 'json']);
    expect(stdout.code, stdout.stderr).toBe(0);
    expect(json<{ devices: { SmartAGId: string; outcome: string }[] }>(stdout).devices).toEqual([
      expect.objectContaining({ SmartAGId: 'sag-e01', outcome: 'upgraded' }),
    ]);
  });

  it('refuses an unknown outcome (2) and an export with no device (3), writing nothing', async () => {
    const bad = await run(['export', closedId, '--outcome', 'failed,broken']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--outcome: "broken" is not an outcome');
    const file = path.join(dir, 'none.csv');
    const none = await run(['export', closedId, '--outcome', 'excluded', '--out', file]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('has no device that is excluded: nothing was written');
    expect(() => readFileSync(file)).toThrow();
    const missing = await run(['export', 'no-such-rollout']);
    expect(missing.code).toBe(4);
  });
});
