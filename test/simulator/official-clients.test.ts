/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   The SDKs' answers and errors are untyped; the assertions are what checks their shape. */
import OpenApiClient, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import RPCClient from '@alicloud/pop-core';
import { RuntimeOptions } from '@alicloud/tea-util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rpcTimestamp, startSimulator, type SimulatorHandle } from '../../src/simulator';
import { testFleet, type Json } from './helpers';

/**
 * The simulator driven by Alibaba's own SDKs, unchanged: `@alicloud/openapi-client` in its default
 * V3 mode (ACS3-HMAC-SHA256) and in V2 mode (`signatureAlgorithm: 'v2'`), and `@alicloud/pop-core`
 * (V2), over GET and POST. For each call the three must get the same answer: status, code and
 * body (RequestIds aside).
 */

let sim: SimulatorHandle;
const STS = {
  accessKeyId: 'STS.official',
  accessKeySecret: 'sts-official-secret',
  securityToken: 'CAIS-official-token',
};
const LIMITED = { accessKeyId: 'LTAIlimited', accessKeySecret: 'limited-secret' };

beforeAll(async () => {
  sim = await startSimulator({
    fleet: testFleet(),
    credentials: [
      { accessKeyId: 'LTAIofficial', accessKeySecret: 'official-secret' },
      STS,
      {
        ...LIMITED,
        policy: {
          Version: '1',
          Statement: [
            { Effect: 'Allow', Action: ['smartag:*'], Resource: ['acs:smartag:*:*:smartag/sag-ok1'] },
          ],
        },
      },
    ],
  });
});
afterAll(() => sim.stop());
afterEach(() => sim.setFaults({ rules: [] }));

/** One call's answer as the SDK hands it over: HTTP status and parsed body, success or not. */
interface Outcome {
  status: number;
  body: Json;
  /** The SDK's own error code (`err.code`), when it rejected. */
  sdkCode?: string;
}

interface CallOptions {
  method: 'GET' | 'POST';
  accessKeyId?: string;
  secret?: string;
  securityToken?: string;
  /** Replaces the SDK's own timestamp (`Timestamp` for V2, `x-acs-date` for V3). */
  timestamp?: string;
  /** Replaces the SDK's own nonce. */
  nonce?: string;
}

interface OfficialClient {
  name: string;
  scheme: 'HMAC-SHA1' | 'ACS3-HMAC-SHA256';
  call(action: string, params: Record<string, string>, options: CallOptions): Promise<Outcome>;
}

function credentialsOf(o: CallOptions) {
  return {
    accessKeyId: o.accessKeyId ?? sim.accessKeyId,
    accessKeySecret: o.secret ?? sim.accessKeySecret,
    ...(o.securityToken ? { securityToken: o.securityToken } : {}),
  };
}

const popCore: OfficialClient = {
  name: 'pop-core',
  scheme: 'HMAC-SHA1',
  async call(action, params, o) {
    const Ctor = RPCClient as unknown as new (config: RPCClient.Config, verbose: boolean) => RPCClient;
    const client = new Ctor({ endpoint: sim.endpoint, apiVersion: '2018-03-13', ...credentialsOf(o) }, true);
    // pop-core lets the caller's parameters replace its Timestamp and SignatureNonce.
    const all = {
      ...params,
      ...(o.timestamp ? { Timestamp: o.timestamp } : {}),
      ...(o.nonce ? { SignatureNonce: o.nonce } : {}),
    };
    try {
      const [body, entry] = await client.request<[Json, Json]>(action, all, {
        method: o.method,
        formatParams: false,
      });
      return { status: entry.response.statusCode as number, body: { ...body } };
    } catch (err) {
      const e = err as Json;
      return {
        status: e.entry.response.statusCode as number,
        body: { ...(e.data as Json) },
        sdkCode: e.code as string,
      };
    }
  },
};

