import http from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import OpenApiClient, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import RPCClient from '@alicloud/pop-core';
import { RuntimeOptions } from '@alicloud/tea-util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsFailure, SagError, normalizeError } from '../../src/sag/errors';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index';
import { TEST_FLEET } from './fixtures/fleet';

/**
 * The raw failure shapes come from the real pop-core 1.8.0 against the real simulator (or a
 * closed port), so these tests break if pop-core's shapes ever differ from what normalizeError
 * expects.
 */

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({ fleet: TEST_FLEET });
});
afterAll(async () => {
  await sim?.stop();
});
afterEach(() => sim.setFaults({ rules: [] }));

function rawClient(endpoint = sim.endpoint, accessKeySecret = sim.accessKeySecret): RPCClient {
  return new RPCClient({ endpoint, apiVersion: '2018-03-13', accessKeyId: sim.accessKeyId, accessKeySecret });
}

/** What pop-core rejects with, untouched. */
async function rawFailure(
  method: 'GET' | 'POST',
  action: string,
  params: Record<string, unknown>,
  client = rawClient(),
  timeout = 3000,
): Promise<unknown> {
  try {
    await client.request(action, params, { method, timeout });
  } catch (err) {
    return err;
  }
  throw new Error('expected pop-core to reject');
}

function expectClean(err: SagError): void {
  expect(err.message).not.toContain(sim.accessKeyId);
  expect(err.message).not.toContain(sim.accessKeySecret);
  expect(err.message).not.toMatch(/Signature=|AccessKeyId=|SignatureNonce=|SecurityToken=/);
}

describe('normalizeError on real pop-core failures', () => {
  it('reads code, status and RequestId from an API error, and drops the signed GET URL', async () => {
    const raw = await rawFailure('GET', 'UpdateSmartAccessGatewayVersion', {
      RegionId: 'cn-shanghai',
      SmartAGId: 'sag-offline',
      VersionCode: '2.2.0',
    });
    // The shape pop-core produces: a plain Error whose message carries the signed URL.
    expect(raw).toBeInstanceOf(Error);
    expect((raw as Error).message).toContain('Signature=');
    expect((raw as Error).message).toContain(sim.accessKeyId);
    expect(raw).not.toHaveProperty('statusCode');

    const err = normalizeError(raw, 'UpdateSmartAccessGatewayVersion');
    expect(err).toBeInstanceOf(SagError);
    expect(err).toMatchObject({
      code: 'SmartAccessGatewayNotOnline',
      httpStatus: 403,
      action: 'UpdateSmartAccessGatewayVersion',
    });
    expect(err.requestId).toBe(sim.requests(1)[0]!.requestId);
    expect(err.hostId).toBe('smartag.cn-shanghai.aliyuncs.com');
    expect(err.message).toContain('The specified smart access gateway is not online.');
    expectClean(err);
  });

  it('reads a POSTed API error the same way', async () => {
    const raw = await rawFailure('POST', 'UpdateSmartAccessGatewayVersion', {
      RegionId: 'cn-shanghai',
      SmartAGId: 'sag-arrears',
      VersionCode: '2.2.0',
    });
    const err = normalizeError(raw, 'UpdateSmartAccessGatewayVersion');
    expect(err).toMatchObject({ code: 'SmartAccessGatewayInArrears', httpStatus: 500 });
    expect(err.requestId).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('scrubs the string to sign that SignatureDoesNotMatch echoes', async () => {
    const raw = await rawFailure(
      'GET',
      'DescribeRegions',
      { RegionId: 'cn-shanghai' },
      rawClient(sim.endpoint, 'not-the-secret'),
    );
    expect((raw as { data: { Message: string } }).data.Message).toContain('string to sign');
    const err = normalizeError(raw, 'DescribeRegions', ['not-the-secret']);
    expect(err).toMatchObject({ code: 'SignatureDoesNotMatch', httpStatus: 400 });
    expect(err.message).not.toContain('not-the-secret');
    expectClean(err);
  });

  it("maps json-bigint's plain-object SyntaxError (a non-JSON 502 body) to InvalidResponse", async () => {
    sim.setFaults({ rules: [{ action: 'DescribeRegions', kind: 'html', httpStatus: 502 }] });
    const raw = await rawFailure('GET', 'DescribeRegions', { RegionId: 'cn-shanghai' });
    expect(raw).not.toBeInstanceOf(Error);
    expect(raw).toMatchObject({ name: 'SyntaxError' });
    expect(raw).toHaveProperty('text');

    const err = normalizeError(raw, 'DescribeRegions');
    expect(err.code).toBe('InvalidResponse');
    expect(err.httpStatus).toBeUndefined();
    expect(err.message).toContain('502 Bad Gateway');
  });

  it("maps httpx's RequestTimeoutError (a hang) to RequestTimeout", async () => {
    sim.setFaults({ rules: [{ action: 'DescribeRegions', kind: 'hang' }] });
    const raw = await rawFailure('GET', 'DescribeRegions', { RegionId: 'cn-shanghai' }, rawClient(), 300);
    expect(raw).toMatchObject({ name: 'RequestTimeoutError' });
    expect((raw as Error).message).toContain('Signature=');

    const err = normalizeError(raw, 'DescribeRegions');
    expect(err.code).toBe('RequestTimeout');
    expect(err.message).toContain('ReadTimeout(300)');
    expectClean(err);
  });

  it('maps a dropped connection to ConnectionReset', async () => {
    sim.setFaults({ rules: [{ action: 'DescribeRegions', kind: 'drop' }] });
    const raw = await rawFailure('POST', 'DescribeRegions', { RegionId: 'cn-shanghai' });
    expect(raw).toBeInstanceOf(Error);
    expect(['ECONNRESET', 'EPIPE']).toContain((raw as NodeJS.ErrnoException).code);
    expect(normalizeError(raw, 'DescribeRegions').code).toBe('ConnectionReset');
  });

  it('maps a refused connection to ConnectionRefused', async () => {
    const port = await new Promise<number>((resolve) => {
      const server: Server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const p = (server.address() as AddressInfo).port;
        server.close(() => resolve(p));
      });
    });
    const raw = await rawFailure(
      'GET',
      'DescribeRegions',
      { RegionId: 'cn-shanghai' },
      rawClient(`http://127.0.0.1:${port}`),
    );
    expect(raw).toMatchObject({ code: 'ECONNREFUSED' });
    const err = normalizeError(raw, 'DescribeRegions');
    expect(err.code).toBe('ConnectionRefused');
    expect(err.message).toContain('ECONNREFUSED');
    expectClean(err);
  });
});

