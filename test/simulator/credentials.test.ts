/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   pop-core rejections are untyped; the assertions are what checks their shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type CredentialRow, type SimulatorHandle } from '../../src/simulator';
import { call, failure, popClient, rawV3Request, testFleet, type Json } from './helpers';

const STS = {
  accessKeyId: 'STS.NUx1',
  accessKeySecret: 'sts-secret-one-0123456789abcdef',
  securityToken: 'token-one',
};

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({
    fleet: testFleet(),
    credentials: [
      { accessKeyId: 'LTAIcredentialsTest01', accessKeySecret: 'long-term-secret-0123456789abcd' },
      { ...STS, accountId: '1234567890123456' },
    ],
  });
});
afterAll(() => sim.stop());

const stsClient = (token: string, key = STS) =>
  popClient(
    { endpoint: sim.endpoint, accessKeyId: key.accessKeyId, accessKeySecret: key.accessKeySecret },
    { securityToken: token },
  );
const regions = (client: ReturnType<typeof popClient>) => call(client, 'DescribeRegions', {});
const refusal = async (p: Promise<unknown>): Promise<[string, number]> => {
  const err = await failure(p);
  return [err.code as string, err.entry.response.statusCode as number];
};
const admin = async (
  path: string,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; json: Json }> => {
  const res = await fetch(`${sim.endpoint}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Json };
};

describe('credentials that stop working mid-run and work again', () => {
  it('answers InvalidAccessKeyId.Inactive (400) while a key is disabled, and serves it again once enabled', async () => {
    const client = popClient(sim);
    await regions(client);
    const disabled = await admin(`/_admin/credentials/${sim.accessKeyId}`, 'POST', { disabled: true });
    expect(disabled).toEqual({
      status: 200,
      json: {
        accessKeyId: sim.accessKeyId,
        accountId: '1234567890123456',
        sts: false,
        disabled: true,
        expired: false,
        policy: false,
      },
    });
    expect(await refusal(regions(client))).toEqual(['InvalidAccessKeyId.Inactive', 400]);
    expect(
      await refusal(
        call(client, 'UpdateSmartAccessGatewayVersion', {
          RegionId: 'cn-shanghai',
          SmartAGId: 'sag-ok1',
          VersionCode: '2.4.0.0',
        }),
      ),
    ).toEqual(['InvalidAccessKeyId.Inactive', 400]);
    expect(sim.upgrades()).toEqual([]);
    // Other keys are not affected.
    await regions(stsClient(STS.securityToken));
    await admin(`/_admin/credentials/${sim.accessKeyId}`, 'POST', { disabled: false });
    expect((await regions(client)).Regions).toBeDefined();
  });

  it('answers InvalidSecurityToken.Expired (400) while an STS token is expired, and serves it again once renewed', async () => {
    const client = stsClient(STS.securityToken);
    await regions(client);
    expect(sim.updateCredential(STS.accessKeyId, { expired: true })).toMatchObject({
      sts: true,
      expired: true,
    });
    expect(await refusal(regions(client))).toEqual(['InvalidSecurityToken.Expired', 400]);
    sim.updateCredential(STS.accessKeyId, { expired: false });
    expect((await regions(client)).Regions).toBeDefined();
  });

  it('rotates an STS token: the old one answers InvalidSecurityToken.MismatchWithAccessKey, the new one works and is not expired', async () => {
    const old = stsClient(STS.securityToken);
    sim.updateCredential(STS.accessKeyId, { expired: true });
    const rotated = await admin(`/_admin/credentials/${STS.accessKeyId}`, 'POST', {
      securityToken: 'token-two',
    });
    expect(rotated.json).toMatchObject({ sts: true, expired: false, disabled: false });
    expect(await refusal(regions(old))).toEqual(['InvalidSecurityToken.MismatchWithAccessKey', 400]);
    expect((await regions(stsClient('token-two'))).Regions).toBeDefined();
  });

  it('adds the new key an STS refresh yields, and deletes the old one (InvalidAccessKeyId.NotFound, 404)', async () => {
    const next = {
      accessKeyId: 'STS.NUx2',
      accessKeySecret: 'sts-secret-two-0123456789abcdef',
      securityToken: 'token-three',
    };
    const added = await admin('/_admin/credentials', 'POST', next);
    expect(added).toEqual({
      status: 200,
      json: {
        accessKeyId: next.accessKeyId,
        accountId: '1234567890123456',
        sts: true,
        disabled: false,
        expired: false,
        policy: false,
      },
    });
    expect((await regions(stsClient(next.securityToken, next))).Regions).toBeDefined();
    expect((await admin('/_admin/credentials', 'POST', next)).status).toBe(409);
    expect(await admin(`/_admin/credentials/${STS.accessKeyId}`, 'DELETE')).toEqual({
      status: 200,
      json: { ok: true },
    });
    expect(await refusal(regions(stsClient('token-two')))).toEqual(['InvalidAccessKeyId.NotFound', 404]);
    // A deleted key can be added back, as a fresh key.
    sim.addCredential({ ...STS, securityToken: 'token-four' });
    expect((await regions(stsClient('token-four'))).Regions).toBeDefined();
  });

  it('lists every key and its state, never a secret or a token', async () => {
    const listed = await admin('/_admin/credentials');
    expect(listed.status).toBe(200);
    const rows = listed.json as unknown as CredentialRow[];
    expect(rows.map((r) => r.accessKeyId)).toEqual([sim.accessKeyId, 'STS.NUx2', STS.accessKeyId]);
    expect(rows).toEqual(sim.credentials());
    for (const r of rows)
      expect(Object.keys(r).sort()).toEqual([
        'accessKeyId',
        'accountId',
        'disabled',
        'expired',
        'policy',
        'sts',
      ]);
    const text = JSON.stringify(rows) + JSON.stringify(sim.requests());
    for (const secret of [
      sim.accessKeySecret,
      STS.accessKeySecret,
      'sts-secret-two',
      'token-one',
      'token-two',
      'token-three',
      'token-four',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('refuses admin changes to unknown keys (404), malformed bodies and expiring a long-term key (400)', async () => {
    expect((await admin('/_admin/credentials/LTAInope', 'POST', { disabled: true })).status).toBe(404);
    expect((await admin('/_admin/credentials/LTAInope', 'DELETE')).status).toBe(404);
    expect((await admin(`/_admin/credentials/${sim.accessKeyId}`, 'POST', { disabled: 'yes' })).status).toBe(
      400,
    );
    expect((await admin(`/_admin/credentials/${sim.accessKeyId}`, 'POST', { secret: 'x' })).status).toBe(400);
    expect((await admin(`/_admin/credentials/${sim.accessKeyId}`, 'POST', { expired: true })).status).toBe(
      400,
    );
    expect((await admin('/_admin/credentials', 'POST', { accessKeyId: 'LTAIx' })).status).toBe(400);
    expect(sim.credentials().find((r) => r.accessKeyId === sim.accessKeyId)).toMatchObject({
      disabled: false,
      expired: false,
    });
  });
});

describe('credential state with signature V3', () => {
  const V3_STS = {
    accessKeyId: 'STS.NUv3',
    accessKeySecret: 'sts-secret-v3-0123456789abcdef',
    securityToken: 'token-v3-one',
  };
  const v3 = (
    key: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
    token = key.securityToken,
  ) =>
    rawV3Request(
      { endpoint: sim.endpoint, accessKeyId: key.accessKeyId, accessKeySecret: key.accessKeySecret },
      'DescribeRegions',
      {},
      token ? { securityToken: token } : {},
    );
  const code = (r: { status: number; body: Json }): [unknown, number] => [r.body.Code, r.status];

  it('meets the same checks as V2: disabled, expired and rotated keys, after the signature', async () => {
    sim.addCredential(V3_STS);
    expect((await v3(V3_STS)).status).toBe(200);
    sim.updateCredential(V3_STS.accessKeyId, { disabled: true });
    expect(code(await v3(V3_STS))).toEqual(['InvalidAccessKeyId.Inactive', 400]);
    // The signature is still checked first.
    expect(code(await v3({ ...V3_STS, accessKeySecret: 'wrong-secret' }))).toEqual([
      'SignatureDoesNotMatch',
      400,
    ]);
    sim.updateCredential(V3_STS.accessKeyId, { disabled: false, expired: true });
    expect(code(await v3(V3_STS))).toEqual(['InvalidSecurityToken.Expired', 400]);
    sim.updateCredential(V3_STS.accessKeyId, { securityToken: 'token-v3-two' });
    expect(code(await v3(V3_STS))).toEqual(['InvalidSecurityToken.MismatchWithAccessKey', 400]);
    expect((await v3(V3_STS, 'token-v3-two')).status).toBe(200);
    const log = sim.requests().filter((e) => e.accessKeyId === V3_STS.accessKeyId);
    expect(log.every((e) => e.signature === 'ACS3-HMAC-SHA256')).toBe(true);
    expect(log.map((e) => e.code ?? e.httpStatus)).toEqual([
      200,
      'InvalidAccessKeyId.Inactive',
      'SignatureDoesNotMatch',
      'InvalidSecurityToken.Expired',
      'InvalidSecurityToken.MismatchWithAccessKey',
      200,
    ]);
  });

  it('records an accepted V3 upgrade in the ledger under its AccessKeyId', async () => {
    const r = await rawV3Request(
      { endpoint: sim.endpoint, accessKeyId: V3_STS.accessKeyId, accessKeySecret: V3_STS.accessKeySecret },
      'UpdateSmartAccessGatewayVersion',
      { RegionId: 'cn-shanghai', SmartAGId: 'sag-ok3', VersionCode: '2.4.0.0' },
      { securityToken: 'token-v3-two' },
    );
    expect(r.status).toBe(200);
    expect(sim.upgrades({ smartAgId: 'sag-ok3' })).toMatchObject([
      {
        requestId: r.body.RequestId as string,
        accessKeyId: V3_STS.accessKeyId,
        SmartAGId: 'sag-ok3',
        VersionCode: '2.4.0.0',
      },
    ]);
  });
});
