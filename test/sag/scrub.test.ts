import { describe, expect, it } from 'vitest';
import { scrubText } from '../../src/sag/internal/scrub';

describe('scrubText', () => {
  it('drops the query string of any URL and the ", URL:" suffix pop-core appends', () => {
    const out = scrubText('not online., URL: http://h/?AccessKeyId=LTAIabc&Signature=xyz%3D');
    expect(out).toBe('not online.');
    expect(
      scrubText('ReadTimeout(300). GET http://127.0.0.1:9/?AccessKeyId=LTAIabc&Signature=s failed.'),
    ).toBe('ReadTimeout(300). GET http://127.0.0.1:9/?*** failed.');
  });

  it('redacts signed parameters in raw, encoded and double-encoded form', () => {
    for (const text of [
      'AccessKeyId=LTAIabc&Action=X',
      'AccessKeyId%3DLTAIabc%26Action%3DX',
      'AccessKeyId%253DLTAIabc%2526Action',
      'SecurityToken=CAIS123 Signature=abc',
      '{"AccessKeyId":"LTAIabc","access_key_secret":"s3cr3t"}',
    ]) {
      const out = scrubText(text);
      expect(out).not.toMatch(/LTAIabc|CAIS123|s3cr3t|=abc/);
    }
  });

  it('cuts an echoed string to sign', () => {
    expect(
      scrubText(
        'Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3DLTAIabc',
      ),
    ).toBe('Specified signature is not matched with our calculation. server string to sign is: ***');
  });

  it("cuts a V3 answer's echoed string to sign and canonical request, which hold the signed headers", () => {
    const echoed =
      'Specified signature does not match our calculation. server StringToSign is [ACS3-HMAC-SHA256\n7ea0] server CanonicalRequest is [POST\n/\n\nhost:h\nx-acs-security-token:CAIS123\n]';
    expect(scrubText(echoed)).toBe(
      'Specified signature does not match our calculation. server StringToSign is ***',
    );
    expect(scrubText('server CanonicalRequest is [GET\n/\nx-acs-accesskey-id:LTAIabc]')).toBe(
      'server CanonicalRequest is ***',
    );
  });

  it('redacts the parts of a V3 Authorization header and the x-acs-* headers that carry keys', () => {
    for (const text of [
      'Authorization: ACS3-HMAC-SHA256 Credential=LTAIabc,SignedHeaders=host;x-acs-date,Signature=0656abc',
      'x-acs-security-token:CAIS123 x-acs-accesskey-id: LTAIabc',
      '{"x-acs-security-token":"CAIS123","x-acs-signature-nonce":"n0nce99"}',
    ]) {
      expect(scrubText(text)).not.toMatch(/LTAIabc|CAIS123|0656abc|n0nce99/);
    }
  });

  it('leaves ordinary service messages alone', () => {
    const message = 'The specified smart access gateway has not bound CCN; please bind CCN first.';
    expect(scrubText(message, ['ab'])).toBe(message);
    const credentials = 'credential provider failed: the Alibaba Cloud credential chain is not configured';
    expect(scrubText(credentials)).toBe(credentials);
  });
});
