/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import type RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { call, eventually, failure, popClient, type Json } from './helpers';

// A device can come back on the target, online and restarted, and still have lost its branch.
const FUTURE = 4102444800000;
const sim = { downloadSeconds: 0.1, upgradeSeconds: 0.2, diagnosisSeconds: 0.2 };
const single = (id: string, simulation: Json = {}): Json => ({
  SmartAGId: id,
  RegionId: 'cn-shanghai',
  Status: 'Active',
  AssociatedCcnId: 'ccn-01',
  EndTime: FUTURE,
  Devices: [
    {
      SerialNumber: `sn-${id}`,
      SoftwareVersion: '2.3.0.0',
      HaState: 'Active',
      HcState: 'online',
      simulation,
    },
  ],
});

let s: SimulatorHandle;
let client: RPCClient;
beforeAll(async () => {
  s = await startSimulator({
    fleet: {
      versions: {
        Device: [
          { VersionCode: '2.3.0.0', Type: 'release' },
          {
            VersionCode: '2.4.0.0',
            Type: 'release',
            UnsupportedFeatures: { CreateSmartAccessGatewayIsp: ['ISP'], '*': ['IPv6'] },
          },
        ],
        Dpi: [],
      },
      simulation: sim,
      instances: [
        single('sag-hlink', { outcome: 'link-down' }),
        single('sag-hctl', { outcome: 'controller-lost' }),
        single('sag-hdiag', { outcome: 'diagnosis-fail' }),
        single('sag-hwas', { linkDown: true, failingDiagnosis: ['DnsResolution'] }),
        single('sag-hok'),
      ],
    } as never,
  });
  client = popClient(s);
});
afterAll(() => s.stop());

const region = { RegionId: 'cn-shanghai' };
const attribute = (id: string) =>
  call(client, 'DescribeSmartAccessGatewayAttribute', { ...region, SmartAGId: id });
const ha = (id: string) => call(client, 'DescribeSmartAccessGatewayHa', { ...region, SmartAGId: id });
const info = (id: string) =>
  call(client, 'DescribeSAGDeviceInfo', { ...region, SmartAGId: id, SmartAGSn: `sn-${id}` });
async function upgraded(id: string): Promise<Json> {
  await call(client, 'UpdateSmartAccessGatewayVersion', {
    ...region,
    SmartAGId: id,
    VersionCode: '2.4.0.0',
    SerialNumber: `sn-${id}`,
  });
  return eventually(async () => {
    const a = await attribute(id);
    const d = a.Devices.Device[0];
    return d.SoftwareVersion === '2.4.0.0' && d.HcState === 'online' ? a : undefined;
  });
}
async function report(id: string): Promise<Json> {
  await call(client, 'DiagnoseSmartAccessGateway', { ...region, SmartAGId: id, SmartAGSn: `sn-${id}` });
  return eventually(async () => {
    const r = await call(client, 'DiscribeSmartAccessGatewayDiagnosisReport', {
      SmartAGId: id,
      SmartAGSn: `sn-${id}`,
    });
    return r.DiagnoseResult.State === 'finished' ? r.DiagnoseResult : undefined;
  });
}
const failing = (r: Json): string[] =>
  (r.Details as Json[]).flatMap((d) =>
    (d.Items as Json[]).filter((i) => i.Level === 'error').map((i) => i.ItemName as string),
  );

