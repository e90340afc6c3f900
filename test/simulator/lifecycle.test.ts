/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { call, eventually, failure, popClient, testFleet, type Json } from './helpers';
import type RPCClient from '@alicloud/pop-core';

let sim: SimulatorHandle;
let client: RPCClient;
beforeAll(async () => {
  sim = await startSimulator({ fleet: testFleet({ downloadSeconds: 0.3, upgradeSeconds: 0.5 }) });
  client = popClient(sim);
});
afterAll(() => sim.stop());

const region = { RegionId: 'cn-shanghai' };
const attribute = async (id: string) =>
  (await call(client, 'DescribeSmartAccessGatewayAttribute', { ...region, SmartAGId: id })).Devices
    .Device as Json[];
const info = (id: string, sn: string) =>
  call(client, 'DescribeSAGDeviceInfo', { ...region, SmartAGId: id, SmartAGSn: sn });
const upgrade = (id: string, extra: Record<string, string> = {}) =>
  call(client, 'UpdateSmartAccessGatewayVersion', {
    ...region,
    SmartAGId: id,
    VersionCode: '2.4.0.0',
    ...extra,
  });

describe('upgrade lifecycle', () => {
  it('is accepted, stays online on the old version briefly, goes offline, then comes back on the new version with a new StartupTime', async () => {
    // Long enough a download that a loaded machine still sees the old version right after the call.
    sim.instance('sag-ok1')!.devices[0]!.simulation.downloadSeconds = 1;
    const before = await info('sag-ok1', 'sn-sag-ok1');
    const res = await upgrade('sag-ok1', { SerialNumber: 'sn-sag-ok1', VersionType: 'Device' });
    expect(Object.keys(res)).toEqual(['RequestId']);
    const just = await attribute('sag-ok1');
    expect([just[0]!.HcState, just[0]!.SoftwareVersion]).toEqual(['online', '2.3.0.0']);
    const offline = await eventually(async () =>
      (await attribute('sag-ok1'))[0]!.HcState === 'offline' ? true : undefined,
    );
    expect(offline).toBe(true);
    const during = await info('sag-ok1', 'sn-sag-ok1');
    expect(during.ControllerState).toBe('Abnormal');
    const list = await call(client, 'DescribeSmartAccessGateways', { ...region, 'SmartAGIds.1': 'sag-ok1' });
    expect(list.SmartAccessGateways.SmartAccessGateway[0].Status).toBe('Offline');
    const back = await eventually(async () => {
      const d = (await attribute('sag-ok1'))[0]!;
      return d.HcState === 'online' ? d : undefined;
    });
    expect(back.SoftwareVersion).toBe('2.4.0.0');
    const after = await info('sag-ok1', 'sn-sag-ok1');
    expect(after.Version).toBe('2.4.0.0');
    expect(after.ControllerState).toBe('Normal');
    expect(after.StartupTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(after.StartupTime).not.toBe(before.StartupTime);
    expect(sim.devices().find((d) => d.SerialNumber === 'sn-sag-ok1')).toMatchObject({
      upgradeCalls: 1,
      upgradeCallsByVersion: { '2.4.0.0': 1 },
    });
  });

  it('accepts and counts a second call while the first upgrade is still downloading', async () => {
    sim.instance('sag-ok2')!.devices[0]!.simulation.downloadSeconds = 30;
    await upgrade('sag-ok2');
    await upgrade('sag-ok2');
    const row = sim.devices().find((d) => d.SmartAGId === 'sag-ok2')!;
    expect(row.upgradeCalls).toBe(2);
    expect(row.upgradeCallsByVersion).toEqual({ '2.4.0.0': 2 });
    expect(row.upgrading?.phase).toBe('downloading');
  });

  it('refuses an upgrade call while the device is offline flashing', async () => {
    await upgrade('sag-ok3');
    await eventually(async () => ((await attribute('sag-ok3'))[0]!.HcState === 'offline' ? true : undefined));
    const err = await failure(upgrade('sag-ok3'));
    expect(err.code).toBe('SmartAccessGatewayNotOnline');
  });

  it('reports both devices of an HA pair, comma-joined in the list, and fails over when the active device flashes', async () => {
    const list = await call(client, 'DescribeSmartAccessGateways', { ...region, 'SmartAGIds.1': 'sag-ha1' });
    const item = list.SmartAccessGateways.SmartAccessGateway[0];
    expect(item.SerialNumber).toBe('sn-ha1-a,sn-ha1-b');
    expect(item.BackupSoftwareVersion).toBe('2.3.0.0');
    const ha = await call(client, 'DescribeSmartAccessGatewayHa', { ...region, SmartAGId: 'sag-ha1' });
    expect(ha).toMatchObject({
      DeviceLevelBackupType: 'cold_backup',
      DeviceLevelBackupState: 'ON',
      MainDeviceId: 'sn-ha1-a',
      BackupDeviceId: 'sn-ha1-b',
    });
    const devices = await attribute('sag-ha1');
    expect(devices.map((d) => [d.SerialNumber, d.HaState])).toEqual([
      ['sn-ha1-a', 'Active'],
      ['sn-ha1-b', 'Standby'],
    ]);
    await upgrade('sag-ha1', { SerialNumber: 'sn-ha1-a' });
    const swapped = await eventually(async () => {
      const h = await call(client, 'DescribeSmartAccessGatewayHa', { ...region, SmartAGId: 'sag-ha1' });
      return h.MainDeviceId === 'sn-ha1-b' ? h : undefined;
    });
    expect(swapped.BackupDeviceId).toBe('sn-ha1-a');
    const final = await eventually(async () => {
      const ds = await attribute('sag-ha1');
      return ds.every((d) => d.HcState === 'online') ? ds : undefined;
    });
    expect(final.find((d) => d.SerialNumber === 'sn-ha1-a')!.SoftwareVersion).toBe('2.4.0.0');
    expect(final.find((d) => d.SerialNumber === 'sn-ha1-b')!.SoftwareVersion).toBe('2.3.0.0');
  });

  it('comes back on the old version with a new StartupTime when the outcome is revert', async () => {
    const before = await info('sag-revert', 'sn-sag-revert');
    await upgrade('sag-revert');
    await eventually(async () =>
      (await attribute('sag-revert'))[0]!.HcState === 'offline' ? true : undefined,
    );
    const after = await eventually(async () => {
      const i = await info('sag-revert', 'sn-sag-revert');
      return i.ControllerState === 'Normal' ? i : undefined;
    });
    expect(after.Version).toBe('2.3.0.0');
    expect(after.StartupTime).not.toBe(before.StartupTime);
  });

  it('never comes back when the outcome is stay-offline', async () => {
    await upgrade('sag-stay');
    await eventually(
      () => (sim.instance('sag-stay')!.devices[0]!.operation === undefined ? true : undefined),
      5000,
    );
    const d = (await attribute('sag-stay'))[0]!;
    expect([d.HcState, d.SoftwareVersion]).toEqual(['offline', '2.3.0.0']);
  });

  it('alternates online and offline on the new version when the outcome is flap', async () => {
    await upgrade('sag-flap');
    await eventually(
      () => (sim.instance('sag-flap')!.devices[0]!.operation === undefined ? true : undefined),
      5000,
    );
    const seen = new Set<string>();
    await eventually(async () => {
      const d = (await attribute('sag-flap'))[0]!;
      expect(d.SoftwareVersion).toBe('2.4.0.0');
      seen.add(d.HcState as string);
      return seen.size === 2 ? true : undefined;
    }, 5000);
    expect([...seen].sort()).toEqual(['offline', 'online']);
  });

  it('accepts a downgrade only on a device that allows it', async () => {
    const res = await call(client, 'UpdateSmartAccessGatewayVersion', {
      ...region,
      SmartAGId: 'sag-downgrade',
      VersionCode: '2.3.0.0',
    });
    expect(res.RequestId).toBeDefined();
    const d = await eventually(async () => {
      const x = (await attribute('sag-downgrade'))[0]!;
      return x.SoftwareVersion === '2.3.0.0' && x.HcState === 'online' ? x : undefined;
    });
    expect(d.SoftwareVersion).toBe('2.3.0.0');
  });

  it('updates the DPI signature database without taking the device offline', async () => {
    await call(client, 'UpdateSmartAccessGatewayVersion', {
      ...region,
      SmartAGId: 'sag-warm1',
      SerialNumber: 'sn-warm1-a',
      VersionCode: '20220610_1_0-0.0.3',
      VersionType: 'Dpi',
    });
    const d = await eventually(async () => {
      const x = (await attribute('sag-warm1')).find((y) => y.SerialNumber === 'sn-warm1-a')!;
      expect(x.HcState).toBe('online');
      return x.DpiSignatureDbVersion === '20220610_1_0-0.0.3' ? x : undefined;
    });
    expect(d.SoftwareVersion).toBe('2.3.0.0');
    const older = await failure(
      call(client, 'UpdateSmartAccessGatewayVersion', {
        ...region,
        SmartAGId: 'sag-warm1',
        SerialNumber: 'sn-warm1-a',
        VersionCode: '20201117_1_0-0.0.1',
        VersionType: 'Dpi',
      }),
    );
    expect(older.code).toBe('VersionTooOld');
  });

  it('upgrades a device with a scheduled policy by itself when its cron window opens, unless pinned to manual first', async () => {
    const row = await eventually(() => {
      const r = sim.devices().find((d) => d.SmartAGId === 'sag-sched')!;
      return r.autoUpgrades > 0 ? r : undefined;
    }, 5000);
    expect(row.upgradeCalls).toBe(0);
    const done = await eventually(async () => {
      const d = (await attribute('sag-sched'))[0]!;
      return d.SoftwareVersion === '2.4.0.0' && d.HcState === 'online' ? d : undefined;
    }, 5000);
    expect(done.SoftwareVersion).toBe('2.4.0.0');

    // Pinned to manual, the same device never moves by itself.
    const pinned = sim.instance('sag-ok1')!.devices[0]!;
    pinned.softwareVersion = '2.3.0.0';
    const policy = {
      ...region,
      SmartAGId: 'sag-ok1',
      SerialNumber: 'sn-sag-ok1',
      CronExpression: '* * * * * ?',
      Duration: '60',
      TimeZone: 'Asia/Shanghai',
    };
    await call(client, 'ModifyDeviceAutoUpgradePolicy', { ...policy, UpgradeType: 'scheduled' });
    const described = await call(client, 'DescribeDeviceAutoUpgradePolicy', {
      ...region,
      SmartAGId: 'sag-ok1',
      SerialNumber: 'sn-sag-ok1',
      VersionType: 'Device',
    });
    expect(described).toMatchObject({
      UpgradeType: 'scheduled',
      CronExpression: '* * * * * ?',
      Duration: '60',
      Jitter: '0',
    });
    await call(client, 'ModifyDeviceAutoUpgradePolicy', { ...policy, UpgradeType: 'manual' });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await attribute('sag-ok1'))[0]!.SoftwareVersion).toBe('2.3.0.0');
  });

  it('reboots a device on RebootSmartAccessGateway and changes its StartupTime', async () => {
    const wrongRegion = await failure(info('sag-hz1', 'sn-sag-hz1'));
    expect(wrongRegion.code).toBe('SAG.InstanceNoFound');
    const start = (
      await call(client, 'DescribeSAGDeviceInfo', {
        RegionId: 'cn-hangzhou',
        SmartAGId: 'sag-hz1',
        SmartAGSn: 'sn-sag-hz1',
      })
    ).StartupTime as string;
    await call(client, 'RebootSmartAccessGateway', { RegionId: 'cn-hangzhou', SmartAGId: 'sag-hz1' });
    const after = await eventually(async () => {
      const i = await call(client, 'DescribeSAGDeviceInfo', {
        RegionId: 'cn-hangzhou',
        SmartAGId: 'sag-hz1',
        SmartAGSn: 'sn-sag-hz1',
      });
      return i.ControllerState === 'Normal' && i.StartupTime !== start ? i : undefined;
    });
    expect(after.Version).toBe('2.3.0.0');
  });
});
