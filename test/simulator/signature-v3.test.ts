import { describe, expect, it } from 'vitest';
import {
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  parseAuthorization,
  sha256Hex,
  signV3,
  signV3Request,
  stringToSignV3,
} from '../../src/simulator';

// The worked example of Alibaba's "V3 request structure and signature" page: fixed inputs, and
// the canonical request, string to sign and signature it publishes for them.
const published = {
  accessKeyId: 'YourAccessKeyId',
  accessKeySecret: 'YourAccessKeySecret',
  host: 'ecs.cn-shanghai.aliyuncs.com',
  action: 'RunInstances',
  version: '2014-05-26',
  date: '2023-10-26T10:22:32Z',
  nonce: '3156853299f313e23d1673dc12e1703d',
  query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
};
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SIGNED = 'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version';

describe('signature V3 (ACS3-HMAC-SHA256)', () => {
  it("reproduces the canonical request, string to sign and signature of Alibaba's published example", () => {
    const headers = {
      host: published.host,
      'x-acs-action': published.action,
      'x-acs-content-sha256': sha256Hex(''),
      'x-acs-date': published.date,
      'x-acs-signature-nonce': published.nonce,
      'x-acs-version': published.version,
    };
    const canonical = canonicalRequest({
      method: 'POST',
      path: '/',
      query: Object.entries(published.query),
      headers,
      signedHeaders: SIGNED.split(';'),
      hashedPayload: sha256Hex(''),
    });
    expect(sha256Hex('')).toBe(EMPTY_SHA256);
    expect(canonical).toBe(
      [
        'POST',
        '/',
        'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
        `host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:${EMPTY_SHA256}\nx-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n`,
        SIGNED,
        EMPTY_SHA256,
      ].join('\n'),
    );
    const toSign = stringToSignV3(canonical);
    expect(toSign).toBe('ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259');
    expect(signV3(toSign, published.accessKeySecret)).toBe(
      '06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
    );
  });

  it('builds the published Authorization header with signV3Request', () => {
    const headers = signV3Request(
      {
        method: 'POST',
        host: published.host,
        action: published.action,
        version: published.version,
        query: published.query,
      },
      published,
      { date: published.date, nonce: published.nonce },
    );
    expect(headers.authorization).toBe(
      `ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=${SIGNED},Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0`,
    );
  });

  it('signs the body hash, content-type and the STS token header', () => {
    const body = 'RegionId=cn-shanghai&SmartAGId=sag-1';
    const headers = signV3Request(
      {
        method: 'POST',
        host: '127.0.0.1:1',
        action: 'DescribeSmartAccessGatewayAttribute',
        body,
        contentType: 'application/x-www-form-urlencoded',
      },
      { accessKeyId: 'STS.key', accessKeySecret: 'secret', securityToken: 'tok' },
    );
    expect(headers['x-acs-content-sha256']).toBe(sha256Hex(body));
    expect(parseAuthorization(headers.authorization!)!.signedHeaders).toEqual([
      'content-type',
      'host',
      'x-acs-action',
      'x-acs-content-sha256',
      'x-acs-date',
      'x-acs-security-token',
      'x-acs-signature-nonce',
      'x-acs-version',
    ]);
  });

  it('encodes the query the RFC 3986 way, sorted by name, and keeps the RPC path /', () => {
    expect(
      canonicalQueryString([
        ['b', "a b*c~d'é"],
        ['a', '1'],
        ['SmartAGIds.2', 'y'],
        ['SmartAGIds.1', 'x'],
      ]),
    ).toBe('SmartAGIds.1=x&SmartAGIds.2=y&a=1&b=a%20b%2Ac~d%27%C3%A9');
    expect(canonicalQueryString([])).toBe('');
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('')).toBe('/');
    expect(canonicalUri('/api/v1/a%20b')).toBe('/api/v1/a%20b');
  });

  it('parses an Authorization header and refuses one without its three parts', () => {
    expect(
      parseAuthorization('ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=Host;x-acs-date,Signature=abc'),
    ).toEqual({
      algorithm: 'ACS3-HMAC-SHA256',
      credential: 'AK',
      signedHeaders: ['host', 'x-acs-date'],
      signature: 'abc',
    });
    expect(
      parseAuthorization('ACS3-HMAC-SM3 Credential=AK, SignedHeaders=host, Signature=abc')!.algorithm,
    ).toBe('ACS3-HMAC-SM3');
    expect(parseAuthorization('ACS3-HMAC-SHA256')).toBeUndefined();
    expect(parseAuthorization('ACS3-HMAC-SHA256 Credential=AK,Signature=abc')).toBeUndefined();
    expect(
      parseAuthorization('ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=abc'),
    ).toBeUndefined();
    expect(parseAuthorization('Bearer abc')).toBeUndefined();
  });
});