/** An openapi-client V3 client as src/sag/openapi-transport.ts builds it, without the wrapper. */
function rawOpenApi(
  endpoint = sim.endpoint,
  accessKeySecret = sim.accessKeySecret,
  securityToken?: string,
): OpenApiClient {
  return new OpenApiClient(
    new Config({
      accessKeyId: sim.accessKeyId,
      accessKeySecret,
      ...(securityToken ? { securityToken } : {}),
      endpoint: new URL(endpoint).host,
      protocol: 'HTTP',
    }),
  );
}

/** What openapi-client rejects with, untouched. */
async function rawOpenApiFailure(
  action: string,
  body: Record<string, string>,
  client = rawOpenApi(),
  timeout = 3000,
): Promise<unknown> {
  const params = new Params({
    action,
    version: '2018-03-13',
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  try {
    await client.callApi(
      params,
      new OpenApiRequest({ body }),
      new RuntimeOptions({ readTimeout: timeout, connectTimeout: timeout }),
    );
  } catch (err) {
    return err;
  }
  throw new Error('expected openapi-client to reject');
}

async function closedPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const server: Server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const p = (server.address() as AddressInfo).port;
      server.close(() => resolve(p));
    });
  });
}

describe('normalizeError on real openapi-client (signature V3) failures', () => {
  it('reads code, status and RequestId from an API error, as for pop-core', async () => {
    const raw = await rawOpenApiFailure('UpdateSmartAccessGatewayVersion', {
      RegionId: 'cn-shanghai',
      SmartAGId: 'sag-offline',
      VersionCode: '2.2.0',
    });
    // The shape openapi-client produces: an Error with code, statusCode and the body as data.
    expect(raw).toBeInstanceOf(Error);
    expect(raw).toMatchObject({ code: 'SmartAccessGatewayNotOnline', statusCode: 403 });
    expect(raw).not.toHaveProperty('entry');

    const err = normalizeError(raw, 'UpdateSmartAccessGatewayVersion');
    expect(err).toMatchObject({
      code: 'SmartAccessGatewayNotOnline',
      httpStatus: 403,
      action: 'UpdateSmartAccessGatewayVersion',
    });
    expect(err.requestId).toBe(sim.requests(1)[0]!.requestId);
    expect(err.hostId).toBe('smartag.cn-shanghai.aliyuncs.com');
    expect(err.message).toContain('The specified smart access gateway is not online.');
    expectClean(err);
  });

  it('scrubs the string to sign and the canonical request, with its STS token, that SignatureDoesNotMatch echoes', async () => {
    const token = 'CAIS-echoed-token-0123456789';
    const raw = await rawOpenApiFailure(
      'DescribeRegions',
      { RegionId: 'cn-shanghai' },
      rawOpenApi(sim.endpoint, 'not-the-secret', token),
    );
    // A token sent with a plain key is still signed, so the canonical request the answer echoes holds it.
    expect((raw as { data: { Message: string } }).data.Message).toContain('server CanonicalRequest is [');
    expect((raw as { data: { Message: string } }).data.Message).toContain(`x-acs-security-token:${token}`);
    const err = normalizeError(raw, 'DescribeRegions', ['not-the-secret']);
    expect(err).toMatchObject({ code: 'SignatureDoesNotMatch', httpStatus: 400 });
    expect(err.message).not.toContain(token);
    expect(err.message).not.toContain('not-the-secret');
    expect(err.message).not.toContain('x-acs-');
    expectClean(err);
  });

  it("maps JSON.parse's SyntaxError (a non-JSON 502 body) to InvalidResponse", async () => {
    sim.setFaults({ rules: [{ action: 'DescribeRegions', kind: 'html', httpStatus: 502 }] });
    const raw = await rawOpenApiFailure('DescribeRegions', { RegionId: 'cn-shanghai' });
    expect(raw).toBeInstanceOf(SyntaxError);
    const err = normalizeError(raw, 'DescribeRegions');
    expect(err.code).toBe('InvalidResponse');
    expect(err.httpStatus).toBeUndefined();
    expect(err.message).toContain('not JSON');
  });

  it('maps an error status with a JSON body that has no Code to InvalidResponse, keeping the status', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"RequestId":"R-503"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const raw = await rawOpenApiFailure(
        'DescribeRegions',
        {},
        rawOpenApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      );
      expect(raw).toMatchObject({ code: 'undefined', statusCode: 503 });
      expect(normalizeError(raw, 'DescribeRegions')).toMatchObject({
        code: 'InvalidResponse',
        httpStatus: 503,
        requestId: 'R-503',
      });
    } finally {
      server.close();
    }
  });

  it("maps httpx's RequestTimeoutError (a hang), a dropped connection and a refused one as for pop-core", async () => {
    sim.setFaults({ rules: [{ action: 'DescribeRegions', kind: 'hang' }] });
    const hung = await rawOpenApiFailure('DescribeRegions', {}, rawOpenApi(), 300);
    expect(hung).toMatchObject({ name: 'RequestTimeoutError' });
    expect(normalizeError(hung, 'DescribeRegions').code).toBe('RequestTimeout');
    sim.setFaults({ rules: [{ action: 'DescribeRegions', kind: 'drop' }] });
    const dropped = await rawOpenApiFailure('DescribeRegions', {});
    expect(normalizeError(dropped, 'DescribeRegions').code).toBe('ConnectionReset');
    const refused = await rawOpenApiFailure(
      'DescribeRegions',
      {},
      rawOpenApi(`http://127.0.0.1:${await closedPort()}`),
    );
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
    const err = normalizeError(refused, 'DescribeRegions');
    expect(err.code).toBe('ConnectionRefused');
    expectClean(err);
  });
});