function openApi(signatureAlgorithm: 'v2' | undefined): OfficialClient {
  return {
    name: signatureAlgorithm ? 'openapi-client v2' : 'openapi-client v3',
    scheme: signatureAlgorithm ? 'HMAC-SHA1' : 'ACS3-HMAC-SHA256',
    async call(action, params, o) {
      const client = new OpenApiClient(
        new Config({
          ...credentialsOf(o),
          endpoint: new URL(sim.endpoint).host,
          protocol: 'HTTP',
          ...(signatureAlgorithm ? { signatureAlgorithm } : {}),
        }),
      );
      const api = new Params({
        action,
        version: '2018-03-13',
        protocol: 'HTTP',
        pathname: '/',
        method: o.method,
        authType: 'AK',
        style: 'RPC',
        reqBodyType: 'formData',
        bodyType: 'json',
      });
      // Generated clients put RPC parameters in the query for GET and in a form body for POST.
      // openapi-client lets request headers (V3) and query parameters (V2) replace its date and nonce.
      const request = new OpenApiRequest({
        ...(o.method === 'GET' ? { query: { ...params } } : { body: { ...params } }),
        ...(signatureAlgorithm
          ? {
              query: {
                ...(o.method === 'GET' ? params : {}),
                ...(o.timestamp ? { Timestamp: o.timestamp } : {}),
                ...(o.nonce ? { SignatureNonce: o.nonce } : {}),
              },
            }
          : {
              headers: {
                ...(o.timestamp ? { 'x-acs-date': o.timestamp } : {}),
                ...(o.nonce ? { 'x-acs-signature-nonce': o.nonce } : {}),
              },
            }),
      });
      try {
        const res = await client.callApi(api, request, new RuntimeOptions({}));
        return { status: res.statusCode as number, body: { ...(res.body as Json) } };
      } catch (err) {
        const e = err as Json;
        // openapi-client adds the HTTP status to the body it keeps as `data`.
        const { statusCode: _status, ...body } = e.data as Json;
        return { status: e.statusCode as number, body, sdkCode: e.code as string };
      }
    },
  };
}

const CLIENTS: OfficialClient[] = [openApi(undefined), openApi('v2'), popCore];
const METHODS = ['GET', 'POST'] as const;

/** A body with its RequestId taken out (it appears in RequestId and in Recommend). */
function withoutRequestId(body: Json): Json {
  const id = body.RequestId as string;
  expect(id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  return JSON.parse(JSON.stringify(body).split(id).join('<RequestId>')) as Json;
}

/** Runs one call with each official client; checks the simulator saw each client's scheme. */
async function allClients(
  action: string,
  params: Record<string, string>,
  options: CallOptions | ((c: OfficialClient) => CallOptions),
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const c of CLIENTS) {
    outcomes.push(await c.call(action, params, typeof options === 'function' ? options(c) : options));
    expect(sim.requests(1)[0]!.signature, c.name).toBe(c.scheme);
  }
  return outcomes;
}

function expectIdentical(outcomes: Outcome[], ignoreMessage = false): void {
  const [first, ...rest] = outcomes.map((o) => {
    const body = withoutRequestId(o.body);
    if (ignoreMessage) delete body.Message;
    return { status: o.status, body, sdkCode: o.sdkCode };
  });
  for (const [i, o] of rest.entries()) expect(o, CLIENTS[i + 1]!.name).toEqual(first);
}

