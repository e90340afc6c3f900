import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../activities';
import { createSagClient } from '../../src/sag/client';
import { createRateLimiter } from '../../src/sag/rate-limiter';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { limitedCall } from '../../src/temporal/worker';
import { instance, VERSIONS } from '../helpers/fixtures';

// A call that waits for the rate limiter past its activity's deadline never leaves; a settle whose
// every poll fails still ends. Real activities, the real client and the simulator, in the SDK's
// activity test environment (which gives the activity its context and timeouts).
let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: [instance('sag-late1'), instance('sag-late2'), instance('sag-poll1')],
    },
  });
});
afterAll(async () => {
  await sim?.stop();
});

function activities(ratePerSecond: number) {
  const limiter = createRateLimiter(ratePerSecond, 0);
  const client = createSagClient({
    credentials: {
      getCredentials: () =>
        Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
    },
    endpoint: sim.endpoint,
    timeoutMs: 2000,
    beforeCall: limitedCall(limiter),
  });
  return { acts: createActivities({ client }), limiter };
}

/** An activity attempt that started now with this start-to-close timeout and no schedule-to-close one. */
const activityEnv = (startToCloseTimeoutMs: number) =>
  new MockActivityEnvironment({
    startToCloseTimeoutMs,
    scheduleToCloseTimeoutMs: 0,
    scheduledTimestampMs: Date.now(),
    heartbeatTimeoutMs: 30_000,
  });

const upgradeInput = (smartAgId: string) => ({
  regionId: 'cn-shanghai',
  smartAgId,
  serialNumber: `sn${smartAgId.slice(4)}a`,
  versionCode: '2.4.0.0',
  versionType: 'Device' as const,
});

describe('no late sends', () => {
  it('gives up an upgrade call still waiting for the limiter when its deadline passes, and it never leaves', async () => {
    // One call per 4 s, its token taken: the upgrade waits ~4 s, past its 3 s deadline less the margin.
    const { acts, limiter } = activities(0.25);
    await limiter.acquire();
    const env = activityEnv(3000);
    const err = await env
      .run(() => acts.requestUpgrade(upgradeInput('sag-late1')))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('NotSent');
    await new Promise((r) => setTimeout(r, 4500));
    expect(
      sim
        .requests(1000)
        .filter((q) => q.action === 'UpdateSmartAccessGatewayVersion' && q.smartAgId === 'sag-late1'),
    ).toEqual([]);
    expect(sim.upgrades({ smartAgId: 'sag-late1' })).toEqual([]);
  });

  it('sends a call whose wait ends before its deadline', async () => {
    const { acts } = activities(50);
    const env = activityEnv(30_000);
    type Sent = Awaited<ReturnType<typeof acts.requestUpgrade>>;
    const r = await env.run<[], Sent, () => Promise<Sent>>(() =>
      acts.requestUpgrade(upgradeInput('sag-late2')),
    );
    expect(r.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(sim.upgrades({ smartAgId: 'sag-late2' })).toHaveLength(1);
  });

  it('cancels a call waiting for the limiter when its activity is cancelled', async () => {
    const { acts, limiter } = activities(0.25);
    await limiter.acquire();
    const env = activityEnv(30_000);
    const running = env.run(() => acts.requestUpgrade(upgradeInput('sag-late1')));
    setTimeout(() => env.cancel(), 500);
    const err = await running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ApplicationFailure).type).toBe('NotSent');
    expect(sim.upgrades({ smartAgId: 'sag-late1' })).toEqual([]);
  });
});

describe('a settle whose every poll fails', () => {
  it('ends at the settle time without a sign', async () => {
    sim.setFaults({
      rules: [
        {
          action: 'DescribeSmartAccessGatewayAttribute',
          smartAgId: 'sag-poll1',
          kind: 'error',
          code: 'ServiceUnavailable',
        },
      ],
    });
    try {
      const { acts } = activities(100);
      const env = activityEnv(30_000);
      const started = Date.now();
      const r = await env.run(() =>
        acts.awaitDevice({
          regionId: 'cn-shanghai',
          smartAgId: 'sag-poll1',
          versionType: 'Device',
          upgrading: [{ serialNumber: 'snpoll1a', fromVersion: '2.3.0.0' }],
          allSerials: ['snpoll1a'],
          targetVersion: '2.4.0.0',
          mode: 'settle',
          pollIntervalMs: 100,
          consecutivePolls: 2,
          settleMs: 800,
          deadline: Date.now() + 800,
        }),
      );
      expect(r).toMatchObject({ sign: false });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(
        sim
          .requests(1000)
          .filter((q) => q.smartAgId === 'sag-poll1')
          .every((q) => q.code === 'ServiceUnavailable'),
      ).toBe(true);
    } finally {
      sim.setFaults({ rules: [] });
    }
  });
});