describe('branch health in the simulator', () => {
  it('shows links, link backup, controller and diagnosis healthy on a healthy device', async () => {
    const a = await attribute('sag-hok');
    expect(a.Links.Link).toEqual([
      expect.objectContaining({ InstanceId: 'ccn-01', Type: 'ccn', Status: 'Active' }),
    ]);
    expect((await ha('sag-hok')).LinkBackupInfoList.LinkBackupInfoList).toEqual([
      expect.objectContaining({ MainLinkId: 'wan1', MainLinkState: 'up', BackupLinkState: 'up' }),
    ]);
    expect(await info('sag-hok')).toMatchObject({ ControllerState: 'Normal' });
    const r = await report('sag-hok');
    expect(r).toMatchObject({ SN: 'sn-sag-hok', Percent: 100, Statistics: { Error: 0 } });
    expect(failing(r)).toEqual([]);
  });

  it('brings a link-down device back on the target with its link down', async () => {
    const a = await upgraded('sag-hlink');
    expect(a.Links.Link[0].Status).toBe('Inactive');
    expect((await ha('sag-hlink')).LinkBackupInfoList.LinkBackupInfoList[0].MainLinkState).toBe('down');
    expect(await info('sag-hlink')).toMatchObject({ Version: '2.4.0.0', ControllerState: 'Normal' });
    expect(s.devices().find((d) => d.SmartAGId === 'sag-hlink')!.health).toEqual({
      linkDown: true,
      controllerLost: false,
      failingDiagnosis: [],
    });
  });

  it('brings a controller-lost device back online without its controller', async () => {
    await upgraded('sag-hctl');
    const i = await info('sag-hctl');
    expect(i.ControllerState).toBe('Abnormal');
    expect((await attribute('sag-hctl')).Devices.Device[0].HcState).toBe('online');
  });

  it('brings a diagnosis-fail device back with a diagnosis item failing that passed before', async () => {
    expect(failing(await report('sag-hdiag'))).toEqual([]);
    await upgraded('sag-hdiag');
    expect(failing(await report('sag-hdiag'))).toEqual(['WanConnectivity']);
  });

  it('reports a device broken before any upgrade as such from the start', async () => {
    expect((await attribute('sag-hwas')).Links.Link[0].Status).toBe('Inactive');
    expect(failing(await report('sag-hwas'))).toEqual(['DnsResolution']);
  });

  it('answers the diagnosis report as running until the diagnosis ends, and refuses a diagnosis of an unknown serial', async () => {
    await call(client, 'DiagnoseSmartAccessGateway', {
      ...region,
      SmartAGId: 'sag-hok',
      SmartAGSn: 'sn-sag-hok',
    });
    const r = await call(client, 'DiscribeSmartAccessGatewayDiagnosisReport', {
      SmartAGId: 'sag-hok',
      SmartAGSn: 'sn-sag-hok',
    });
    expect(r.DiagnoseResult).toMatchObject({ State: 'processing', Details: [] });
    const err = await failure(
      call(client, 'DiagnoseSmartAccessGateway', { ...region, SmartAGId: 'sag-hok', SmartAGSn: 'sn-nope' }),
    );
    expect(err.code).toBe('SAG.InvalidSerialNumber');
  });

  it('lists the features a version does not support, per OpenAPI name', async () => {
    const features = async (id: string, name: string) =>
      (
        await call(client, 'ListSmartAGApiUnsupportedFeature', {
          ...region,
          SmartAGId: id,
          SerialNumber: `sn-${id}`,
          OpenApiName: name,
        })
      ).Features.Feature;
    expect(await features('sag-hok', 'CreateSmartAccessGatewayIsp')).toEqual([]);
    await upgraded('sag-hok');
    expect(await features('sag-hok', 'CreateSmartAccessGatewayIsp')).toEqual(['ISP', 'IPv6']);
    expect(await features('sag-hok', 'DescribeFlowLogs')).toEqual(['IPv6']);
  });

  it('lets the admin interface break and mend a link', async () => {
    await fetch(`${s.endpoint}/_admin/devices/sn-sag-hok`, {
      method: 'POST',
      body: JSON.stringify({ linkDown: true }),
    });
    expect((await attribute('sag-hok')).Links.Link[0].Status).toBe('Inactive');
    await fetch(`${s.endpoint}/_admin/devices/sn-sag-hok`, {
      method: 'POST',
      body: JSON.stringify({ linkDown: false }),
    });
    expect((await attribute('sag-hok')).Links.Link[0].Status).toBe('Active');
  });
});
