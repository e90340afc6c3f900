import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypedSearchAttributes } from '@temporalio/common';
import { readLockHolder, rolloutOfDeviceRun } from '../../src/temporal/lock-holder';
import { devicesQuery } from '../../workflows/messages';
import { SA_ROLLOUT_ID } from '../../workflows/search-attributes';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { untilProgress } from '../helpers/progress';

// Rollout A holds a slow device's upgrade lock; rollout B, started on the same device meanwhile,
// reports it held and names A.
let stack: Stack;
const SLOW = 'sag-hld01';
const SERIAL = `sn${SLOW.slice(4)}a`;
// Slow enough that A still upgrades the device while B starts, short enough that A ends in the test.
const slow = { simulation: { downloadSeconds: 3, upgradeSeconds: 3, outcome: 'ok' as const } };
const oneWave = {
  canary: { count: 0 },
  waves: { cumulativePercents: [100] },
  verify: { timeout: 30_000, pollInterval: 200, consecutivePolls: 2 },
};

beforeAll(async () => {
  stack = await startStack({ fleet: { versions: VERSIONS, instances: [instance(SLOW, slow)] } });
});
afterAll(async () => {
  await stack?.stop();
});

const accepted = () => stack.sim.upgrades({ serialNumber: SERIAL }).length;

describe('a device whose upgrade lock another rollout holds', () => {
  it('is reported HeldByAnotherRollout with the holding rollout named, and gets no upgrade call', async () => {
    const a = await startRolloutOf(stack, [SLOW], oneWave, 'held-a');
    await untilProgress(a, "rollout A's device in progress", (p) => p.counts['in-progress'] === 1);
    await expect.poll(accepted, { timeout: 10_000 }).toBe(1);

    const b = await startRolloutOf(stack, [SLOW], oneWave, 'held-b');
    const rb = await stack.run(() => b.result());
    const [device] = (await b.query(devicesQuery, {})).devices;
    const holder = a.workflowId.slice('rollout/'.length);
    expect(rb.state).toBe('completed');
    expect(device).toMatchObject({
      smartAgId: SLOW,
      outcome: 'skipped',
      errorCode: 'HeldByAnotherRollout',
      message: `held by rollout ${holder} (upgrade/${SLOW} is running for it)`,
    });
    expect(accepted()).toBe(1);

    // A's call is the only one the device ever accepted.
    const ra = await stack.run(() => a.result());
    expect(ra.counts.upgraded).toBe(1);
    expect(accepted()).toBe(1);
    // Once A's device run closed, nobody holds the lock: the part would fall back to the old wording.
    expect(await readLockHolder(stack.client, `upgrade/${SLOW}`)).toBeUndefined();
  });
});

describe('the holder of an upgrade lock', () => {
  const run = (rolloutId: string | undefined, parent: string | undefined) => ({
    typedSearchAttributes: new TypedSearchAttributes(
      rolloutId !== undefined ? [{ key: SA_ROLLOUT_ID, value: rolloutId }] : [],
    ),
    ...(parent !== undefined ? { parentExecution: { workflowId: parent, runId: 'run' } } : {}),
  });

  it("is the run's SagRolloutId, else the rollout its parent part belongs to, else nobody", () => {
    expect(rolloutOfDeviceRun(run('r-41', 'rollout/r-40/wave-1'))).toBe('r-41');
    expect(rolloutOfDeviceRun(run(undefined, 'rollout/r-40/wave-1'))).toBe('r-40');
    expect(rolloutOfDeviceRun(run(undefined, 'batch/7'))).toBeUndefined();
    expect(rolloutOfDeviceRun(run(undefined, undefined))).toBeUndefined();
  });

  it('is nobody for a device workflow that never ran', async () => {
    expect(await readLockHolder(stack.client, 'upgrade/sag-never-run')).toBeUndefined();
  });
});
