import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { resolveTestServer } from '../../src/temporal/tooling';
import { createRolloutWorker, type RolloutWorker } from '../../src/temporal/worker';
import { rolloutWorkflow } from '../../workflows/rollout';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { fastRolloutPolicy, instance, VERSIONS } from '../helpers/fixtures';
import { uniqueName, workflowBundle } from '../helpers/temporal';
import { deviceRuns, inventory, startDecisions, statusUntil } from './helpers';

// Weekly change windows on the time-skipping test server: the rollout's own timers (the waits
// for a window, the bake) are skipped; activities and the simulator run in real time, so device
// times stay near zero.

const testServer = resolveTestServer();
const DEVICES = ['sag-tsk01', 'sag-tsk02', 'sag-tsk03'];
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const SHANGHAI = 8 * HOUR;

let env: TestWorkflowEnvironment;
let sim: SimulatorHandle;
let worker: RolloutWorker;
let running: Promise<void>;

describe.skipIf(!testServer)('weekly windows on the time-skipping test server', () => {
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: testServer! } },
    });
    // The test server validates search attributes: the rollout upserts these.
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(
        ALL_SEARCH_ATTRIBUTES.map((k) => [
          k.name,
          temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        ]),
      ),
    });
    sim = await startSimulator({
      fleet: { versions: VERSIONS, instances: DEVICES.map((id) => instance(id)) },
    });
    worker = await createRolloutWorker({
      target: { connectionOptions: { address: env.address }, namespace: 'default' },
      taskQueue: uniqueName('tq-skip'),
      credentials: {
        getCredentials: () =>
          Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
      },
      sagEndpoint: sim.endpoint,
      apiRate: 500,
      sagTimeoutMs: 2000,
      workflowBundle: workflowBundle(),
      ensureSearchAttributes: false,
      // The shared quota leases through update-with-start and a timer loop: not for this server.
      sharedQuota: false,
    });
    running = worker.worker.run();
  });
  afterAll(async () => {
    worker?.worker.shutdown();
    await running?.catch(() => undefined);
    await worker?.connection.close().catch(() => undefined);
    await env?.teardown();
    await sim?.stop();
  });

  it('runs one device per Saturday 02:00 Asia/Shanghai window, waiting a week between them, in seconds of real time', async () => {
    const rolloutId = uniqueName('weekly');
    const started = Date.now();
    const handle = await env.client.workflow.start(rolloutWorkflow, {
      workflowId: `rollout/${rolloutId}`,
      taskQueue: worker.taskQueue,
      args: [
        {
          rolloutId,
          inventory: inventory(DEVICES),
          operator: 'alice',
          ticket: 'CHG-100',
          taskQueue: worker.taskQueue,
          policy: fastRolloutPolicy({
            canary: { count: 1 },
            waves: { sizes: [1] },
            concurrency: 1,
            // After each wave a 2 h bake carries the rollout past the 1 h window: the next wave
            // waits for the next Saturday.
            bake: '2h',
            expectedUpgradeTime: '30m',
            windows: [
              {
                kind: 'recurring',
                cron: '0 2 * * SAT',
                duration: '1h',
                timeZone: 'Asia/Shanghai',
                name: 'saturday-night',
              },
            ],
          }),
        },
      ],
    });
    // Time stands still until the test waits for the result: the rollout shows what it waits for.
    const waiting = await statusUntil(
      env.client,
      rolloutId,
      (st) => st.state === 'waiting-window',
      30_000,
      'waiting-window before the first Saturday',
    );
    const opens = waiting.part?.nextWindowAt ?? 0;
    expect(new Date(opens + SHANGHAI).toISOString()).toMatch(/T02:00:00\.000Z$/);
    expect(new Date(opens + SHANGHAI).getUTCDay()).toBe(6);
    const r = await handle.result();
    expect(r).toMatchObject({ state: 'completed', counts: { upgraded: 3 } });
    expect(Date.now() - started).toBeLessThan(90_000);

    const decisions: number[] = [];
    for (const [i, id] of DEVICES.entries()) {
      const d = (await startDecisions(env.client, `rollout/${rolloutId}/wave-${i}`))[id];
      expect(d).toBeDefined();
      decisions.push(d!);
    }
    const runs = await deviceRuns(env.client, DEVICES);
    for (const [i, d] of decisions.entries()) {
      // Saturday between 02:00 and 02:30 in Shanghai (UTC+8, no DST): 30 min left of the hour.
      const local = new Date(d + SHANGHAI);
      expect(local.getUTCDay()).toBe(6);
      expect(local.getUTCHours()).toBe(2);
      expect(local.getUTCMinutes()).toBeLessThan(30);
      expect(runs[DEVICES[i]!]!.start).toBeGreaterThanOrEqual(d);
    }
    // One week apart: each wave waited for the next window.
    const first = decisions[0]!;
    expect(first).toBeGreaterThanOrEqual(opens);
    expect(first - opens).toBeLessThan(60_000);
    expect(first - started).toBeLessThanOrEqual(7 * DAY + HOUR);
    expect(Math.round((decisions[1]! - first) / DAY)).toBe(7);
    expect(Math.round((decisions[2]! - decisions[1]!) / DAY)).toBe(7);
    expect(sim.devices().map((d) => d.upgradeCalls)).toEqual([1, 1, 1]);
  });
});
