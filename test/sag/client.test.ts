import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSagClient, type SagClientOptions } from '../../src/sag/client';
import { resolveCredentialsProvider } from '../../src/sag/credentials';
import { SagError } from '../../src/sag/errors';
import { buildIamPolicy } from '../../src/sag/iam-policy';
import { SAG_SIGNATURES, type SagSignature } from '../../src/sag/transport';
import type { ApiCallRecord, SagClient } from '../../src/sag/types';
import { randomCredentials, startSimulator, type SimulatorHandle } from '../../src/simulator/index';
import { TEST_FLEET } from './fixtures/fleet';

const STS = { ...randomCredentials(), securityToken: 'CAIS-sts-token-0123456789abcdefghij/+=' };

let sim: SimulatorHandle;
/** Every SagError a transport's tests saw: none may carry a credential. */
const seenErrors: SagError[] = [];

/** A fresh simulator per transport: the tables change device and policy state. */
async function startSim(): Promise<void> {
  const main = randomCredentials();
  sim = await startSimulator({
    fleet: TEST_FLEET,
    credentials: [
      { ...main, accountId: '1234567890123456' },
      { ...STS, accountId: '1234567890123456' },
    ],
  });
}

async function stopSimAndSweepErrors(): Promise<void> {
  await sim?.stop();
  const secrets = [
    sim.accessKeyId,
    sim.accessKeySecret,
    STS.accessKeyId,
    STS.accessKeySecret,
    STS.securityToken,
    encodeURIComponent(STS.securityToken),
  ];
  expect(seenErrors.length).toBeGreaterThan(20);
  for (const err of seenErrors.splice(0)) {
    const text = `${err.message} ${err.stack ?? ''} ${JSON.stringify(err)}`;
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(
      /Signature=|SignatureNonce=|AccessKeyId=|Credential=|x-acs-security-token\s*:|StringToSign is \[|CanonicalRequest is \[/,
    );
  }
}

afterEach(() => {
  sim.setFaults({ rules: [] });
});

/** The transport under test: every table below runs once per signature. */
let signature: SagSignature = 'v2';
const SCHEME: Record<SagSignature, string> = { v2: 'HMAC-SHA1', v3: 'ACS3-HMAC-SHA256' };

function client(overrides: Partial<SagClientOptions> = {}): SagClient {
  return createSagClient({
    signature,
    endpoint: sim.endpoint,
    credentials: {
      getCredentials: () =>
        Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
    },
    ...overrides,
  });
}

/** Runs `fn`, expects a SagError, records it for the secret sweep. */
async function failure(fn: () => Promise<unknown>): Promise<SagError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SagError);
    seenErrors.push(err as SagError);
    return err as SagError;
  }
  throw new Error('expected the call to fail');
}

function lastRequest() {
  const log = sim.requests(1);
  return log[log.length - 1]!;
}

