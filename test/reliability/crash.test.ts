import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { planFollowUp, startFollowUp } from '../../src/cli/follow-up';
import { deviceUpgradeWorkflow } from '../../workflows/device';
import { fastDevicePolicy, instance, VERSIONS } from '../helpers/stack';
import { connectTestEnv, uniqueName, workflowBundle } from '../helpers/temporal';
import {
  allDevices,
  inventoryOf,
  maxCallsPerSerialAndVersion,
  quickFleet,
  quickPolicy,
  resultOrExplain,
  spawnWorker,
  startRollout,
  unconfirmedProblems,
  untilProgress,
  waitFor,
  type WorkerProcess,
} from './helpers';

const FINAL = ['upgraded', 'skipped', 'failed', 'unconfirmed', 'excluded', 'compensated'];
const SINGLE = instance('sag-kill0001', {
  simulation: { downloadSeconds: 1, upgradeSeconds: 0.5, outcome: 'ok' },
});
const FLEET_B = quickFleet('krb', 200);
const FLEET_IDS_B = new Set(FLEET_B.map((i) => i.SmartAGId));

let sim: SimulatorHandle;
let env: TestWorkflowEnvironment;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    fleet: { versions: VERSIONS, instances: [SINGLE, ...FLEET_B] },
    requestLogSize: 20_000,
  });
  env = await connectTestEnv();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await env?.teardown();
  await sim?.stop();
});

function worker(address: string, taskQueue: string, fromSource = false): WorkerProcess {
  const w = spawnWorker({
    address,
    taskQueue,
    sim,
    apiRate: 400,
    ...(fromSource ? {} : { workflowBundle: workflowBundle().codePath }),
  });
  workers.push(w);
  return w;
}

/** A seeded generator, so the kill points repeat from run to run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('worker crashes', () => {
  it('finishes a device upgrade with exactly one upgrade call when the worker is killed after the call was accepted', async () => {
    const taskQueue = uniqueName('crash-a');
    const address = inject('temporalAddress');
    const first = worker(address, taskQueue, true);
    await first.ready;
    const handle = await env.client.workflow.start(deviceUpgradeWorkflow, {
      workflowId: uniqueName('upgrade/sag-kill0001'),
      taskQueue,
      args: [
        {
          rolloutId: 'crash-a',
          device: { smartAgId: 'sag-kill0001', regionId: 'cn-shanghai' },
          policy: fastDevicePolicy({ upgradeSettleMs: 5000, verifyTimeoutMs: 60_000 }),
          mode: 'upgrade',
        },
      ],
    });
    // The simulator accepted the call: the device is downloading.
    await waitFor(
      'the upgrade call to be accepted',
      () =>
        sim.devices().find((d) => d.SmartAGId === 'sag-kill0001')!.upgradeCalls === 1 ? true : undefined,
      30_000,
    );
    await first.kill('SIGKILL');
    worker(address, taskQueue, true);
    const r = await handle.result();
    expect(r.outcome).toBe('upgraded');
    const row = sim.devices().find((d) => d.SmartAGId === 'sag-kill0001')!;
    expect(row.upgradeCallsByVersion).toEqual({ '2.4.0.0': 1 });
    expect(row.SoftwareVersion).toBe('2.4.0.0');
  }, 120_000);

  it('completes a rollout of 200 devices through three SIGKILLs at random points, each device once', async () => {
    const taskQueue = uniqueName('crash-b');
    const address = inject('temporalAddress');
    let w = worker(address, taskQueue);
    await w.ready;
    const rolloutId = uniqueName('crash-b');
    const h = await startRollout(
      env.client,
      taskQueue,
      rolloutId,
      inventoryOf(FLEET_B),
      quickPolicy({ concurrency: 30, canary: { count: 2 }, waves: { cumulativePercents: [30, 100] } }),
    );
    await untilProgress(
      h,
      'the first wave started',
      (x) => x.counts['in-progress'] + x.counts.upgraded > 2,
      60_000,
    );
    // Kill moments are random (seeded) offsets after each worker is up, so the kills land in every
    // phase of a device (inspect, upgrade call, verify) and their stalls overlap.
    const rnd = seeded(20261127);
    const kills: number[] = [];
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setTimeout(r, 1000 + Math.floor(rnd() * 3000)));
      const done = sim
        .devices()
        .filter((d) => FLEET_IDS_B.has(d.SmartAGId) && d.SoftwareVersion === '2.4.0.0').length;
      kills.push(done);
      await w.kill('SIGKILL');
      w = worker(address, taskQueue);
      await w.ready;
    }
    const r = await resultOrExplain(h, 240_000);
    expect(r.state).toBe('completed');
    const devices = await allDevices(h);
    expect(devices).toHaveLength(FLEET_B.length);
    expect(new Set(devices.map((d) => d.smartAgId)).size).toBe(FLEET_B.length);
    for (const d of devices) expect(FINAL).toContain(d.outcome);
    const c = r.counts;
    expect(c.upgraded + c.skipped + c.failed + c.unconfirmed + c.excluded + c.compensated).toBe(
      FLEET_B.length,
    );
    // A kill while an upgrade call was in flight leaves that device unconfirmed: the workflow cannot
    // know whether the call left. It is honest only if the simulator accepted nothing for it.
    expect(unconfirmedProblems(sim, devices, '2.4.0.0')).toEqual([]);
    expect(c.upgraded + c.unconfirmed).toBe(FLEET_B.length);
    expect(maxCallsPerSerialAndVersion(sim, FLEET_IDS_B)).toBe(1);
    console.info(
      `crash-b: kills with ${kills.join(', ')} devices on the target; counts ${JSON.stringify(c)}`,
    );

    // The way forward an operator takes: a follow-up that sends again where no sign showed.
    if (c.unconfirmed > 0) {
      const plan = await planFollowUp(env.client, rolloutId, { operator: 'reliability', env: process.env });
      expect(plan.inventory).toHaveLength(c.unconfirmed);
      const f = await startFollowUp(env.client, plan, { operator: 'reliability', resendUnconfirmed: true });
      const done = await resultOrExplain(env.client.workflow.getHandle(f.followUp.workflowId), 120_000);
      expect(done.counts.upgraded).toBe(c.unconfirmed);
    }
    const onTarget = sim
      .devices()
      .filter((d) => FLEET_IDS_B.has(d.SmartAGId) && d.SoftwareVersion === '2.4.0.0');
    expect(onTarget).toHaveLength(FLEET_B.length);
    expect(maxCallsPerSerialAndVersion(sim, FLEET_IDS_B)).toBe(1);
  }, 420_000);
});
