import { describe, expect, it } from 'vitest';
import { scrubText } from '../../src/sag/internal/scrub';

describe('scrubText', () => {
  it('drops the query string of any URL and the ", URL:" suffix pop-core appends', () => {
    const out = scrubText('not online., URL: http://h/?AccessKeyId=LTAIabc&Signature=xyz%3D');
    expect(out).toBe('not online.');
    expect(scrubText('ReadTimeout(300). GET http://127.0.0.1:9/?AccessKeyId=LTAIabc&Signature=s failed.')).toBe(
      'ReadTimeout(300). GET http://127.0.0.1:9/?*** failed.',
    );
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
    expect(scrubText('Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3DLTAIabc')).toBe(
      'Specified signature is not matched with our calculation. server string to sign is: ***',
    );
  });

  it('leaves ordinary service messages alone', () => {
    const message = 'The specified smart access gateway has not bound CCN; please bind CCN first.';
    expect(scrubText(message, ['ab'])).toBe(message);
  });
});