describe.each(SAG_SIGNATURES)('%s transport', (transport) => {
  beforeAll(async () => {
    signature = transport;
    await startSim();
  });
  afterAll(stopSimAndSweepErrors);

  describe('SagClient against the simulator: typed results', () => {
    it('lists gateways by id, splitting HA serial numbers and sending SmartAGIds.N', async () => {
      const page = await client().describeSmartAccessGateways({
        regionId: 'cn-shanghai',
        smartAgIds: ['sag-ha1', 'sag-noccn'],
      });
      expect(page).toMatchObject({ totalCount: 2, pageNumber: 1, pageSize: 10 });
      expect(page.requestId).toMatch(/^[0-9A-F-]{36}$/);
      const ha = page.items.find((i) => i.smartAgId === 'sag-ha1')!;
      expect(ha).toEqual({
        smartAgId: 'sag-ha1',
        regionId: 'cn-shanghai',
        name: 'branch-ha',
        status: 'Active',
        serialNumbers: ['sage1aaaa', 'sage1bbbb'],
        softwareVersion: '2.1.0',
        backupSoftwareVersion: '2.1.0',
        backupStatus: 'Active',
        hardwareVersion: 'sag-1000',
        associatedCcnId: 'ccn-test1',
        endTime: 4102444800000,
        dpiStatus: 'On',
        securityLockThreshold: 900,
      });
      expect(Object.getPrototypeOf(ha)).toBe(Object.prototype);
      expect(page.items.find((i) => i.smartAgId === 'sag-noccn')!.associatedCcnId).toBeUndefined();
      const sent = lastRequest();
      expect(sent.method).toBe('POST');
      expect(sent.params).toMatchObject({
        'SmartAGIds.1': 'sag-ha1',
        'SmartAGIds.2': 'sag-noccn',
        RegionId: 'cn-shanghai',
      });
    });

    it('pages through a region', async () => {
      const page = await client().describeSmartAccessGateways({
        regionId: 'cn-shanghai',
        pageSize: 3,
        pageNumber: 2,
      });
      expect(page.pageSize).toBe(3);
      expect(page.pageNumber).toBe(2);
      expect(page.totalCount).toBe(9);
      expect(page.items).toHaveLength(3);
    });

    it('reads an instance attribute per device and drops the device SecretKey', async () => {
      const attr = await client().describeSmartAccessGatewayAttribute('cn-shanghai', 'sag-ha1');
      expect(attr).toMatchObject({
        smartAgId: 'sag-ha1',
        regionId: 'cn-shanghai',
        status: 'Active',
        instanceType: 'sag-1000',
        associatedCcnId: 'ccn-test1',
        securityLockThreshold: 900,
        trafficMasterSn: 'sage1aaaa',
      });
      expect(attr.devices).toEqual([
        {
          serialNumber: 'sage1aaaa',
          softwareVersion: '2.1.0',
          dpiSignatureDbVersion: '20201117_1_0-0.0.1',
          haState: 'Active',
          hcState: 'online',
        },
        {
          serialNumber: 'sage1bbbb',
          softwareVersion: '2.1.0',
          dpiSignatureDbVersion: '20201117_1_0-0.0.1',
          haState: 'Standby',
          hcState: 'online',
        },
      ]);
      expect(JSON.stringify(attr)).not.toMatch(/SecretKey|secretKey/);
    });

    it('lists versions with SmartAGSn as the device parameter', async () => {
      const { versions, requestId } = await client().describeSmartAccessGatewayVersions(
        'cn-shanghai',
        'sag-ha1',
        'Device',
        'sage1bbbb',
      );
      expect(requestId).toBeTruthy();
      expect(versions.map((v) => v.versionCode)).toEqual(['2.0.0', '2.1.0', '2.2.0', '2.3.0']);
      expect(versions[2]).toEqual({
        versionCode: '2.2.0',
        type: 'release',
        versionName: 'SAG 2.2.0',
        createTime: 1620000000000,
      });
      expect(versions[3]!.type).toBe('beta');
      expect(lastRequest().params).toMatchObject({ SmartAGSn: 'sage1bbbb', VersionType: 'Device' });
      expect(lastRequest().params).not.toHaveProperty('SerialNumber');
    });

    it('reads HA topology', async () => {
      const ha = await client().describeSmartAccessGatewayHa('cn-shanghai', 'sag-ha1');
      expect(ha).toMatchObject({
        backupType: 'cold_backup',
        state: 'ON',
        mainDeviceId: 'sage1aaaa',
        backupDeviceId: 'sage1bbbb',
      });
      const single = await client().describeSmartAccessGatewayHa('eu-central-1', 'sag-eu1');
      expect(single.backupDeviceId).toBeUndefined();
    });

    it('reads and modifies an auto-upgrade policy with SerialNumber, Duration as a number', async () => {
      const c = client();
      const before = await c.describeDeviceAutoUpgradePolicy('cn-shanghai', 'sag-ha1', 'sage1aaaa', 'Device');
      expect(before).toMatchObject({
        serialNumber: 'sage1aaaa',
        versionType: 'Device',
        upgradeType: 'scheduled',
        cronExpression: '0 0 4 1/1 * ?',
        duration: 60,
        jitter: '5',
        timeZone: 'Asia/Shanghai',
      });
      expect(lastRequest().params).toMatchObject({ SerialNumber: 'sage1aaaa', VersionType: 'Device' });
      const modified = await c.modifyDeviceAutoUpgradePolicy({
        regionId: 'cn-shanghai',
        smartAgId: 'sag-ha1',
        serialNumber: 'sage1aaaa',
        versionType: 'Device',
        upgradeType: 'manual',
        cronExpression: '0 0 4 1/1 * ?',
        duration: 90,
        timeZone: 'Asia/Shanghai',
      });
      expect(modified.requestId).toBeTruthy();
      expect(lastRequest().params).toMatchObject({
        SerialNumber: 'sage1aaaa',
        UpgradeType: 'manual',
        Duration: '90',
      });
      const after = await c.describeDeviceAutoUpgradePolicy('cn-shanghai', 'sag-ha1', 'sage1aaaa', 'Device');
      expect(after).toMatchObject({ upgradeType: 'manual', duration: 90 });
    });

    it('reads device info with SmartAGSn', async () => {
      const info = await client().describeSagDeviceInfo('cn-shanghai', 'sag-ha1', 'sage1aaaa');
      expect(info).toMatchObject({
        serialNumber: 'sage1aaaa',
        version: '2.1.0',
        startupTime: '2024-01-01 08:00:00',
        controllerState: 'Normal',
      });
      expect(info.lastConnectedControllerTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(lastRequest().params).toMatchObject({ SmartAGSn: 'sage1aaaa' });
    });

    it('reads the DPI attribute', async () => {
      expect(await client().getSmartAgDpiAttribute('cn-shanghai', 'sag-ha1')).toMatchObject({
        dpiStatus: 'On',
      });
    });

    it('lists regions, asking in cn-shanghai', async () => {
      const { regions } = await client().describeRegions();
      expect(regions.map((r) => r.regionId)).toEqual(expect.arrayContaining(['cn-shanghai', 'eu-central-1']));
      expect(regions.find((r) => r.regionId === 'eu-central-1')).toMatchObject({
        regionEndpoint: 'smartag.eu-central-1.aliyuncs.com',
      });
      expect(lastRequest().params).toMatchObject({ Action: 'DescribeRegions', RegionId: 'cn-shanghai' });
    });

    it('upgrades one device of an HA pair with SerialNumber and VersionType', async () => {
      const { requestId } = await client().updateSmartAccessGatewayVersion({
        regionId: 'cn-shanghai',
        smartAgId: 'sag-ha1',
        versionCode: '2.2.0',
        serialNumber: 'sage1bbbb',
        versionType: 'Device',
      });
      expect(requestId).toMatch(/^[0-9A-F-]{36}$/);
      expect(lastRequest().params).toMatchObject({
        SerialNumber: 'sage1bbbb',
        VersionCode: '2.2.0',
        VersionType: 'Device',
        RegionId: 'cn-shanghai',
      });
      const rows = sim.devices().filter((d) => d.SmartAGId === 'sag-ha1');
      expect(rows.find((d) => d.SerialNumber === 'sage1bbbb')!.upgradeCalls).toBe(1);
      expect(rows.find((d) => d.SerialNumber === 'sage1aaaa')!.upgradeCalls).toBe(0);
    });

    it(`signs every call with the ${transport} scheme`, async () => {
      await client().describeRegions();
      expect(lastRequest().signature).toBe(SCHEME[transport]);
    });

    it('passes RegionId on every call and POSTs every call', async () => {
      sim.resetStats();
      const c = client();
      await c.describeSmartAccessGatewayAttribute('eu-central-1', 'sag-eu1');
      await c.describeRegions();
      await c.describeSmartAccessGateways({ regionId: 'eu-central-1' });
      const log = sim.requests();
      expect(log).toHaveLength(3);
      for (const entry of log) {
        expect(entry.method).toBe('POST');
        expect(entry.params.RegionId).toBeTruthy();
      }
    });
  });

  describe('SagClient against the simulator: documented UpdateSmartAccessGatewayVersion errors', () => {
    const cases: [string, string, string, number][] = [
      ['InvalidId.SMARTAG', 'sag-doesnotexist', '2.2.0', 403],
      ['NotBoundCCN', 'sag-noccn', '2.2.0', 403],
      ['SmartAccessGatewayNotOnline', 'sag-offline', '2.2.0', 403],
      ['GetSmartAccessGatewayVersionError', 'sag-noversion', '2.2.0', 403],
      ['GetSmartAccessGatewayStateError', 'sag-unknownstate', '2.2.0', 403],
      ['VersionTooOld', 'sag-eu1', '2.0.0', 403],
      ['Forbidden', 'sag-forbidden', '2.2.0', 403],
      ['SmartAccessGatewayInArrears', 'sag-arrears', '2.2.0', 500],
      ['SmartAccessGatewayNotActivated', 'sag-inactive', '2.2.0', 500],
      ['PermissionError', 'sag-otherowner', '2.2.0', 500],
      ['VersionNotExist', 'sag-eu1', '9.9.9', 400],
    ];

    it.each(cases)(
      'reports %s with its HTTP status and RequestId',
      async (code, smartAgId, versionCode, status) => {
        const regionId = smartAgId === 'sag-eu1' ? 'eu-central-1' : 'cn-shanghai';
        const err = await failure(() =>
          client().updateSmartAccessGatewayVersion({ regionId, smartAgId, versionCode }),
        );
        expect(err.code).toBe(code);
        expect(err.httpStatus).toBe(status);
        expect(err.action).toBe('UpdateSmartAccessGatewayVersion');
        expect(err.requestId).toBe(lastRequest().requestId);
        expect(err.message).toContain(code);
        expect(err.message).not.toContain('URL');
      },
    );
  });

  describe('SagClient against the simulator: protocol and transport failures', () => {
    it('maps a non-JSON 502 body to InvalidResponse', async () => {
      sim.setFaults({ rules: [{ action: 'DescribeRegions', kind: 'html', httpStatus: 502 }] });
      const err = await failure(() => client().describeRegions());
      expect(err.code).toBe('InvalidResponse');
      expect(err.message).toContain('not JSON');
    });

    it('gives up on a hung call with RequestTimeout within the timeout', async () => {
      sim.setFaults({ rules: [{ action: 'DescribeSmartAccessGatewayHa', kind: 'hang' }] });
      const started = Date.now();
      const err = await failure(() =>
        client({ timeoutMs: 400 }).describeSmartAccessGatewayHa('cn-shanghai', 'sag-ha1'),
      );
      const elapsed = Date.now() - started;
      expect(err.code).toBe('RequestTimeout');
      expect(elapsed).toBeGreaterThanOrEqual(350);
      expect(elapsed).toBeLessThan(2_000);
    });

    it('maps a dropped connection to ConnectionReset', async () => {
      sim.setFaults({ rules: [{ action: 'GetSmartAGDpiAttribute', kind: 'drop' }] });
      const err = await failure(() => client().getSmartAgDpiAttribute('cn-shanghai', 'sag-ha1'));
      expect(err.code).toBe('ConnectionReset');
    });

    it('maps a closed port to ConnectionRefused', async () => {
      const port = await new Promise<number>((resolve) => {
        const server: Server = createServer();
        server.listen(0, '127.0.0.1', () => {
          const p = (server.address() as AddressInfo).port;
          server.close(() => resolve(p));
        });
      });
      const err = await failure(() => client({ endpoint: `http://127.0.0.1:${port}` }).describeRegions());
      expect(err.code).toBe('ConnectionRefused');
      expect(err.httpStatus).toBeUndefined();
    });

    it.each([
      ['Throttling.User', 400],
      ['ServiceUnavailable', 503],
      ['InternalError', 500],
    ])('reports an injected %s with status %i', async (code, status) => {
      sim.setFaults({ rules: [{ action: 'DescribeSmartAccessGatewayAttribute', kind: 'error', code }] });
      const err = await failure(() => client().describeSmartAccessGatewayAttribute('cn-shanghai', 'sag-ha1'));
      expect(err).toMatchObject({ code, httpStatus: status });
      expect(err.requestId).toBeTruthy();
    });

    it('reports a QPS overflow as Throttling.User', async () => {
      const limited = await startSimulator({ fleet: TEST_FLEET, qpsLimits: { DescribeRegions: 1 } });
      try {
        const c = createSagClient({
          signature,
          endpoint: limited.endpoint,
          credentials: {
            getCredentials: () =>
              Promise.resolve({ accessKeyId: limited.accessKeyId, accessKeySecret: limited.accessKeySecret }),
          },
        });
        const results = await Promise.allSettled([
          c.describeRegions(),
          c.describeRegions(),
          c.describeRegions(),
        ]);
        const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as SagError).code] : []));
        expect(codes).toContain('Throttling.User');
      } finally {
        await limited.stop();
      }
    });

    it('reports a wrong secret as SignatureDoesNotMatch without echoing the string to sign', async () => {
      const err = await failure(() =>
        client({
          credentials: {
            getCredentials: () =>
              Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: 'wrong-secret-value' }),
          },
        }).describeRegions(),
      );
      expect(err).toMatchObject({ code: 'SignatureDoesNotMatch', httpStatus: 400 });
      expect(err.message).not.toContain(sim.accessKeyId);
      expect(err.message).not.toContain('wrong-secret-value');
      expect(err.message).not.toMatch(/POST&%2F&/);
      expect(err.message).not.toMatch(/StringToSign is \[|CanonicalRequest is \[|x-acs-/);
    });

    it('keeps an STS token out of the SignatureDoesNotMatch answer that echoes the signed request', async () => {
      const err = await failure(() =>
        client({
          credentials: {
            getCredentials: () => Promise.resolve({ ...STS, accessKeySecret: 'wrong-secret-value' }),
          },
        }).describeRegions(),
      );
      expect(err).toMatchObject({
        code: 'SignatureDoesNotMatch',
        httpStatus: 400,
        action: 'DescribeRegions',
      });
      expect(err.requestId).toBe(lastRequest().requestId);
      expect(`${err.message} ${err.detail}`).not.toContain(STS.securityToken);
      expect(`${err.message} ${err.detail}`).not.toContain(STS.accessKeyId);
    });

    it('reports an unknown AccessKey as InvalidAccessKeyId.NotFound (404)', async () => {
      const err = await failure(() =>
        client({
          credentials: {
            getCredentials: () =>
              Promise.resolve({ accessKeyId: 'LTAIunknownkey000000000', accessKeySecret: 'x'.repeat(30) }),
          },
        }).describeRegions(),
      );
      expect(err).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', httpStatus: 404 });
      expect(err.message).not.toContain('LTAIunknownkey000000000');
    });

    it('reports a failing credential provider as CredentialsUnavailable, without calling the service', async () => {
      sim.resetStats();
      const err = await failure(() =>
        client({
          credentials: {
            getCredentials: () => Promise.reject(new Error('sts refresh failed: access_key_secret=abcd1234')),
          },
        }).describeRegions(),
      );
      expect(err.code).toBe('CredentialsUnavailable');
      expect(err.message).not.toContain('abcd1234');
      expect(sim.stats().totalRequests).toBe(0);
    });
  });

  describe('SagClient against the simulator: hooks, STS and RAM', () => {
    it('passes every call through beforeCall first and reports every call to onCall', async () => {
      sim.resetStats();
      const order: string[] = [];
      const records: ApiCallRecord[] = [];
      const c = client({
        beforeCall: (action) => {
          order.push(`before:${action}`);
          return Promise.resolve();
        },
        onCall: (record) => {
          order.push(`after:${record.action}`);
          records.push(record);
        },
      });
      await c.describeSmartAccessGatewayAttribute('cn-shanghai', 'sag-ha1');
      await failure(() =>
        c.updateSmartAccessGatewayVersion({
          regionId: 'cn-shanghai',
          smartAgId: 'sag-offline',
          versionCode: '2.2.0',
          serialNumber: 'sageoff1',
        }),
      );
      sim.setFaults({ rules: [{ action: 'DescribeRegions', kind: 'html' }] });
      await failure(() => c.describeRegions());

      expect(order).toEqual([
        'before:DescribeSmartAccessGatewayAttribute',
        'after:DescribeSmartAccessGatewayAttribute',
        'before:UpdateSmartAccessGatewayVersion',
        'after:UpdateSmartAccessGatewayVersion',
        'before:DescribeRegions',
        'after:DescribeRegions',
      ]);
      const log = sim.requests();
      expect(log).toHaveLength(3);
      expect(records[0]).toMatchObject({
        action: 'DescribeSmartAccessGatewayAttribute',
        regionId: 'cn-shanghai',
        smartAgId: 'sag-ha1',
        httpStatus: 200,
        requestId: log[0]!.requestId,
      });
      expect(records[0]!.code).toBeUndefined();
      expect(records[1]).toMatchObject({
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: 'sag-offline',
        serialNumber: 'sageoff1',
        code: 'SmartAccessGatewayNotOnline',
        httpStatus: 403,
        requestId: log[1]!.requestId,
      });
      expect(records[2]).toMatchObject({ action: 'DescribeRegions', code: 'InvalidResponse' });
      for (const r of records) {
        expect(r.durationMs).toBeGreaterThanOrEqual(0);
        expect(r.startedAt).toBeGreaterThan(0);
        expect(JSON.stringify(r)).not.toContain(sim.accessKeyId);
      }
    });

    it('makes no call when beforeCall rejects, and passes its error through', async () => {
      sim.resetStats();
      const records: ApiCallRecord[] = [];
      const c = client({
        beforeCall: () => Promise.reject(new Error('rate limiter closed')),
        onCall: (r) => records.push(r),
      });
      await expect(c.describeRegions()).rejects.toThrow('rate limiter closed');
      expect(sim.stats().totalRequests).toBe(0);
      expect(records).toHaveLength(0);
    });

    it('keeps a call result when onCall throws', async () => {
      const c = client({
        onCall: () => {
          throw new Error('audit sink down');
        },
      });
      await expect(c.describeRegions()).resolves.toHaveProperty('requestId');
    });

    it('asks the provider for keys on every call, so rotated keys are used at once', async () => {
      sim.resetStats();
      let asked = 0;
      const rotating = client({
        credentials: {
          getCredentials: () => {
            asked++;
            return Promise.resolve(
              asked % 2 === 1
                ? { accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }
                : { ...STS },
            );
          },
        },
      });
      for (let i = 0; i < 4; i++) await rotating.describeRegions();
      expect(asked).toBe(4);
      expect(sim.requests().map((r) => [r.accessKeyId, r.httpStatus])).toEqual([
        [sim.accessKeyId, 200],
        [STS.accessKeyId, 200],
        [sim.accessKeyId, 200],
        [STS.accessKeyId, 200],
      ]);
    });

    it('sends the STS SecurityToken from a provider', async () => {
      const c = client({ credentials: { getCredentials: () => Promise.resolve({ ...STS }) } });
      await expect(c.describeSmartAccessGatewayAttribute('cn-shanghai', 'sag-ha1')).resolves.toHaveProperty(
        'smartAgId',
        'sag-ha1',
      );
      // The simulator demands the token of an STS key.
      const without = client({
        credentials: {
          getCredentials: () =>
            Promise.resolve({ accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret }),
        },
      });
      const err = await failure(() => without.describeRegions());
      expect(err.code).toBe('MissingSecurityToken');
    });

    it('works with STS credentials resolved from the environment, and keeps them out of errors', async () => {
      const provider = resolveCredentialsProvider(
        {
          ALIBABA_CLOUD_ACCESS_KEY_ID: STS.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: STS.accessKeySecret,
          ALIBABA_CLOUD_SECURITY_TOKEN: STS.securityToken,
        },
        { homeDir: '/nonexistent' },
      );
      expect(provider.source).toBe('env-sts');
      const c = createSagClient({ signature, endpoint: sim.endpoint, credentials: provider });
      await expect(c.describeRegions()).resolves.toHaveProperty('regions');
      sim.setFaults({
        rules: [
          {
            action: 'DescribeRegions',
            kind: 'error',
            code: 'Throttling.User',
            message: `echo ${STS.securityToken} ${STS.accessKeyId}`,
          },
        ],
      });
      const err = await failure(() => c.describeRegions());
      expect(err.code).toBe('Throttling.User');
      expect(err.message).not.toContain(STS.securityToken);
      expect(err.message).not.toContain(STS.accessKeyId);
    });

    it('works within exactly the RAM policy iam-policy prints, and gets Forbidden.RAM outside it', async () => {
      const policy = buildIamPolicy([{ smartAgId: 'sag-ha1', regionId: 'cn-shanghai' }], sim.accountId);
      sim.setPolicy(sim.accessKeyId, policy);
      try {
        const c = client();
        await c.describeSmartAccessGateways({ regionId: 'cn-shanghai' });
        await c.describeRegions();
        await c.describeSmartAccessGatewayAttribute('cn-shanghai', 'sag-ha1');
        await c.describeSmartAccessGatewayVersions('cn-shanghai', 'sag-ha1', 'Device');
        await c.describeSmartAccessGatewayHa('cn-shanghai', 'sag-ha1');
        await c.describeDeviceAutoUpgradePolicy('cn-shanghai', 'sag-ha1', 'sage1aaaa', 'Dpi');
        await c.describeSagDeviceInfo('cn-shanghai', 'sag-ha1', 'sage1aaaa');
        await c.getSmartAgDpiAttribute('cn-shanghai', 'sag-ha1');
        await c.modifyDeviceAutoUpgradePolicy({
          regionId: 'cn-shanghai',
          smartAgId: 'sag-ha1',
          serialNumber: 'sage1aaaa',
          versionType: 'Dpi',
          upgradeType: 'manual',
          cronExpression: '0 0 4 1/1 * ?',
          duration: 60,
          timeZone: 'Asia/Shanghai',
        });
        await c.updateSmartAccessGatewayVersion({
          regionId: 'cn-shanghai',
          smartAgId: 'sag-ha1',
          versionCode: '20201117_1_0-0.0.2',
          versionType: 'Dpi',
          serialNumber: 'sage1aaaa',
        });
        const err = await failure(() => c.describeSmartAccessGatewayAttribute('eu-central-1', 'sag-eu1'));
        expect(err).toMatchObject({ code: 'Forbidden.RAM', httpStatus: 403 });
      } finally {
        sim.setPolicy(sim.accessKeyId, undefined);
      }
    });
  });
});
