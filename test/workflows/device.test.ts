import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceUpgradeWorkflow } from '../../workflows/device';
import { deviceProgressQuery } from '../../workflows/messages';
import type { DeviceUpgradePolicy } from '../../domain/types';
import {
  fastDevicePolicy,
  haInstance,
  instance,
  runDeviceUpgrade,
  startStack,
  VERSIONS,
  type Stack,
} from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';

let stack: Stack;

const fleet = {
  versions: VERSIONS,
  instances: [
    instance('sag-ok1'),
    haInstance('sag-ha1'),
    instance('sag-rev1', { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'revert' } }),
    instance('sag-off1', {
      simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'stay-offline' },
    }),
    instance('sag-flap1', {
      simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'flap', flapSeconds: 0.15 },
    }),
    instance('sag-on1', {}, { SoftwareVersion: '2.4.0.0' }),
    instance('sag-new1', {}, { SoftwareVersion: '2.6.0.0' }),
    instance('sag-noccn', { AssociatedCcnId: undefined }),
    instance('sag-exp1', { EndTime: 1000 }),
    instance('sag-inact', { Status: 'Delivered' }),
    instance('sag-down1', {}, { HcState: 'offline' }),
    instance('sag-soft1', { HardwareVersion: 'sag-software' }),
    instance('sag-lost1'),
    ...['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'].map((s) => instance(`sag-code${s}`)),
  ],
};

beforeAll(async () => {
  stack = await startStack({ fleet });
});
afterAll(async () => {
  await stack?.stop();
});

const upgrade = (smartAgId: string, policy: Partial<DeviceUpgradePolicy> = {}) =>
  runDeviceUpgrade(stack, smartAgId, policy, 't');

function calls(smartAgId: string): number {
  return stack.sim
    .devices()
    .filter((d) => d.SmartAGId === smartAgId)
    .reduce((n, d) => n + d.upgradeCalls, 0);
}

