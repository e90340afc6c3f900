import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSagClient } from '../../src/sag/client';
import type { SagError } from '../../src/sag/errors';
import { SAG_SIGNATURES, type SagSignature } from '../../src/sag/transport';
import type { SagClient } from '../../src/sag/types';

/**
 * Response quirks the simulator does not produce (it always answers in one canonical form):
 * served raw by a stub that ignores signatures, parsed by the real SDKs of both transports
 * (pop-core with json-bigint, openapi-client with JSON.parse).
 */

let server: http.Server;
let endpoint: string;
let nextBody = '{}';
let nextStatus = 200;
let signature: SagSignature = 'v2';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(nextStatus, { 'content-type': 'application/json' });
      res.end(nextBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function serve(body: string, status = 200): SagClient {
  nextBody = body;
  nextStatus = status;
  return createSagClient({
    signature,
    endpoint,
    credentials: {
      getCredentials: () => Promise.resolve({ accessKeyId: 'LTAIstubkey', accessKeySecret: 'stubsecret' }),
    },
  });
}

async function failure(fn: () => Promise<unknown>): Promise<SagError> {
  try {
    await fn();
  } catch (err) {
    return err as SagError;
  }
  throw new Error('expected a failure');
}

describe.each(SAG_SIGNATURES)('SagClient response parsing (%s transport)', (transport) => {
  beforeAll(() => {
    signature = transport;
  });

  it('accepts a wrapped list that is a bare object, large integers and numeric strings', async () => {
    const c = serve(
      '{"RequestId":"R1","TotalCount":"1","PageNumber":1,"PageSize":10,"SmartAccessGateways":{"SmartAccessGateway":' +
        '{"SmartAGId":"sag-one","SerialNumber":" sn1 , sn2 ,","Status":"Active","EndTime":"4102444800000","SecurityLockThreshold":"600","SmartAGUid":12345678901234567890,"DpiStatus":"Maybe"}}}',
    );
    const page = await c.describeSmartAccessGateways({ regionId: 'cn-hangzhou' });
    expect(page.totalCount).toBe(1);
    expect(page.items).toEqual([
      {
        smartAgId: 'sag-one',
        regionId: 'cn-hangzhou',
        status: 'Active',
        serialNumbers: ['sn1', 'sn2'],
        endTime: 4102444800000,
        securityLockThreshold: 600,
      },
    ]);
    expect(Object.getPrototypeOf(page)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(page.items[0])).toBe(Object.prototype);
  });

  it('reads a BigNumber as a number and an empty list as no items', async () => {
    const big = serve('{"RequestId":"R2","TotalCount":12345678901234567890,"SmartAccessGateways":{}}');
    const page = await big.describeSmartAccessGateways({ regionId: 'cn-hangzhou' });
    expect(typeof page.totalCount).toBe('number');
    expect(page.items).toEqual([]);
    const missing = serve('{"RequestId":"R3"}');
    expect(
      (await missing.describeSmartAccessGatewayVersions('cn-hangzhou', 'sag-1', 'Dpi')).versions,
    ).toEqual([]);
  });

  it('reads a single device as a bare object and never copies its SecretKey', async () => {
    const c = serve(
      '{"RequestId":"R4","SmartAGId":"sag-1","Status":"Active","Links":{"Link":{"Type":"ccn","InstanceId":"ccn-9"}},' +
        '"Devices":{"Device":{"SerialNumber":"sn1","SoftwareVersion":"2.1.0","HcState":"online","SecretKey":"device-secret-key"}}}',
    );
    const attr = await c.describeSmartAccessGatewayAttribute('cn-hangzhou', 'sag-1');
    expect(attr.devices).toEqual([{ serialNumber: 'sn1', softwareVersion: '2.1.0', hcState: 'online' }]);
    expect(attr.associatedCcnId).toBe('ccn-9');
    expect(JSON.stringify(attr)).not.toContain('device-secret-key');
  });

  it('accepts Duration and Jitter as numbers or strings', async () => {
    const numbers = serve(
      '{"RequestId":"R5","UpgradeType":"boot","Duration":90,"Jitter":5,"TimeZone":"Asia/Tokyo"}',
    );
    expect(await numbers.describeDeviceAutoUpgradePolicy('cn-hangzhou', 'sag-1', 'sn1', 'Dpi')).toEqual({
      serialNumber: 'sn1',
      versionType: 'Dpi',
      upgradeType: 'boot',
      duration: 90,
      jitter: '5',
      timeZone: 'Asia/Tokyo',
      requestId: 'R5',
    });
    const strings = serve(
      '{"RequestId":"R6","UpgradeType":"manual","Duration":"60","Jitter":"0","CronExpression":"0 0 4 1/1 * ?"}',
    );
    expect(
      await strings.describeDeviceAutoUpgradePolicy('cn-hangzhou', 'sag-1', 'sn1', 'Device'),
    ).toMatchObject({ duration: 60, jitter: '0' });
  });

  it('rejects an unknown UpgradeType as InvalidResponse with the RequestId', async () => {
    const c = serve('{"RequestId":"R7","UpgradeType":"sometimes"}');
    const err = await failure(() =>
      c.describeDeviceAutoUpgradePolicy('cn-hangzhou', 'sag-1', 'sn1', 'Device'),
    );
    expect(err).toMatchObject({ code: 'InvalidResponse', requestId: 'R7' });
  });

  it('rejects a success body without RequestId, or an item without its id', async () => {
    expect((await failure(() => serve('{"Regions":{}}').describeRegions())).code).toBe('InvalidResponse');
    const noId = await failure(() =>
      serve(
        '{"RequestId":"R8","SmartAccessGateways":{"SmartAccessGateway":[{"Status":"Active"}]}}',
      ).describeSmartAccessGateways({ regionId: 'cn-hangzhou' }),
    );
    expect(noId).toMatchObject({ code: 'InvalidResponse', requestId: 'R8' });
  });

  it('treats an error status whose JSON body has no Code as InvalidResponse (pop-core would call it a success)', async () => {
    const err = await failure(() => serve('{"RequestId":"R9","message":"upstream"}', 503).describeRegions());
    expect(err).toMatchObject({ code: 'InvalidResponse', httpStatus: 503, requestId: 'R9' });
  });

  it('rejects a JSON body that is not an object, or not JSON, as InvalidResponse', async () => {
    expect((await failure(() => serve('[1,2]').describeRegions())).code).toBe('InvalidResponse');
    expect((await failure(() => serve('null').describeRegions())).code).toBe('InvalidResponse');
    expect((await failure(() => serve('<html></html>').describeRegions())).code).toBe('InvalidResponse');
  });

  it('accepts the lowercase requestId of some documented examples', async () => {
    expect(
      await serve('{"requestId":"r10"}').updateSmartAccessGatewayVersion({
        regionId: 'cn-hangzhou',
        smartAgId: 'sag-1',
        versionCode: '2.2.0',
      }),
    ).toEqual({ requestId: 'r10' });
  });

  it('refuses a region that cannot be a host name before calling', async () => {
    const err = await failure(() =>
      serve('{}').describeSmartAccessGatewayAttribute('cn-hangzhou.evil.com/x', 'sag-1'),
    );
    expect(err.code).toBe('InvalidRegionId');
  });
});

describe('createSagClient options', () => {
  const credentials = { getCredentials: () => Promise.resolve({ accessKeyId: 'a', accessKeySecret: 'b' }) };
  it('rejects an endpoint that is not an http(s) origin and a non-positive timeout', () => {
    expect(() => createSagClient({ credentials, endpoint: 'smartag.cn-shanghai.aliyuncs.com' })).toThrow(
      /endpoint/,
    );
    expect(() => createSagClient({ credentials, endpoint: 'http://127.0.0.1:1/path?AccessKeyId=x' })).toThrow(
      /endpoint/,
    );
    expect(() => createSagClient({ credentials, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('accepts a trailing slash on the endpoint', () => {
    expect(() => createSagClient({ credentials, endpoint: 'http://127.0.0.1:8080/' })).not.toThrow();
  });
});
