import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import {
  allDevices,
  inventoryOf,
  maxCallsPerSerialAndVersion,
  quickFleet,
  quickPolicy,
  startRollout,
} from './helpers';

// About 10% of all requests fail transiently (throttling, 5xx, HTML bodies, hangs, dropped
// connections), before the simulator processes them; three named devices fail permanently.
// Transient faults are retried away (an upgrade call answered ambiguously is sent again after a
// settle without a sign: the policy's explicit `noSignAfterSettle: resend`, since by default such
// a device ends unconfirmed); each permanent one is reported with its code.
const HEALTHY = quickFleet('flt', 40);
const quick = { simulation: { downloadSeconds: 0.01, upgradeSeconds: 0.03, outcome: 'ok' as const } };
const PERMANENT: Record<string, { action: string; code: string; outcome: string }> = {
  'sag-fltx001': {
    action: 'DescribeSmartAccessGatewayAttribute',
    code: 'InvalidId.SMARTAG',
    outcome: 'failed',
  },
  'sag-fltx002': { action: 'UpdateSmartAccessGatewayVersion', code: 'NotBoundCCN', outcome: 'skipped' },
  // Documented with HTTP 500: a 5xx proves nothing, so the device ends unconfirmed, never accepted.
  'sag-fltx003': {
    action: 'UpdateSmartAccessGatewayVersion',
    code: 'SmartAccessGatewayInArrears',
    outcome: 'unconfirmed',
  },
};
const NAMED = Object.keys(PERMANENT).map((id) => instance(id, quick));
let stack: Stack;

beforeAll(async () => {
  stack = await startStack(
    { fleet: { versions: VERSIONS, instances: [...HEALTHY, ...NAMED] }, requestLogSize: 20_000 },
    { sagTimeoutMs: 700 },
  );
  stack.sim.setFaults({
    seed: 11,
    rules: [
      ...Object.entries(PERMANENT).map(([smartAgId, p]) => ({ action: p.action, smartAgId, code: p.code })),
      { kind: 'error' as const, code: 'Throttling.User', probability: 0.03 },
      { kind: 'error' as const, code: 'ServiceUnavailable', probability: 0.02 },
      { kind: 'html' as const, httpStatus: 502, probability: 0.02 },
      { kind: 'hang' as const, probability: 0.015 },
      { kind: 'drop' as const, probability: 0.015 },
    ],
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('transient and permanent faults', () => {
  it('retries every transient fault away and reports every permanent one with its code', async () => {
    const inv = inventoryOf([...HEALTHY, ...NAMED]);
    const h = await startRollout(
      stack.client,
      stack.taskQueue,
      uniqueName('faults'),
      inv,
      quickPolicy({
        concurrency: 15,
        canary: { count: 1 },
        waves: { cumulativePercents: [50, 100] },
        failureBudget: {
          maxFailurePercent: 30,
          minFailures: 5,
          maxConsecutiveFailures: 0,
          onBreach: 'pause',
        },
        noSignAfterSettle: 'resend',
      }),
    );
    const r = await stack.run(() => h.result());
    expect(r.state).toBe('completed');
    const devices = await allDevices(h);
    const byId = Object.fromEntries(devices.map((d) => [d.smartAgId, d]));
    for (const i of HEALTHY)
      expect(byId[i.SmartAGId]?.outcome, `${i.SmartAGId}: ${JSON.stringify(byId[i.SmartAGId])}`).toBe(
        'upgraded',
      );
    for (const [id, p] of Object.entries(PERMANENT)) {
      if (p.outcome === 'unconfirmed') {
        expect(byId[id], id).toMatchObject({ outcome: 'unconfirmed', errorCode: 'UpgradeUnconfirmed' });
        expect(byId[id]?.message, id).toContain(p.code);
      } else {
        expect(byId[id], id).toMatchObject({ outcome: p.outcome, errorCode: p.code });
      }
    }
    expect(maxCallsPerSerialAndVersion(stack.sim)).toBe(1);
    const fired = stack.sim
      .requests(20_000)
      .filter((q) => q.fault || q.code === 'Throttling.User')
      .reduce<Record<string, number>>(
        (m, q) => ((m[q.code ?? q.fault!] = (m[q.code ?? q.fault!] ?? 0) + 1), m),
        {},
      );
    const total = stack.sim.stats().totalRequests;
    const transient =
      (fired['Throttling.User'] ?? 0) +
      (fired.ServiceUnavailable ?? 0) +
      (fired['502'] ?? 0) +
      (fired.html ?? 0) +
      (fired.hang ?? 0) +
      (fired.drop ?? 0);
    console.info(`faults: ${total} requests, ${transient} transient faults ${JSON.stringify(fired)}`);
    expect(transient / total).toBeGreaterThan(0.05);
    for (const kind of ['hang', 'drop', 'html']) expect(fired[kind] ?? 0, kind).toBeGreaterThan(0);
  }, 180_000);
});