describe('deviceUpgradeWorkflow', () => {
  it('upgrades a healthy device with one upgrade call and restores its auto-upgrade policy', async () => {
    const r = await upgrade('sag-ok1');
    expect(r.outcome).toBe('upgraded');
    expect(r.serials).toEqual([
      expect.objectContaining({ serialNumber: 'snok1a', from: '2.3.0.0', to: '2.4.0.0' }),
    ]);
    expect(r.requestIds).toHaveLength(1);
    expect(calls('sag-ok1')).toBe(1);
    expect(r.policiesRestored).toBe(true);
    const dev = stack.sim.instance('sag-ok1')!;
    expect(JSON.stringify(dev)).toContain('scheduled');
    const policyCalls = stack.sim
      .requests(1000)
      .filter((q) => q.action === 'ModifyDeviceAutoUpgradePolicy' && q.smartAgId === 'sag-ok1');
    expect(policyCalls).toHaveLength(2);
  });

  it('upgrades the standby of an HA pair first and the active one after the pair is healthy', async () => {
    const r = await upgrade('sag-ha1');
    expect(r.outcome).toBe('upgraded');
    const order = stack.sim
      .requests(1000)
      .filter((q) => q.action === 'UpdateSmartAccessGatewayVersion' && q.smartAgId === 'sag-ha1' && !q.code)
      .map((q) => q.serialNumber);
    expect(order).toEqual(['snha1b', 'snha1a']);
    expect(r.serials.every((s) => s.to === '2.4.0.0')).toBe(true);
  });

  it('fails in the verify phase when the device comes back on the old version', async () => {
    const r = await upgrade('sag-rev1', { verifyTimeoutMs: 2500 });
    expect(r).toMatchObject({ outcome: 'failed', phase: 'verify', errorCode: 'UpgradeReverted' });
    // The result says where the device ended: back on its old version.
    expect(r.serials).toEqual([expect.objectContaining({ from: '2.3.0.0', to: '2.3.0.0' })]);
    expect(calls('sag-rev1')).toBe(1);
    expect(r.policiesRestored).toBe(true);
  });

  it('fails at the deadline when the device never comes back', async () => {
    const r = await upgrade('sag-off1', { verifyTimeoutMs: 2500 });
    expect(r).toMatchObject({ outcome: 'failed', phase: 'verify', errorCode: 'DeviceDidNotReturn' });
    expect(r.policiesRestored).toBe(true);
  });

  it('does not pass a flapping device', async () => {
    const r = await upgrade('sag-flap1', { verifyTimeoutMs: 3000, consecutivePolls: 4 });
    expect(r.outcome).toBe('failed');
    expect(r.phase).toBe('verify');
  });

  it.each([
    ['sag-on1', 'AlreadyOnTarget'],
    ['sag-new1', 'AlreadyNewer'],
    ['sag-noccn', 'NotBoundCCN'],
    ['sag-exp1', 'SmartAccessGatewayInArrears'],
    ['sag-inact', 'SmartAccessGatewayNotActivated'],
    ['sag-soft1', 'NoFirmware'],
  ])('skips %s at preflight with %s and sends nothing', async (id, code) => {
    const r = await upgrade(id);
    expect(r).toMatchObject({ outcome: 'skipped', errorCode: code });
    expect(r.serials.every((sv) => sv.to === sv.from)).toBe(true);
    expect(calls(id)).toBe(0);
  });

  it('defers an offline device instead of failing it', async () => {
    const r = await upgrade('sag-down1');
    expect(r).toMatchObject({ outcome: 'deferred', errorCode: 'SmartAccessGatewayNotOnline' });
  });

  it('fails a target the instance is not offered, and a beta unless allowed', async () => {
    expect(await upgrade('sag-codea', { targetVersion: '9.9.9.9' })).toMatchObject({
      outcome: 'failed',
      errorCode: 'VersionNotExist',
    });
    expect(await upgrade('sag-codea', { targetVersion: '2.5.0.0' })).toMatchObject({
      outcome: 'failed',
      errorCode: 'BetaNotAllowed',
    });
  });

  // Each documented code of UpdateSmartAccessGatewayVersion, returned by the call itself.
  it.each([
    // Credentials or permissions: the device is not at fault; the rollout halts and re-inspects it.
    ['sag-codeb', 'Forbidden', 'interrupted', 'rollout'],
    ['sag-codec', 'InvalidId.SMARTAG', 'failed', 'device'],
    ['sag-coded', 'NotBoundCCN', 'skipped', 'device'],
    ['sag-codee', 'SmartAccessGatewayNotOnline', 'deferred', 'device'],
    ['sag-codef', 'VersionTooOld', 'failed', 'device'],
  ])('%s: the upgrade call answering %s leads to %s', async (id, code, outcome, errorClass) => {
    stack.sim.setFaults({
      rules: [{ action: 'UpdateSmartAccessGatewayVersion', smartAgId: id, kind: 'error', code }],
    });
    try {
      const r = await upgrade(id);
      expect(r).toMatchObject({ outcome, errorCode: code, errorClass, phase: 'upgrade' });
      expect(calls(id)).toBe(0);
      expect(r.policiesRestored).toBe(true);
    } finally {
      stack.sim.setFaults({ rules: [] });
    }
  });

  // Alibaba documents these with HTTP 500: a 5xx proves nothing, so the device is watched and, with
  // no sign of an upgrade, ends unconfirmed with nothing more sent.
  it.each([
    ['sag-codeg', 'SmartAccessGatewayInArrears'],
    ['sag-codeh', 'SmartAccessGatewayNotActivated'],
    ['sag-codei', 'PermissionError'],
  ])('%s: the upgrade call answering %s with HTTP 500 leaves the device unconfirmed', async (id, code) => {
    stack.sim.setFaults({
      rules: [{ action: 'UpdateSmartAccessGatewayVersion', smartAgId: id, kind: 'error', code }],
    });
    try {
      const r = await upgrade(id);
      expect(r).toMatchObject({ outcome: 'unconfirmed', errorCode: 'UpgradeUnconfirmed', phase: 'upgrade' });
      expect(r.message).toContain(code);
      expect(calls(id)).toBe(0);
      expect(r.policiesRestored).toBe(true);
    } finally {
      stack.sim.setFaults({ rules: [] });
    }
  });

  it.each([
    ['sag-codej', 'GetSmartAccessGatewayVersionError'],
    ['sag-codek', 'Throttling.User'],
  ])('%s: retries away a transient %s and upgrades once', async (id, code) => {
    stack.sim.setFaults({
      rules: [{ action: 'UpdateSmartAccessGatewayVersion', smartAgId: id, kind: 'error', code, nth: [1] }],
    });
    try {
      // The table's backoff for these codes is seconds to minutes; the policy may override it.
      const r = await upgrade(id, {
        errorOverrides: { [code]: { initialInterval: 200, maximumInterval: 500 } },
      });
      expect(r.outcome).toBe('upgraded');
      expect(calls(id)).toBe(1);
    } finally {
      stack.sim.setFaults({ rules: [] });
    }
  });

  it('sends a read whose answer was lost again in place, without repeating the reads before it', async () => {
    // The last read of the inspection fails twice: only that read is repeated.
    stack.sim.setFaults({
      rules: [
        { action: 'DescribeSAGDeviceInfo', smartAgId: 'sag-lost1', code: 'ServiceUnavailable', times: 2 },
      ],
    });
    try {
      const r = await upgrade('sag-lost1');
      expect(r.outcome).toBe('upgraded');
      const reqs = stack.sim.requests(2000).filter((q) => q.smartAgId === 'sag-lost1');
      const beforeUpgrade = reqs.slice(
        0,
        reqs.findIndex((q) => q.action === 'UpdateSmartAccessGatewayVersion'),
      );
      const count = (action: string) => beforeUpgrade.filter((q) => q.action === action).length;
      expect(count('DescribeSmartAccessGatewayAttribute')).toBe(1);
      expect(count('DescribeSmartAccessGatewayVersions')).toBe(1);
      expect(
        beforeUpgrade.filter((q) => q.action === 'DescribeSAGDeviceInfo').map((q) => q.code ?? 'ok'),
      ).toEqual(['ServiceUnavailable', 'ServiceUnavailable', 'ok']);
      expect(calls('sag-lost1')).toBe(1);
    } finally {
      stack.sim.setFaults({ rules: [] });
    }
  });

  it('answers a progress query while it runs', async () => {
    const handle = await stack.client.workflow.start(deviceUpgradeWorkflow, {
      workflowId: uniqueName('upgrade/sag-ok1'),
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId: 't',
          device: { smartAgId: 'sag-ok1', regionId: 'cn-shanghai' },
          policy: fastDevicePolicy({ targetVersion: '2.3.0.0' }),
          mode: 'upgrade',
        },
      ],
    });
    await stack.run(async () => {
      await handle.result();
      const p = await handle.query(deviceProgressQuery);
      expect(p).toMatchObject({ smartAgId: 'sag-ok1', phase: 'done' });
    });
  });
});
