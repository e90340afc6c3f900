import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSimulator,
  type DeviceRow,
  type RequestLogEntry,
  type SimulatorHandle,
  type SimulatorStats,
} from '../../src/simulator';
import { call, popClient, testFleet } from './helpers';

let sim: SimulatorHandle;
beforeAll(async () => {
  // A long download keeps upgraded devices online on their old version for the whole file.
  sim = await startSimulator({ fleet: testFleet({ downloadSeconds: 60 }), requestLogSize: 5 });
});
afterAll(() => sim.stop());

const get = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${sim.endpoint}${path}`)).json()) as T;

describe('admin interface', () => {
  it('lists every device with its accepted upgrade calls per target version', async () => {
    await call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
      RegionId: 'cn-shanghai',
      SmartAGId: 'sag-ha1',
      SerialNumber: 'sn-ha1-b',
      VersionCode: '2.4.0.0',
    });
    const rows = await get<DeviceRow[]>('/_admin/devices');
    expect(rows.filter((r) => r.SmartAGId === 'sag-ha1').map((r) => r.SerialNumber)).toEqual([
      'sn-ha1-a',
      'sn-ha1-b',
    ]);
    const b = rows.find((r) => r.SerialNumber === 'sn-ha1-b')!;
    expect(b).toMatchObject({
      SmartAGId: 'sag-ha1',
      SoftwareVersion: '2.3.0.0',
      HcState: 'online',
      upgradeCalls: 1,
      upgradeCallsByVersion: { '2.4.0.0': 1 },
    });
    expect(rows.find((r) => r.SerialNumber === 'sn-ha1-a')!.upgradeCalls).toBe(0);
    const inProcess = sim.devices().find((r) => r.SerialNumber === 'sn-ha1-b')!;
    expect(inProcess).toMatchObject({ upgradeCalls: 1, upgradeCallsByVersion: { '2.4.0.0': 1 } });
    expect(sim.devices().map((r) => r.SerialNumber)).toEqual(rows.map((r) => r.SerialNumber));
  });

  it('keeps a bounded request log without the Signature or any secret', async () => {
    const client = popClient(sim);
    for (let i = 0; i < 7; i++) await call(client, 'DescribeRegions', {}, 'GET');
    const log = await get<RequestLogEntry[]>('/_admin/requests');
    expect(log).toHaveLength(5);
    const text = JSON.stringify(log);
    expect(text).not.toContain('Signature"');
    expect(text).not.toContain(sim.accessKeySecret);
    expect(log.at(-1)).toMatchObject({ action: 'DescribeRegions', httpStatus: 200, method: 'GET' });
    expect(log.at(-1)!.requestId).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('counts requests per action and per wall-clock second', async () => {
    sim.resetStats();
    const client = popClient(sim);
    await Promise.all(
      Array.from({ length: 12 }, () =>
        call(client, 'DescribeSmartAccessGatewayHa', { RegionId: 'cn-shanghai', SmartAGId: 'sag-ok1' }),
      ),
    );
    await call(client, 'DescribeRegions', {});
    const stats = await get<SimulatorStats>('/_admin/stats');
    expect(stats.totalRequests).toBe(13);
    expect(stats.byAction).toEqual({ DescribeSmartAccessGatewayHa: 12, DescribeRegions: 1 });
    expect(stats.perSecond.reduce((n, s) => n + s.count, 0)).toBe(13);
    expect(stats.peakPerSecond).toBeGreaterThanOrEqual(7);
  });

  it('patches a device at run time (take it offline) and exposes instances in-process', async () => {
    const res = await fetch(`${sim.endpoint}/_admin/devices/sn-sag-ok3`, {
      method: 'POST',
      body: JSON.stringify({ HcState: 'offline' }),
    });
    expect(((await res.json()) as DeviceRow).HcState).toBe('offline');
    const err = await call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
      RegionId: 'cn-shanghai',
      SmartAGId: 'sag-ok3',
      VersionCode: '2.4.0.0',
    }).catch((e: { code: string }) => e.code);
    expect(err).toBe('SmartAccessGatewayNotOnline');
    sim.instance('sag-ok3')!.devices[0]!.hcState = 'online';
    const ok = await call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
      RegionId: 'cn-shanghai',
      SmartAGId: 'sag-ok3',
      VersionCode: '2.4.0.0',
    });
    expect(ok.RequestId).toBeDefined();
  });

  it('answers unknown admin routes with 404', async () => {
    expect((await fetch(`${sim.endpoint}/_admin/nope`)).status).toBe(404);
  });
});
