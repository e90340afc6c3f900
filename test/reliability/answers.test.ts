import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceUpgradeWorkflow, deviceWorkflowId } from '../../workflows/device';
import type { DeviceUpgradeInput, DeviceUpgradePolicy, DeviceUpgradeResult } from '../../domain/types';
import { fastDevicePolicy, haInstance, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';

// Answers that prove nothing: the upgrade is accepted and the answer replaced by any error a real
// cloud or the load balancer in front of it makes. Each device is upgraded under its real lock ID
// `upgrade/<SmartAGId>`, so later runs read what earlier ones left open.
let stack: Stack;

const SLOW = { downloadSeconds: 4, upgradeSeconds: 0.2, outcome: 'ok' as const };
const fleet = {
  versions: VERSIONS,
  instances: [
    instance('sag-ans500'),
    instance('sag-ans502'),
    instance('sag-ans504'),
    instance('sag-anstxt'),
    instance('sag-ans403'),
    // Downloads for longer than the settle: online on the old version, StartupTime unchanged.
    instance('sag-anslow', { simulation: SLOW }),
    instance('sag-anster', { simulation: { ...SLOW, downloadSeconds: 8 } }),
    // An HA pair whose active device takes the upgrade and downloads for longer than the settle.
    {
      ...haInstance('sag-ansha'),
      Devices: [
        {
          SerialNumber: 'snanshaa',
          SoftwareVersion: '2.3.0.0',
          HaState: 'Active' as const,
          HcState: 'online' as const,
          simulation: SLOW,
        },
        {
          SerialNumber: 'snanshab',
          SoftwareVersion: '2.3.0.0',
          HaState: 'Standby' as const,
          HcState: 'online' as const,
        },
      ],
    },
  ],
};

beforeAll(async () => {
  stack = await startStack({ fleet });
  stack.sim.setFaults({
    rules: [
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-ans500',
        kind: 'after-error',
        code: 'UnknownError',
        httpStatus: 500,
        times: 1,
      },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-ans502',
        kind: 'after-error',
        format: 'html',
        httpStatus: 502,
        times: 1,
      },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-ans504',
        kind: 'after-error',
        format: 'html',
        httpStatus: 504,
        times: 1,
      },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-anstxt',
        kind: 'after-error',
        format: 'text',
        body: 'upstream reset',
        httpStatus: 500,
        times: 1,
      },
      // A refusal with an Alibaba body and a 4xx: nothing was accepted.
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-ans403',
        kind: 'error',
        code: 'GetSmartAccessGatewayStateError',
        times: 1,
      },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-anster',
        kind: 'after-error',
        code: 'InternalError',
        httpStatus: 500,
        times: 1,
      },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-anslow',
        kind: 'after-error',
        code: 'InternalError',
        httpStatus: 500,
        times: 1,
      },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        serialNumber: 'snanshaa',
        kind: 'after-error',
        code: 'ServiceUnavailable',
        httpStatus: 503,
        times: 1,
      },
    ],
  });
});
afterAll(async () => {
  await stack?.stop();
});

/** One run of `upgrade/<smartAgId>`, as a rollout starts it. */
function run(
  smartAgId: string,
  policy: Partial<DeviceUpgradePolicy>,
  extra: Partial<DeviceUpgradeInput> = {},
): Promise<DeviceUpgradeResult> {
  return stack.run(() =>
    stack.client.workflow.execute(deviceUpgradeWorkflow, {
      workflowId: deviceWorkflowId(smartAgId),
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId: 'answers',
          device: { smartAgId, regionId: 'cn-shanghai' },
          policy: fastDevicePolicy(policy),
          mode: 'upgrade',
          ...extra,
        },
      ],
    }),
  );
}

/** What the simulator accepted for a device, by serial number and version. */
function accepted(smartAgId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const u of stack.sim.upgrades({ smartAgId }))
    out[`${u.SerialNumber}@${u.VersionCode}`] = (out[`${u.SerialNumber}@${u.VersionCode}`] ?? 0) + 1;
  return out;
}

function requests(smartAgId: string) {
  return stack.sim
    .requests(1000)
    .filter((r) => r.action === 'UpdateSmartAccessGatewayVersion' && r.smartAgId === smartAgId);
}

