/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalRequest,
  rpcTimestamp,
  sha256Hex,
  startSimulator,
  stringToSignV3,
  type SimulatorHandle,
} from '../../src/simulator';
import { rawRequest, rawV3Request, testFleet } from './helpers';

let sim: SimulatorHandle;
const attr = { RegionId: 'cn-shanghai', SmartAGId: 'sag-ok1' };
const STS = { endpoint: '', accessKeyId: 'STS.tempkey', accessKeySecret: 'sts-secret' };

beforeAll(async () => {
  sim = await startSimulator({
    fleet: testFleet(),
    credentials: [
      { accessKeyId: 'LTAIprimary', accessKeySecret: 'primary-secret' },
      { accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret, securityToken: 'token-abc' },
    ],
  });
  STS.endpoint = sim.endpoint;
});
afterAll(() => sim.stop());
afterEach(() => {
  sim.setFaults({ rules: [] });
  sim.setPolicy(sim.accessKeyId, undefined);
});

function codeOf(res: { status: number; body: { Code?: unknown } }): [number, unknown] {
  return [res.status, res.body.Code];
}

describe('signature V3 requests', () => {
  it('serves parameters from the query string, a form body and a JSON body, over GET and POST', async () => {
    for (const [method, where] of [
      ['GET', 'query'],
      ['POST', 'query'],
      ['POST', 'form'],
      ['POST', 'json'],
    ] as const) {
      const res = await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', attr, { method, in: where });
      expect(res.status, `${method} ${where}`).toBe(200);
      expect(res.body.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
      expect('Code' in res.body).toBe(false);
      expect(res.body.Devices.Device[0].SerialNumber).toBe('sn-sag-ok1');
    }
  });

  it('flattens JSON arrays into indexed parameters, as the query form has them', async () => {
    const res = await rawV3Request(
      sim,
      'DescribeSmartAccessGateways',
      { RegionId: 'cn-shanghai', SmartAGIds: ['sag-ok1', 'sag-ok2'] },
      { in: 'json' },
    );
    expect(res.status).toBe(200);
    expect(
      (res.body.SmartAccessGateways.SmartAccessGateway as { SmartAGId: string }[])
        .map((g) => g.SmartAGId)
        .sort(),
    ).toEqual(['sag-ok1', 'sag-ok2']);
    expect(sim.requests(1)[0]!.params).toMatchObject({
      'SmartAGIds.1': 'sag-ok1',
      'SmartAGIds.2': 'sag-ok2',
    });
  });

  it('takes the action and the version from the x-acs-* headers, and logs them like V2 parameters', async () => {
    sim.resetStats();
    const res = await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', {
      ...attr,
      Action: 'UpdateSmartAccessGatewayVersion',
      VersionCode: '2.4.0.0',
    });
    expect(res.status).toBe(200);
    expect(sim.instance('sag-ok1')!.devices[0]!.upgradeCalls).toBe(0);
    const [entry] = sim.requests();
    expect(entry).toMatchObject({
      signature: 'ACS3-HMAC-SHA256',
      method: 'POST',
      action: 'DescribeSmartAccessGatewayAttribute',
      accessKeyId: sim.accessKeyId,
      smartAgId: 'sag-ok1',
      httpStatus: 200,
      params: {
        Action: 'DescribeSmartAccessGatewayAttribute',
        Version: '2018-03-13',
        RegionId: 'cn-shanghai',
        SmartAGId: 'sag-ok1',
      },
    });
    expect(sim.stats().byAction).toEqual({ DescribeSmartAccessGatewayAttribute: 1 });
  });

  it('never keeps the Authorization header, the signature or the STS token in the request log', async () => {
    sim.resetStats();
    const ok = await rawV3Request(STS, 'DescribeRegions', {}, { securityToken: 'token-abc' });
    expect(ok.status).toBe(200);
    const bad = await rawV3Request(
      STS,
      'DescribeRegions',
      {},
      { securityToken: 'token-abc', secret: 'wrong' },
    );
    expect(bad.body.Code).toBe('SignatureDoesNotMatch');
    const log = JSON.stringify(sim.requests());
    for (const text of [
      'token-abc',
      'sts-secret',
      'ACS3-HMAC-SHA256 Credential',
      'Signature=',
      'authorization',
    ])
      expect(log).not.toContain(text);
    expect(sim.requests().map((r) => r.accessKeyId)).toEqual(['STS.tempkey', 'STS.tempkey']);
  });

  it('answers a missing x-acs-version with MissingVersion and a missing x-acs-action with MissingAction', async () => {
    const noVersion = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { mutate: (d) => delete d.headers['x-acs-version'] },
    );
    expect(codeOf(noVersion)).toEqual([400, 'MissingVersion']);
    expect(noVersion.body.Message).toBe('x-acs-version is mandatory for this action.');
    const wrongVersion = await rawV3Request(sim, 'DescribeRegions', {}, { version: '2014-05-26' });
    expect(codeOf(wrongVersion)).toEqual([400, 'InvalidVersion']);
    const noAction = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { mutate: (d) => delete d.headers['x-acs-action'] },
    );
    expect(codeOf(noAction)).toEqual([400, 'MissingAction']);
    const unknown = await rawV3Request(sim, 'DescribeInstances', {});
    expect(codeOf(unknown)).toEqual([404, 'InvalidApi.NotFound']);
  });

  it('refuses a missing Authorization (MissingAuthorization), a malformed one (IncompleteSignature) and another algorithm (InvalidSignatureMethod)', async () => {
    const missing = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { mutate: (d) => delete d.headers.authorization },
    );
    expect(codeOf(missing)).toEqual([400, 'MissingAuthorization']);
    const malformed = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { mutate: (d) => (d.headers.authorization = 'ACS3-HMAC-SHA256 Credential=LTAIprimary') },
    );
    expect(codeOf(malformed)).toEqual([400, 'IncompleteSignature']);
    expect(malformed.body.Message).toBe('The request signature does not conform to Aliyun standards.');
    const sm3 = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      {
        mutate: (d) =>
          (d.headers.authorization = d.headers.authorization!.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3')),
      },
    );
    expect(codeOf(sm3)).toEqual([400, 'InvalidSignatureMethod']);
  });

  it('refuses a request whose x-acs-* or content-type headers are not all signed (IncompleteSignature)', async () => {
    const unsigned = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { mutate: (d) => (d.headers['x-acs-extra'] = '1') },
    );
    expect(codeOf(unsigned)).toEqual([400, 'IncompleteSignature']);
    const narrowed = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      {
        mutate: (d) => (d.headers.authorization = d.headers.authorization!.replace('x-acs-date;', '')),
      },
    );
    expect(codeOf(narrowed)).toEqual([400, 'IncompleteSignature']);
    const signedExtra = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { extraHeaders: { 'x-acs-extra': '1' } },
    );
    expect(signedExtra.status).toBe(200);
  });

  it('refuses a body that does not match x-acs-content-sha256 (SignatureDoesNotMatch naming the body hash)', async () => {
    const tamperedBody = await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      mutate: (d) => (d.body = d.body.replace('sag-ok1', 'sag-ok2')),
    });
    expect(codeOf(tamperedBody)).toEqual([400, 'SignatureDoesNotMatch']);
    expect(tamperedBody.body.Message).toContain(
      `server HashedRequestPayload is [${sha256Hex('RegionId=cn-shanghai&SmartAGId=sag-ok2')}]`,
    );
    const wrongHeader = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { extraHeaders: { 'x-acs-content-sha256': sha256Hex('something else') } },
    );
    expect(codeOf(wrongHeader)).toEqual([400, 'SignatureDoesNotMatch']);
    const missing = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { mutate: (d) => delete d.headers['x-acs-content-sha256'] },
    );
    expect(codeOf(missing)).toEqual([400, 'IncompleteSignature']);
  });

  it("refuses a signature mismatch with SignatureDoesNotMatch (400), echoing the server's string to sign and canonical request", async () => {
    let sent: { headers: Record<string, string>; query: Record<string, string> } | undefined;
    const res = await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', attr, {
      in: 'query',
      mutate: (d) => {
        d.query.SmartAGId = 'sag-ok2';
        sent = d;
      },
    });
    expect(codeOf(res)).toEqual([400, 'SignatureDoesNotMatch']);
    expect(Object.keys(res.body).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
    const headers = { ...sent!.headers };
    const canonical = canonicalRequest({
      method: 'POST',
      path: '/',
      query: Object.entries(sent!.query),
      headers,
      signedHeaders: /SignedHeaders=([^,]+)/.exec(headers.authorization!)![1]!.split(';'),
      hashedPayload: sha256Hex(''),
    });
    expect(canonical).toContain('RegionId=cn-shanghai&SmartAGId=sag-ok2');
    expect(res.body.Message).toBe(
      `Specified signature does not match our calculation. server StringToSign is [${stringToSignV3(canonical)}] server CanonicalRequest is [${canonical}]`,
    );
  });

  it('refuses the wrong secret, and an unknown AccessKeyId with InvalidAccessKeyId.NotFound (404)', async () => {
    expect(codeOf(await rawV3Request(sim, 'DescribeRegions', {}, { secret: 'nope' }))).toEqual([
      400,
      'SignatureDoesNotMatch',
    ]);
    expect(codeOf(await rawV3Request(sim, 'DescribeRegions', {}, { accessKeyId: 'LTAIunknown' }))).toEqual([
      404,
      'InvalidAccessKeyId.NotFound',
    ]);
  });

  it('holds x-acs-date to the Timestamp rules: format, 15-minute window, presence', async () => {
    const old = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { date: rpcTimestamp(new Date(Date.now() - 20 * 60_000)) },
    );
    expect(codeOf(old)).toEqual([400, 'InvalidTimeStamp.Expired']);
    const future = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { date: rpcTimestamp(new Date(Date.now() + 16 * 60_000)) },
    );
    expect(future.body.Code).toBe('InvalidTimeStamp.Expired');
    const bad = await rawV3Request(sim, 'DescribeRegions', {}, { date: '2024/01/01 00:00:00' });
    expect(codeOf(bad)).toEqual([400, 'InvalidTimeStamp.Format']);
    const missing = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { mutate: (d) => delete d.headers['x-acs-date'] },
    );
    expect(codeOf(missing)).toEqual([400, 'MissingTimestamp']);
    expect(missing.body.Message).toBe('x-acs-date is mandatory for this action.');
  });

  it('holds x-acs-signature-nonce to the SignatureNonce rules, in the same cache as V2 nonces', async () => {
    const nonce = `v3-nonce-${Date.now()}`;
    expect((await rawV3Request(sim, 'DescribeRegions', {}, { nonce })).status).toBe(200);
    expect(codeOf(await rawV3Request(sim, 'DescribeRegions', {}, { nonce }))).toEqual([
      400,
      'SignatureNonceUsed',
    ]);
    const shared = `shared-nonce-${Date.now()}`;
    expect((await rawRequest(sim, 'DescribeRegions', {}, { nonce: shared })).status).toBe(200);
    expect(codeOf(await rawV3Request(sim, 'DescribeRegions', {}, { nonce: shared }))).toEqual([
      400,
      'SignatureNonceUsed',
    ]);
    const missing = await rawV3Request(
      sim,
      'DescribeRegions',
      {},
      { mutate: (d) => delete d.headers['x-acs-signature-nonce'] },
    );
    expect(codeOf(missing)).toEqual([400, 'MissingSignatureNonce']);
  });

  it('accepts STS keys only with their x-acs-security-token', async () => {
    expect((await rawV3Request(STS, 'DescribeRegions', {}, { securityToken: 'token-abc' })).status).toBe(200);
    const missing = await rawV3Request(STS, 'DescribeRegions', {});
    expect(codeOf(missing)).toEqual([400, 'MissingSecurityToken']);
    expect(missing.body.Message).toBe('x-acs-security-token is mandatory for this action.');
    expect((await rawV3Request(STS, 'DescribeRegions', {}, { securityToken: 'other' })).body.Code).toBe(
      'InvalidSecurityToken.MismatchWithAccessKey',
    );
  });

  it('applies required parameters, fault rules and RAM policies as it does for V2', async () => {
    expect(
      codeOf(await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', { RegionId: 'cn-shanghai' })),
    ).toEqual([400, 'MissingSmartAGId']);
    sim.setFaults({
      rules: [
        {
          action: 'DescribeSmartAccessGatewayAttribute',
          smartAgId: 'sag-ok2',
          code: 'SmartAccessGatewayNotOnline',
        },
      ],
    });
    expect(
      codeOf(
        await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', {
          RegionId: 'cn-shanghai',
          SmartAGId: 'sag-ok2',
        }),
      ),
    ).toEqual([403, 'SmartAccessGatewayNotOnline']);
    expect((await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', attr)).status).toBe(200);
    sim.setPolicy(sim.accessKeyId, {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['smartag:Describe*'], Resource: ['acs:smartag:*:*:smartag/sag-ok1'] },
      ],
    });
    expect((await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', attr)).status).toBe(200);
    expect(
      codeOf(
        await rawV3Request(sim, 'DescribeSmartAccessGatewayAttribute', {
          RegionId: 'cn-shanghai',
          SmartAGId: 'sag-ok3',
        }),
      ),
    ).toEqual([403, 'Forbidden.RAM']);
  });

  it('answers a signed JSON body that is not an object with InvalidParameter.Format', async () => {
    const res = await rawV3Request(sim, 'DescribeRegions', {}, { in: 'json', body: '[1,2]' });
    expect(codeOf(res)).toEqual([400, 'InvalidParameter.Format']);
    const broken = await rawV3Request(sim, 'DescribeRegions', {}, { in: 'json', body: '{"RegionId":' });
    expect(codeOf(broken)).toEqual([400, 'InvalidParameter.Format']);
  });
});
