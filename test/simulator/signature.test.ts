import { describe, expect, it } from 'vitest';
import { canonicalize, signRpc } from '../../src/simulator';

const smartagParams = {
  AccessKeyId: 'testid',
  Action: 'UpdateSmartAccessGatewayVersion',
  Format: 'JSON',
  RegionId: 'cn-shanghai',
  SerialNumber: 'sage62x022502abcd',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '0123456789abcdef0123456789abcdef',
  SignatureVersion: '1.0',
  SmartAGId: 'sag-abc123',
  Timestamp: '2024-01-01T00:00:00Z',
  Version: '2018-03-13',
  VersionCode: '2.3.1.1',
  VersionType: 'Device',
};

describe('RPC signature v1.0', () => {
  it("reproduces Alibaba's published DescribeRegions example", () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      Format: 'XML',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      Timestamp: '2016-02-23T12:46:24Z',
      Version: '2014-05-26',
    };
    expect(signRpc(params, 'GET', 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('reproduces the smartag vector for GET and for POST', () => {
    expect(signRpc(smartagParams, 'GET', 'testsecret')).toBe('wsCKApqXDYRpObhjfflmTCkwQJY=');
    expect(signRpc(smartagParams, 'POST', 'testsecret')).toBe('kb7JC1LlFRcAX2rl/oxxv+XTbps=');
  });

  it('ignores a Signature parameter already present', () => {
    expect(signRpc({ ...smartagParams, Signature: 'x' }, 'GET', 'testsecret')).toBe(
      'wsCKApqXDYRpObhjfflmTCkwQJY=',
    );
  });

  it('percent-encodes spaces, stars, quotes and UTF-8 the RFC 3986 way and signs the edge vector', () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'DescribeSmartAccessGateways',
      Format: 'JSON',
      Name: "a b*c~d'é",
      RegionId: 'cn-shanghai',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: 'n1',
      SignatureVersion: '1.0',
      Timestamp: '2024-01-01T00:00:00Z',
      Version: '2018-03-13',
    };
    expect(canonicalize(params)).toContain('Name=a%20b%2Ac~d%27%C3%A9');
    expect(signRpc(params, 'GET', 'testsecret')).toBe('BD1nD3tTDIYNiyAy5S4jJT+WhPQ=');
  });
});
