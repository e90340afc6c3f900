import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoFleet, demoPolicy, inventoryOf } from '../../src/cli/demo-fleet';
import { rolloutWorkflow } from '../../workflows/rollout';
import { devicesQuery } from '../../workflows/messages';
import { startStack, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';

// The demo's designed silent breakage: its link-down device, under the demo's own policy, comes
// back on the target and is failed by the health analysis; a healthy neighbour passes.
const { fleet, design } = buildDemoFleet(300, 7, uniqueName('d').slice(-4));
const broken = fleet.instances[design.linkDown[0]!]!;
const healthy = fleet.instances.find(
  (i, n) =>
    n > 5 &&
    i.Devices.length === 1 &&
    !i.simulation?.outcome &&
    i.Status === 'Active' &&
    i.AssociatedCcnId !== undefined &&
    i.Devices[0]!.SoftwareVersion !== '2.4.0.0',
)!;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ fleet: { ...fleet, instances: [broken, healthy] } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('the demo fleet', () => {
  it("has one device whose link goes down with its upgrade, caught by the demo policy's health analysis", async () => {
    expect(design.linkDown).toHaveLength(1);
    expect(broken.simulation?.outcome).toBe('link-down');
    const policy = demoPolicy();
    expect(policy.health?.links).toBe(true);
    const rolloutId = uniqueName('demo');
    const h = await stack.client.workflow.start(rolloutWorkflow, {
      workflowId: `rollout/${rolloutId}`,
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId,
          inventory: inventoryOf({ ...fleet, instances: [broken, healthy] }),
          // The demo's policy, without its approval gate and canary so both run at once.
          policy: { ...policy, approval: 'none', canary: { count: 0 }, waves: { cumulativePercents: [100] } },
          operator: 'demo',
          taskQueue: stack.taskQueue,
        },
      ],
    });
    await stack.run(() => h.result());
    const list = (await h.query(devicesQuery, {})).devices;
    const b = list.find((d) => d.smartAgId === broken.SmartAGId)!;
    expect(b).toMatchObject({ errorCode: 'HealthCheckFailed', phase: 'health' });
    expect(b.message).toMatch(/links \S+: Active → Inactive/);
    expect(list.find((d) => d.smartAgId === healthy.SmartAGId)?.outcome).toBe('upgraded');
    // On the target as far as the version goes: only the analysis tells.
    expect(stack.sim.devices().find((d) => d.SmartAGId === broken.SmartAGId)?.SoftwareVersion).toBe(
      '2.4.0.0',
    );
  });
});
