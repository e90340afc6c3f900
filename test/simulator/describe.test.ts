/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFleet, startSimulator, type SimulatorHandle } from '../../src/simulator';
import { call, failure, popClient, testFleet, type Json } from './helpers';
import type RPCClient from '@alicloud/pop-core';

let sim: SimulatorHandle;
let big: SimulatorHandle;
let client: RPCClient;
beforeAll(async () => {
  sim = await startSimulator({ fleet: testFleet() });
  big = await startSimulator({ fleet: generateFleet({ devices: 120, seed: 7, regions: ['cn-shanghai'] }) });
  client = popClient(sim);
});
afterAll(async () => {
  await sim.stop();
  await big.stop();
});

const region = { RegionId: 'cn-shanghai' };

describe('read actions', () => {
  it('pages DescribeSmartAccessGateways with PageNumber and PageSize up to 50 and refuses 51', async () => {
    const c = popClient(big);
    const ids = new Set<string>();
    let total = 0;
    for (let page = 1; page <= 3; page++) {
      const res = await call(c, 'DescribeSmartAccessGateways', { ...region, PageSize: 50, PageNumber: page });
      total = res.TotalCount as number;
      expect(res.PageSize).toBe(50);
      for (const i of res.SmartAccessGateways.SmartAccessGateway as Json[]) ids.add(i.SmartAGId as string);
    }
    expect(total).toBe(120);
    expect(ids.size).toBe(120);
    const err = await failure(call(c, 'DescribeSmartAccessGateways', { ...region, PageSize: 51 }));
    expect([err.code, err.entry.response.statusCode]).toEqual(['InvalidPageSize', 400]);
    const dflt = await call(c, 'DescribeSmartAccessGateways', region);
    expect(dflt.SmartAccessGateways.SmartAccessGateway).toHaveLength(10);
  });

  it('filters by SmartAGIds.N, Status, and SoftwareVersion with VersionComparator', async () => {
    const byIds = await call(client, 'DescribeSmartAccessGateways', {
      ...region,
      SmartAGIds: ['sag-ok1', 'sag-newer', 'sag-hz1'],
    });
    expect((byIds.SmartAccessGateways.SmartAccessGateway as Json[]).map((i) => i.SmartAGId).sort()).toEqual([
      'sag-newer',
      'sag-ok1',
    ]);
    const offline = await call(client, 'DescribeSmartAccessGateways', {
      ...region,
      Status: 'Offline',
      PageSize: 50,
    });
    expect((offline.SmartAccessGateways.SmartAccessGateway as Json[]).map((i) => i.SmartAGId)).toContain(
      'sag-offline',
    );
    expect(
      (offline.SmartAccessGateways.SmartAccessGateway as Json[]).every((i) => i.Status === 'Offline'),
    ).toBe(true);
    const less = await call(client, 'DescribeSmartAccessGateways', {
      ...region,
      SoftwareVersion: '2.4.0.0',
      VersionComparator: 'less',
      PageSize: 50,
    });
    const lessIds = (less.SmartAccessGateways.SmartAccessGateway as Json[]).map((i) => i.SmartAGId);
    expect(lessIds).toContain('sag-ok1');
    expect(lessIds).not.toContain('sag-newer');
    const equals = await call(client, 'DescribeSmartAccessGateways', {
      ...region,
      SoftwareVersion: '2.4.0.0',
      VersionComparator: 'equals',
      PageSize: 50,
    });
    expect((equals.SmartAccessGateways.SmartAccessGateway as Json[]).map((i) => i.SmartAGId).sort()).toEqual([
      'sag-downgrade',
      'sag-newer',
    ]);
    const bySn = await call(client, 'DescribeSmartAccessGateways', { ...region, SerialNumber: 'sn-ha1-b' });
    expect(bySn.SmartAccessGateways.SmartAccessGateway[0].SmartAGId).toBe('sag-ha1');
  });

  it('returns per-device attributes with a SecretKey, as the real service does', async () => {
    const res = await call(client, 'DescribeSmartAccessGatewayAttribute', {
      ...region,
      SmartAGId: 'sag-warm1',
    });
    expect(res.Devices.Device).toHaveLength(2);
    for (const d of res.Devices.Device as Json[]) {
      expect(Object.keys(d)).toEqual(
        expect.arrayContaining([
          'SerialNumber',
          'SoftwareVersion',
          'DpiSignatureDbVersion',
          'HaState',
          'HcState',
          'SecretKey',
        ]),
      );
      expect(d.HaState).toBe('Active');
      expect(d.SecretKey).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(res).toMatchObject({
      SmartAGId: 'sag-warm1',
      Status: 'Active',
      InstanceType: 'sag-1000',
      TrafficMasterSn: 'sn-warm1-a',
    });
    expect(res.Links.Link[0]).toMatchObject({ Type: 'ccn', InstanceId: 'ccn-01' });
  });

  it('lists release and beta versions for Device and Dpi, and none of Device for sag-software', async () => {
    const dev = await call(client, 'DescribeSmartAccessGatewayVersions', {
      ...region,
      SmartAGId: 'sag-ok1',
      SmartAGSn: 'sn-sag-ok1',
    });
    const entries = dev.SmartAGVersions.SmartAGVersion as Json[];
    expect(entries.map((v) => `${v.VersionCode}/${v.Type}`)).toEqual([
      '2.2.0.0/release',
      '2.3.0.0/release',
      '2.4.0.0/release',
      '2.5.0.0/beta',
    ]);
    expect(typeof entries[0]!.CreateTime).toBe('number');
    const dpi = await call(client, 'DescribeSmartAccessGatewayVersions', {
      ...region,
      SmartAGId: 'sag-ok1',
      VersionType: 'Dpi',
    });
    expect((dpi.SmartAGVersions.SmartAGVersion as Json[]).map((v) => v.VersionCode)).toContain(
      '20220610_1_0-0.0.3',
    );
    const sw = await call(client, 'DescribeSmartAccessGatewayVersions', {
      ...region,
      SmartAGId: 'sag-software',
    });
    expect(sw.SmartAGVersions.SmartAGVersion).toEqual([]);
  });

  it('describes and modifies auto-upgrade policies per serial number, validating the fields', async () => {
    const p = { ...region, SmartAGId: 'sag-warm1', SerialNumber: 'sn-warm1-b' };
    const before = await call(client, 'DescribeDeviceAutoUpgradePolicy', { ...p, VersionType: 'Dpi' });
    expect(before).toMatchObject({
      SmartAGId: 'sag-warm1',
      SerialNumber: 'sn-warm1-b',
      UpgradeType: 'manual',
      Duration: '60',
      TimeZone: 'Asia/Shanghai',
    });
    await call(client, 'ModifyDeviceAutoUpgradePolicy', {
      ...p,
      VersionType: 'Dpi',
      UpgradeType: 'boot',
      CronExpression: '0 0 3 ? * 2',
      Duration: 90,
      TimeZone: 'Asia/Tokyo',
    });
    const after = await call(client, 'DescribeDeviceAutoUpgradePolicy', { ...p, VersionType: 'Dpi' });
    expect(after).toMatchObject({
      UpgradeType: 'boot',
      CronExpression: '0 0 3 ? * 2',
      Duration: '90',
      TimeZone: 'Asia/Tokyo',
    });
    const device = await call(client, 'DescribeDeviceAutoUpgradePolicy', p);
    expect(device.UpgradeType).toBe('manual');
    const bad = await failure(
      call(client, 'ModifyDeviceAutoUpgradePolicy', {
        ...p,
        UpgradeType: 'manual',
        CronExpression: '0 0 3 * * ?',
        Duration: 10,
        TimeZone: 'Asia/Tokyo',
      }),
    );
    expect([bad.code, bad.entry.response.statusCode]).toEqual(['InvalidDuration', 400]);
    const missing = await failure(
      call(client, 'ModifyDeviceAutoUpgradePolicy', {
        ...p,
        UpgradeType: 'manual',
        Duration: 60,
        TimeZone: 'Asia/Tokyo',
      }),
    );
    expect(missing.code).toBe('MissingCronExpression');
    const sn = await failure(call(client, 'DescribeDeviceAutoUpgradePolicy', { ...p, SerialNumber: 'nope' }));
    expect(sn.code).toBe('SAG.InvalidSerialNumber');
  });

  it('answers DescribeSAGDeviceInfo with Version, StartupTime and ControllerState, keyed by SmartAGSn', async () => {
    const res = await call(client, 'DescribeSAGDeviceInfo', {
      ...region,
      SmartAGId: 'sag-ha1',
      SmartAGSn: 'sn-ha1-b',
    });
    expect(res).toMatchObject({ Version: '2.3.0.0', ControllerState: 'Normal' });
    expect(res.StartupTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const missing = await failure(
      call(client, 'DescribeSAGDeviceInfo', { ...region, SmartAGId: 'sag-ha1', SerialNumber: 'sn-ha1-b' }),
    );
    expect(missing.code).toBe('MissingSmartAGSn');
    const offline = await call(client, 'DescribeSAGDeviceInfo', {
      ...region,
      SmartAGId: 'sag-offline',
      SmartAGSn: 'sn-sag-offline',
    });
    expect(offline.ControllerState).toBe('Abnormal');
  });

  it('answers GetSmartAGDpiAttribute, DescribeRegions and DescribeSmartAccessGatewayHa for a single device', async () => {
    expect(
      (await call(client, 'GetSmartAGDpiAttribute', { ...region, SmartAGId: 'sag-dpioff' })).DpiStatus,
    ).toBe('Off');
    expect(
      (await call(client, 'GetSmartAGDpiAttribute', { ...region, SmartAGId: 'sag-ok1' })).DpiStatus,
    ).toBe('On');
    const regions = await call(client, 'DescribeRegions', { AcceptLanguage: 'en-US' });
    expect(regions.Regions.Region).toEqual(
      expect.arrayContaining([
        {
          RegionId: 'cn-shanghai',
          LocalName: 'China (Shanghai)',
          RegionEndpoint: 'smartag.cn-shanghai.aliyuncs.com',
        },
      ]),
    );
    const ha = await call(client, 'DescribeSmartAccessGatewayHa', { ...region, SmartAGId: 'sag-ok1' });
    expect(ha).toMatchObject({
      DeviceLevelBackupType: 'no_backup',
      DeviceLevelBackupState: 'OFF',
      MainDeviceId: 'sn-sag-ok1',
    });
  });

  it('requires RegionId where the reference marks it required, and rejects an unknown instance', async () => {
    for (const action of [
      'DescribeSmartAccessGatewayAttribute',
      'DescribeSmartAccessGatewayVersions',
      'DescribeSmartAccessGatewayHa',
      'GetSmartAGDpiAttribute',
    ]) {
      const err = await failure(call(client, action, { SmartAGId: 'sag-ok1' }));
      expect(err.code).toBe('MissingRegionId');
    }
    const unknown = await failure(
      call(client, 'DescribeSmartAccessGatewayAttribute', { ...region, SmartAGId: 'sag-zzz' }),
    );
    expect([unknown.code, unknown.entry.response.statusCode]).toEqual(['InvalidId.SMARTAG', 403]);
  });
});