describe("Alibaba's official SDKs against the simulator", () => {
  it.each(METHODS)('answer reads identically over %s, typed as each SDK returns them', async (method) => {
    const attr = await allClients(
      'DescribeSmartAccessGatewayAttribute',
      { RegionId: 'cn-shanghai', SmartAGId: 'sag-ha1' },
      { method },
    );
    for (const o of attr) {
      expect(o.status).toBe(200);
      expect((o.body.Devices.Device as Json[]).map((d) => d.SerialNumber as string)).toEqual([
        'sn-ha1-a',
        'sn-ha1-b',
      ]);
      expect('Code' in o.body).toBe(false);
    }
    expectIdentical(attr);
    const list = await allClients(
      'DescribeSmartAccessGateways',
      { RegionId: 'cn-shanghai', 'SmartAGIds.1': 'sag-ok1', 'SmartAGIds.2': 'sag-ha1', PageSize: '50' },
      { method },
    );
    expect(list[0]!.body.TotalCount).toBe(2);
    expectIdentical(list);
    const regions = await allClients('DescribeRegions', { AcceptLanguage: 'en-US' }, { method });
    expectIdentical(regions);
  });

  it.each(METHODS)('upgrade a device over %s, each call accepted and counted once', async (method) => {
    const ids = method === 'GET' ? ['sag-ok1', 'sag-ok2', 'sag-ok3'] : ['sag-revert', 'sag-stay', 'sag-flap'];
    const outcomes: Outcome[] = [];
    for (const [i, c] of CLIENTS.entries()) {
      outcomes.push(
        await c.call(
          'UpdateSmartAccessGatewayVersion',
          { RegionId: 'cn-shanghai', SmartAGId: ids[i]!, VersionCode: '2.4.0.0' },
          { method },
        ),
      );
    }
    expectIdentical(outcomes);
    for (const id of ids) expect(sim.instance(id)!.devices[0]!.upgradeCalls).toBe(1);
  });

  it.each(METHODS)('serve STS keys with their token over %s', async (method) => {
    expectIdentical(await allClients('DescribeRegions', {}, { method, ...STS, secret: STS.accessKeySecret }));
    const missing = await allClients(
      'DescribeRegions',
      {},
      { method, accessKeyId: STS.accessKeyId, secret: STS.accessKeySecret },
    );
    for (const o of missing) expect([o.status, o.sdkCode]).toEqual([400, 'MissingSecurityToken']);
  });

  const errorCases: {
    name: string;
    code: string;
    status: number;
    action: string;
    params: Record<string, string>;
    options?: (c: OfficialClient) => Partial<CallOptions>;
  }[] = [
    {
      name: 'a signature mismatch',
      code: 'SignatureDoesNotMatch',
      status: 400,
      action: 'DescribeRegions',
      params: {},
      options: () => ({ secret: 'not-the-secret' }),
    },
    {
      name: 'an unknown AccessKey',
      code: 'InvalidAccessKeyId.NotFound',
      status: 404,
      action: 'DescribeRegions',
      params: {},
      options: () => ({ accessKeyId: 'LTAIunknown' }),
    },
    {
      name: 'an expired timestamp',
      code: 'InvalidTimeStamp.Expired',
      status: 400,
      action: 'DescribeRegions',
      params: {},
      options: () => ({ timestamp: rpcTimestamp(new Date(Date.now() - 20 * 60_000)) }),
    },
    {
      name: 'a missing parameter',
      code: 'MissingSmartAGId',
      status: 400,
      action: 'DescribeSmartAccessGatewayAttribute',
      params: { RegionId: 'cn-shanghai' },
    },
    {
      name: 'a RAM refusal',
      code: 'Forbidden.RAM',
      status: 403,
      action: 'DescribeSmartAccessGatewayAttribute',
      params: { RegionId: 'cn-shanghai', SmartAGId: 'sag-ok2' },
      options: () => ({ accessKeyId: LIMITED.accessKeyId, secret: LIMITED.accessKeySecret }),
    },
    {
      name: 'a device error',
      code: 'InvalidId.SMARTAG',
      status: 403,
      action: 'UpdateSmartAccessGatewayVersion',
      params: { RegionId: 'cn-shanghai', SmartAGId: 'sag-doesnotexist', VersionCode: '2.4.0.0' },
    },
    {
      name: 'a device that is offline',
      code: 'SmartAccessGatewayNotOnline',
      status: 403,
      action: 'UpdateSmartAccessGatewayVersion',
      params: { RegionId: 'cn-shanghai', SmartAGId: 'sag-offline', VersionCode: '2.4.0.0' },
    },
  ];

  describe.each(METHODS)('over %s', (method) => {
    it.each(errorCases)(
      'answer $name with $code ($status), the same for every SDK',
      async ({ code, status, action, params, options }) => {
        const outcomes = await allClients(action, params, (c) => ({ method, ...(options?.(c) ?? {}) }));
        for (const [i, o] of outcomes.entries()) {
          expect([o.status, o.sdkCode, o.body.Code], CLIENTS[i]!.name).toEqual([status, code, code]);
          expect(Object.keys(o.body).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
        }
        // A mismatch shows the server's side of each scheme's computation; every other answer is the same text.
        expectIdentical(outcomes, code === 'SignatureDoesNotMatch');
        if (code === 'SignatureDoesNotMatch') {
          expect(outcomes[0]!.body.Message).toMatch(
            /^Specified signature does not match our calculation\. server StringToSign is \[ACS3-HMAC-SHA256\n[0-9a-f]{64}\] server CanonicalRequest is \[/,
          );
          for (const o of outcomes.slice(1))
            expect(o.body.Message).toMatch(
              /^Specified signature is not matched with our calculation\. server string to sign is:/,
            );
        }
      },
    );

    it('answer a replayed nonce with SignatureNonceUsed (400), the same for every SDK', async () => {
      const outcomes: Outcome[] = [];
      for (const c of CLIENTS) {
        const nonce = `replayed-${method}-${c.name}-${Date.now()}`;
        const first = await c.call('DescribeRegions', {}, { method, nonce });
        expect(first.status, c.name).toBe(200);
        outcomes.push(await c.call('DescribeRegions', {}, { method, nonce }));
      }
      for (const o of outcomes) expect([o.status, o.sdkCode]).toEqual([400, 'SignatureNonceUsed']);
      expectIdentical(outcomes);
    });
  });
});