describe('an upgrade accepted and answered with an error', () => {
  it.each([
    ['sag-ans500', 'UnknownError', 500],
    ['sag-ans502', 'InvalidResponse', 502],
    ['sag-ans504', 'InvalidResponse', 504],
    ['sag-anstxt', 'InvalidResponse', 500],
  ])('%s: answered %s (HTTP %d), watched until it shows, never sent again', async (id, _code, status) => {
    const r = await run(id, { upgradeSettleMs: 3000, verifyTimeoutMs: 10_000 });
    expect(r.outcome).toBe('upgraded');
    expect(accepted(id)).toEqual({ [`sn${id.slice(4)}a@2.4.0.0`]: 1 });
    expect(requests(id)).toEqual([expect.objectContaining({ fault: 'after-error', httpStatus: status })]);
    // Verified on the target: nothing is left open for a later run.
    expect(r.openSends).toBeUndefined();
  });

  it('takes a 4xx with an Alibaba error body as a refusal: retried, accepted once', async () => {
    const r = await run('sag-ans403', {
      errorOverrides: { GetSmartAccessGatewayStateError: { initialInterval: 100, maximumInterval: 200 } },
    });
    expect(r.outcome).toBe('upgraded');
    expect(requests('sag-ans403').map((q) => q.code ?? 'ok')).toEqual([
      'GetSmartAccessGatewayStateError',
      'ok',
    ]);
    expect(accepted('sag-ans403')).toEqual({ 'snans403a@2.4.0.0': 1 });
  });
});

describe('a download longer than the settle', () => {
  it('leaves the device unconfirmed, and no later run sends while the download may go on', async () => {
    const first = await run('sag-anslow', { upgradeSettleMs: 1000, verifyTimeoutMs: 10_000 });
    expect(first).toMatchObject({
      outcome: 'unconfirmed',
      errorCode: 'UpgradeUnconfirmed',
      phase: 'upgrade',
    });
    expect(first.openSends).toEqual([
      expect.objectContaining({ serialNumber: 'snanslowa', version: '2.4.0.0', accepted: false }),
    ]);
    expect(accepted('sag-anslow')).toEqual({ 'snanslowa@2.4.0.0': 1 });

    // Another rollout, at once: it reads the open send from the run before and sends nothing.
    const second = await run('sag-anslow', { upgradeSettleMs: 1000 }, { rolloutId: 'another' });
    expect(second).toMatchObject({ outcome: 'unconfirmed', errorCode: 'UpgradeUnconfirmed' });
    expect(second.message).toMatch(/was never confirmed/);
    expect(accepted('sag-anslow')).toEqual({ 'snanslowa@2.4.0.0': 1 });
    expect(requests('sag-anslow')).toHaveLength(1);

    // A run with a settle long enough to see the download end watches it through, still without sending.
    const third = await run(
      'sag-anslow',
      { upgradeSettleMs: 15_000, verifyTimeoutMs: 20_000 },
      { rolloutId: 'patient' },
    );
    expect(third.outcome).toBe('upgraded');
    expect(third.upgradeCalls).toBe(0);
    expect(accepted('sag-anslow')).toEqual({ 'snanslowa@2.4.0.0': 1 });
    expect(stack.sim.devices().find((d) => d.SmartAGId === 'sag-anslow')?.SoftwareVersion).toBe('2.4.0.0');
  });

  it('withholds the HA repair of compensation while the active device may still be downloading', async () => {
    const r = await run('sag-ansha', { upgradeSettleMs: 1000, verifyTimeoutMs: 10_000 });
    // The standby went first and was verified; the active one's answer proved nothing.
    expect(r.outcome).toBe('unconfirmed');
    expect(accepted('sag-ansha')).toEqual({ 'snanshab@2.4.0.0': 1, 'snanshaa@2.4.0.0': 1 });

    const c = await run(
      'sag-ansha',
      { upgradeSettleMs: 1000, repairHaPairs: true },
      { mode: 'compensate', previous: r },
    );
    expect(c.compensation?.failed).toMatchObject({ code: 'UpgradeUnconfirmed' });
    expect(c.compensation?.actions.some((a) => a.startsWith('ha-repaired'))).toBe(false);
    expect(accepted('sag-ansha')).toEqual({ 'snanshab@2.4.0.0': 1, 'snanshaa@2.4.0.0': 1 });
  });

  it('keeps the record through a later run that was terminated while it watched', async () => {
    const first = await run('sag-anster', { upgradeSettleMs: 500, verifyTimeoutMs: 10_000 });
    expect(first.outcome).toBe('unconfirmed');
    // A second run watches patiently and is terminated by hand: it never completes.
    const watching = await stack.client.workflow.start(deviceUpgradeWorkflow, {
      workflowId: deviceWorkflowId('sag-anster'),
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId: 'watcher',
          device: { smartAgId: 'sag-anster', regionId: 'cn-shanghai' },
          policy: fastDevicePolicy({ upgradeSettleMs: 30_000 }),
          mode: 'upgrade',
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 1500));
    await watching.terminate('an operator stopped it');
    // A third run still finds the first run's call through the terminated one, and sends nothing.
    const third = await run('sag-anster', { upgradeSettleMs: 500 }, { rolloutId: 'third' });
    expect(third).toMatchObject({ outcome: 'unconfirmed', errorCode: 'UpgradeUnconfirmed' });
    expect(accepted('sag-anster')).toEqual({ 'snanstera@2.4.0.0': 1 });
  });
});