describe('normalizeError on shapes the simulator cannot produce', () => {
  it('maps "socket hang up" and EPIPE to ConnectionReset', () => {
    expect(normalizeError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'X').code).toBe(
      'ConnectionReset',
    );
    expect(normalizeError(new Error('socket hang up'), 'X').code).toBe('ConnectionReset');
    expect(normalizeError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'X').code).toBe(
      'ConnectionReset',
    );
  });

  it("maps httpx's connect timeout and DNS failures", () => {
    const connect = Object.assign(
      new Error('ConnectTimeout: Connect https://smartag.cn-shanghai.aliyuncs.com/ failed.'),
      { name: 'RequestTimeoutError' },
    );
    expect(normalizeError(connect, 'X').code).toBe('RequestTimeout');
    expect(
      normalizeError(
        Object.assign(new Error('getaddrinfo ENOTFOUND smartag.nowhere'), { code: 'ENOTFOUND' }),
        'X',
      ).code,
    ).toBe('NetworkError');
  });

  it('maps a credential failure, passes a SagError through, and calls anything else UnknownError', () => {
    expect(normalizeError(new CredentialsFailure('refresh failed'), 'X').code).toBe('CredentialsUnavailable');
    const existing = new SagError({ code: 'Throttling', action: 'X', detail: 'd' });
    expect(normalizeError(existing, 'Y')).toBe(existing);
    expect(normalizeError(new TypeError('boom'), 'X').code).toBe('UnknownError');
    expect(normalizeError('a string', 'X').code).toBe('UnknownError');
    expect(normalizeError(undefined, 'X').code).toBe('UnknownError');
    expect(normalizeError(null, 'X').code).toBe('UnknownError');
  });

  it('reads API errors whose data is a null-prototype object', () => {
    const data = Object.assign(Object.create(null) as Record<string, unknown>, {
      Code: 'Throttling.User',
      RequestId: 'R-1',
      Message: 'flow control',
    });
    const err = normalizeError(
      Object.assign(new Error('flow control, URL: https://h/'), {
        code: 'Throttling.User',
        data,
        entry: { response: { statusCode: 400 } },
      }),
      'X',
    );
    expect(err).toMatchObject({ code: 'Throttling.User', requestId: 'R-1', httpStatus: 400 });
  });

  it('scrubs secrets passed by the caller in every encoding', () => {
    const token = 'CAIS/tok+en=value';
    const err = normalizeError(
      new Error(
        `failed for ${token} and ${encodeURIComponent(token)} and ${encodeURIComponent(encodeURIComponent(token))}`,
      ),
      'X',
      [token],
    );
    expect(err.message).not.toContain('CAIS');
  });
});
