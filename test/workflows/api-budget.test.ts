/**
 * The API budget's levers decide what per-device polling decides: the same outcome and code for a
 * healthy device, an HA pair, a revert, a device that stays offline, a flapping device, a slow
 * download and an offline device, each run once per design on twin instances. What the simulator
 * counted shows the levers at work: no status poll in the quiet phase, shared list pages instead of
 * per-device attribute polls, the versions read once the answers agreed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceUpgradePolicy } from '../../domain/types';
import { haInstance, instance, runDeviceUpgrade, startStack, VERSIONS, type Stack } from '../helpers/stack';

let stack: Stack;

const sim = (extra: Record<string, unknown> = {}) => ({
  simulation: { downloadSeconds: 0.3, upgradeSeconds: 0.4, ...extra },
});
/** Each case as a per-device twin (`-p`) and a levers twin (`-l`). */
const CASES: Record<string, (id: string) => ReturnType<typeof instance>> = {
  ok: (id) => instance(id, sim()),
  ha: (id) => haInstance(id, sim()),
  rev: (id) => instance(id, sim({ outcome: 'revert' })),
  off: (id) => instance(id, sim({ outcome: 'stay-offline' })),
  flap: (id) => instance(id, sim({ outcome: 'flap', flapSeconds: 0.15 })),
  slow: (id) => instance(id, sim({ downloadSeconds: 2 })),
  down: (id) => instance(id, sim(), { HcState: 'offline' }),
  // With the health analysis: the passing poll reads links and controllers per device.
  hok: (id) => instance(id, sim()),
  hlnk: (id) => instance(id, sim({ outcome: 'link-down' })),
};
const HEALTH = { links: true, ha: true, controller: true, diagnosis: false, features: [], probes: [] };

beforeAll(async () => {
  const instances = Object.entries(CASES).flatMap(([c, make]) => [make(`sag-${c}p`), make(`sag-${c}l`)]);
  // Extra healthy devices of the same model: the versions answers agree after three.
  for (const s of ['a', 'b', 'c', 'd']) instances.push(instance(`sag-v${s}`, sim()));
  stack = await startStack({ fleet: { versions: VERSIONS, instances }, requestLogSize: 20_000 });
});
afterAll(async () => {
  await stack?.stop();
});

/** Reads every lever asks for, at test speed: no poll in the first 1500 ms after the call. */
const LEVERS: Partial<DeviceUpgradePolicy> = {
  reads: { firstPollAfterMs: 1500, bulkStatus: true, shareVersions: true, shareKey: 'budget-test' },
};
/** The levers under a share key of its own: no answer of the other tests is shared into it. */
const OWN_KEY = { ...LEVERS.reads, shareKey: 'budget-versions' };
const timing: Partial<DeviceUpgradePolicy> = { verifyTimeoutMs: 5000, consecutivePolls: 2 };

function requestsOf(smartAgId: string) {
  return stack.sim
    .requests(20_000)
    .filter(
      (q) =>
        q.smartAgId === smartAgId ||
        Object.entries(q.params).some(([k, v]) => k.startsWith('SmartAGIds.') && v === smartAgId),
    );
}

describe('API budget levers', () => {
  it.each(Object.keys(CASES))('decide %s as per-device polling does', async (c) => {
    const flap = {
      ...(c === 'flap' ? { consecutivePolls: 4 } : {}),
      ...(c.startsWith('h') && c !== 'ha' ? { health: HEALTH } : {}),
    };
    const [perDevice, levers] = await Promise.all([
      runDeviceUpgrade(stack, `sag-${c}p`, { ...timing, ...flap }, 'budget-test'),
      runDeviceUpgrade(stack, `sag-${c}l`, { ...timing, ...flap, ...LEVERS }, 'budget-test'),
    ]);
    expect(levers.outcome).toBe(perDevice.outcome);
    // A flapping device's code at the deadline depends on the phase the last poll caught (online
    // with a streak: NoRestartObserved; offline or no streak: DeviceUnstable), with either design.
    if (c === 'flap') {
      for (const r of [levers, perDevice])
        expect(['DeviceUnstable', 'NoRestartObserved']).toContain(r.errorCode);
    } else expect(levers.errorCode).toBe(perDevice.errorCode);
    expect(levers.phase).toBe(perDevice.phase);
    expect(levers.serials.map((s) => s.to)).toEqual(perDevice.serials.map((s) => s.to));
    // The simulator's own count: the same number of accepted upgrade calls.
    const sent = (id: string) => stack.sim.upgrades({ smartAgId: id }).length;
    expect(sent(`sag-${c}l`)).toBe(sent(`sag-${c}p`));
    const expected: Record<string, string> = {
      ok: 'upgraded',
      ha: 'upgraded',
      rev: 'failed',
      off: 'failed',
      flap: 'failed',
      slow: 'upgraded',
      down: 'deferred',
      hok: 'upgraded',
      hlnk: 'failed',
    };
    expect(levers.outcome).toBe(expected[c]);
    if (c === 'hlnk') expect(levers.errorCode).toBe('HealthCheckFailed');
  });

  it('polls a single device in shared list pages, never during the quiet phase', () => {
    const log = requestsOf('sag-okl');
    const sentAt = Date.parse(
      log.find((q) => q.action === 'UpdateSmartAccessGatewayVersion' && !q.code)!.time,
    );
    const after = log.filter((q) => Date.parse(q.time) > sentAt);
    // No status read of any kind in the quiet phase (1500 ms from the workflow's send, which
    // precedes the simulator's receipt: 800 ms leaves room for a loaded machine).
    expect(after.filter((q) => Date.parse(q.time) < sentAt + 800)).toEqual([]);
    expect(after.filter((q) => q.action === 'DescribeSmartAccessGatewayAttribute')).toEqual([]);
    expect(after.filter((q) => q.action === 'DescribeSmartAccessGateways').length).toBeGreaterThanOrEqual(2);
    // The restart is read once per device, from its StartupTime.
    expect(after.filter((q) => q.action === 'DescribeSAGDeviceInfo')).toHaveLength(1);
    // The per-device twin polls the attribute from the start.
    const p = requestsOf('sag-okp');
    const pSent = Date.parse(p.find((q) => q.action === 'UpdateSmartAccessGatewayVersion' && !q.code)!.time);
    expect(
      p.filter((q) => q.action === 'DescribeSmartAccessGatewayAttribute' && Date.parse(q.time) > pSent)
        .length,
    ).toBeGreaterThanOrEqual(3);
  });

  it('keeps per-device attribute polls for an HA pair', () => {
    const log = requestsOf('sag-hal');
    expect(log.filter((q) => q.action === 'DescribeSmartAccessGateways')).toEqual([]);
    expect(log.filter((q) => q.action === 'DescribeSmartAccessGatewayAttribute').length).toBeGreaterThan(2);
  });

  it('reads the versions offered until three answers agree, then shares them', async () => {
    for (const s of ['a', 'b', 'c', 'd'])
      expect(
        (await runDeviceUpgrade(stack, `sag-v${s}`, { ...timing, reads: OWN_KEY }, 'budget-versions'))
          .outcome,
      ).toBe('upgraded');
    const reads = (id: string) =>
      stack.sim
        .requests(20_000)
        .filter((q) => q.smartAgId === id && q.action === 'DescribeSmartAccessGatewayVersions').length;
    expect(['a', 'b', 'c'].map((s) => reads(`sag-v${s}`))).toEqual([1, 1, 1]);
    expect(reads('sag-vd')).toBe(0);
  });
});
