/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpcTimestamp, signedParams, startSimulator, type SimulatorHandle } from '../../src/simulator';
import { call, failure, popClient, rawRequest, testFleet } from './helpers';

let sim: SimulatorHandle;
const attr = { RegionId: 'cn-shanghai', SmartAGId: 'sag-ok1' };

beforeAll(async () => {
  sim = await startSimulator({
    fleet: testFleet(),
    credentials: [
      { accessKeyId: 'LTAIprimary', accessKeySecret: 'primary-secret' },
      { accessKeyId: 'STS.tempkey', accessKeySecret: 'sts-secret', securityToken: 'token-abc' },
    ],
  });
});
afterAll(() => sim.stop());

describe('RPC protocol', () => {
  it('serves pop-core over GET and POST with an uppercase UUID RequestId and no Code', async () => {
    const client = popClient(sim);
    for (const method of ['GET', 'POST'] as const) {
      const res = await call(client, 'DescribeSmartAccessGatewayAttribute', attr, method);
      expect(res.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
      expect('Code' in res).toBe(false);
      expect(res.Devices.Device[0].SerialNumber).toBe('sn-sag-ok1');
    }
  });

  it('verifies the signature over query and form parameters merged', async () => {
    const signed = signedParams('DescribeSmartAccessGatewayAttribute', attr, sim, { method: 'POST' });
    const { SmartAGId, RegionId, ...rest } = signed;
    const res = await fetch(
      `${sim.endpoint}/?${new URLSearchParams({ SmartAGId: SmartAGId!, RegionId: RegionId! }).toString()}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(rest).toString(),
      },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { SmartAGId: string }).SmartAGId).toBe('sag-ok1');
  });

  it('refuses a tampered signature with SignatureDoesNotMatch (400) and the error body shape', async () => {
    const res = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      mutate: (p) => {
        p.SmartAGId = 'sag-ok2';
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('SignatureDoesNotMatch');
    expect(Object.keys(res.body).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
    expect(res.body.Recommend).toContain('q=SignatureDoesNotMatch');
  });

  it('refuses a signature made with the wrong secret', async () => {
    const res = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      method: 'POST',
      secret: 'nope',
    });
    expect([res.status, res.body.Code]).toEqual([400, 'SignatureDoesNotMatch']);
  });

  it('refuses an unknown AccessKeyId with InvalidAccessKeyId.NotFound (404)', async () => {
    const res = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      accessKeyId: 'LTAIunknown',
    });
    expect([res.status, res.body.Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
  });

  it('refuses a timestamp 20 minutes old with InvalidTimeStamp.Expired (400), and a malformed one with InvalidTimeStamp.Format', async () => {
    const old = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      timestamp: rpcTimestamp(new Date(Date.now() - 20 * 60_000)),
    });
    expect([old.status, old.body.Code]).toEqual([400, 'InvalidTimeStamp.Expired']);
    const future = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      timestamp: rpcTimestamp(new Date(Date.now() + 16 * 60_000)),
    });
    expect(future.body.Code).toBe('InvalidTimeStamp.Expired');
    const bad = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      timestamp: '2024/01/01 00:00:00',
    });
    expect([bad.status, bad.body.Code]).toEqual([400, 'InvalidTimeStamp.Format']);
  });

  it('refuses a replayed nonce with SignatureNonceUsed (400)', async () => {
    const nonce = `nonce-${Date.now()}`;
    const first = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, { nonce });
    expect(first.status).toBe(200);
    const replay = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, { nonce });
    expect([replay.status, replay.body.Code]).toEqual([400, 'SignatureNonceUsed']);
  });

  it('refuses a wrong API Version with InvalidVersion', async () => {
    const res = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, { version: '2014-05-26' });
    expect([res.status, res.body.Code]).toEqual([400, 'InvalidVersion']);
  });

  it('answers an unknown Action with InvalidApi.NotFound (404)', async () => {
    const res = await rawRequest(sim, 'DescribeInstances', {});
    expect([res.status, res.body.Code]).toEqual([404, 'InvalidApi.NotFound']);
  });

  it('takes the action from the Action parameter, never from the x-acs-action header', async () => {
    const res = await rawRequest(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      headers: { 'x-acs-action': 'UpdateSmartAccessGatewayVersion' },
    });
    expect(res.status).toBe(200);
    expect(res.body.Devices.Device).toHaveLength(1);
    expect(sim.instance('sag-ok1')!.devices[0]!.upgradeCalls).toBe(0);
  });

  it('answers a missing required parameter with Missing<Name> (400) through pop-core', async () => {
    const err = await failure(
      call(popClient(sim), 'DescribeSmartAccessGatewayAttribute', { RegionId: 'cn-shanghai' }),
    );
    expect(err.code).toBe('MissingSmartAGId');
    expect(err.entry.response.statusCode).toBe(400);
    expect(err.data.Message).toBe('SmartAGId is mandatory for this action.');
    const noRegion = await failure(
      call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
        SmartAGId: 'sag-ok1',
        VersionCode: '2.4.0.0',
      }),
    );
    expect(noRegion.code).toBe('MissingRegionId');
  });

  it('accepts STS keys only with their SecurityToken', async () => {
    const sts = { endpoint: sim.endpoint, accessKeyId: 'STS.tempkey', accessKeySecret: 'sts-secret' };
    const ok = await call(popClient(sts, { securityToken: 'token-abc' }), 'DescribeRegions', {});
    expect(ok.Regions.Region.length).toBeGreaterThan(0);
    const missing = await failure(call(popClient(sts), 'DescribeRegions', {}));
    expect(missing.code).toBe('MissingSecurityToken');
    const wrong = await rawRequest(sts, 'DescribeRegions', {}, { securityToken: 'other' });
    expect(wrong.body.Code).toBe('InvalidSecurityToken.MismatchWithAccessKey');
  });

  it('never serves RPC under /_admin/', async () => {
    const res = await fetch(`${sim.endpoint}/_admin/nothing?Action=DescribeRegions`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { RequestId?: string }).RequestId).toBeUndefined();
  });
});
