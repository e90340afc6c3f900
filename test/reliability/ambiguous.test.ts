import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceUpgradePolicy } from '../../domain/types';
import { instance, runDeviceUpgrade, startStack, VERSIONS, type Stack } from '../helpers/stack';

// Issue 4: an upgrade call whose answer is lost after Alibaba accepted it must never be sent again.
const CLIENT_TIMEOUT_MS = 800;
let stack: Stack;

const fleet = {
  versions: VERSIONS,
  instances: [
    instance('sag-hang1'),
    // Accepts, then stays online on the old version for 2 s: longer than the client timeout,
    // shorter than the workflow's settle time.
    instance('sag-slow1', { simulation: { downloadSeconds: 2, upgradeSeconds: 0.2, outcome: 'ok' } }),
    instance('sag-drop1'),
    instance('sag-drop2', { simulation: { downloadSeconds: 1.5, upgradeSeconds: 0.2, outcome: 'ok' } }),
    instance('sag-busy1'),
    instance('sag-busy2'),
    instance('sag-busy3'),
  ],
};

beforeAll(async () => {
  stack = await startStack({ fleet }, { sagTimeoutMs: CLIENT_TIMEOUT_MS });
  stack.sim.setFaults({
    rules: [
      { action: 'UpdateSmartAccessGatewayVersion', smartAgId: 'sag-hang1', kind: 'hang-after', times: 1 },
      { action: 'UpdateSmartAccessGatewayVersion', smartAgId: 'sag-slow1', kind: 'hang-after', times: 1 },
      { action: 'UpdateSmartAccessGatewayVersion', smartAgId: 'sag-drop1', kind: 'drop-after', times: 1 },
      { action: 'UpdateSmartAccessGatewayVersion', smartAgId: 'sag-drop2', kind: 'drop-after', times: 1 },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-busy1',
        code: 'ServiceUnavailable',
        times: 3,
      },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-busy2',
        code: 'ServiceUnavailable',
        times: 3,
      },
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-busy3',
        code: 'ServiceUnavailable',
        times: 1,
      },
    ],
  });
});
afterAll(async () => {
  await stack?.stop();
});

const upgrade = (smartAgId: string, policy: Partial<DeviceUpgradePolicy> = {}) =>
  runDeviceUpgrade(stack, smartAgId, policy, 'ambiguous');

function simCalls(smartAgId: string): { calls: number; byVersion: Record<string, number>; version: string } {
  const row = stack.sim.devices().find((d) => d.SmartAGId === smartAgId)!;
  return { calls: row.upgradeCalls, byVersion: row.upgradeCallsByVersion, version: row.SoftwareVersion };
}

function upgradeRequests(smartAgId: string) {
  return stack.sim
    .requests(1000)
    .filter((r) => r.action === 'UpdateSmartAccessGatewayVersion' && r.smartAgId === smartAgId);
}

describe('ambiguous upgrade calls', () => {
  it('does not resend an upgrade whose answer timed out after it was accepted', async () => {
    const r = await upgrade('sag-hang1');
    expect(r.outcome).toBe('upgraded');
    expect(simCalls('sag-hang1')).toEqual({ calls: 1, byVersion: { '2.4.0.0': 1 }, version: '2.4.0.0' });
    expect(upgradeRequests('sag-hang1')).toEqual([expect.objectContaining({ fault: 'hang-after' })]);
    // The workflow counted the one send, and its audit keeps the failed call with its transport code.
    expect(r.upgradeCalls).toBe(1);
  });

  it('waits out a device that stays online on the old version after accepting, and never resends', async () => {
    const r = await upgrade('sag-slow1', { upgradeSettleMs: 6000, verifyTimeoutMs: 12_000 });
    expect(r.outcome).toBe('upgraded');
    expect(simCalls('sag-slow1')).toEqual({ calls: 1, byVersion: { '2.4.0.0': 1 }, version: '2.4.0.0' });
    const reqs = upgradeRequests('sag-slow1');
    expect(reqs).toHaveLength(1);
    // Polls after the timeout saw the old version for a while (the download phase) and did not resend.
    const polls = stack.sim
      .requests(1000)
      .filter(
        (q) =>
          q.action === 'DescribeSmartAccessGatewayAttribute' &&
          q.smartAgId === 'sag-slow1' &&
          q.time > reqs[0]!.time,
      );
    expect(polls.length).toBeGreaterThan(3);
  });

  it('does not resend an upgrade whose connection was dropped after it was accepted', async () => {
    const r = await upgrade('sag-drop1');
    expect(r.outcome).toBe('upgraded');
    expect(simCalls('sag-drop1')).toEqual({ calls: 1, byVersion: { '2.4.0.0': 1 }, version: '2.4.0.0' });
    expect(upgradeRequests('sag-drop1')).toEqual([expect.objectContaining({ fault: 'drop-after' })]);
  });

  it('does not resend after a dropped answer while the device still downloads', async () => {
    const r = await upgrade('sag-drop2', { upgradeSettleMs: 5000, verifyTimeoutMs: 12_000 });
    expect(r.outcome).toBe('upgraded');
    expect(simCalls('sag-drop2')).toEqual({ calls: 1, byVersion: { '2.4.0.0': 1 }, version: '2.4.0.0' });
  });

  it('reports a device unconfirmed after a 503 and a settle without a sign, and sends nothing more', async () => {
    const r = await upgrade('sag-busy3', { upgradeSettleMs: 300 });
    expect(r).toMatchObject({ outcome: 'unconfirmed', phase: 'upgrade', errorCode: 'UpgradeUnconfirmed' });
    expect(r.message).toMatch(/answered ServiceUnavailable/);
    expect(upgradeRequests('sag-busy3')).toHaveLength(1);
    expect(simCalls('sag-busy3').calls).toBe(0);
    // The send stays on record for later runs of the device.
    expect(r.openSends).toEqual([
      expect.objectContaining({ serialNumber: 'snbusy3a', version: '2.4.0.0', accepted: false }),
    ]);
  });

  it('sends again after settles with no sign when the policy says resend, as often as the code is retried, and accepts once', async () => {
    const r = await upgrade('sag-busy1', { upgradeSettleMs: 300, noSignAfterSettle: 'resend' });
    expect(r.outcome).toBe('upgraded');
    const reqs = upgradeRequests('sag-busy1');
    expect(reqs.map((q) => q.code ?? 'accepted')).toEqual([
      'ServiceUnavailable',
      'ServiceUnavailable',
      'ServiceUnavailable',
      'accepted',
    ]);
    expect(simCalls('sag-busy1')).toEqual({ calls: 1, byVersion: { '2.4.0.0': 1 }, version: '2.4.0.0' });
  });

  it('reports the device unconfirmed once an explicit send limit is spent', async () => {
    const r = await upgrade('sag-busy2', { upgradeSettleMs: 300, maxSends: 2, noSignAfterSettle: 'resend' });
    expect(r).toMatchObject({ outcome: 'unconfirmed', phase: 'upgrade', errorCode: 'UpgradeUnconfirmed' });
    expect(upgradeRequests('sag-busy2')).toHaveLength(2);
    expect(simCalls('sag-busy2').calls).toBe(0);
  });
});
