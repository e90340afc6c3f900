import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { SagError } from '../../src/sag/errors';
import { retryDelayMs, toApplicationFailure, type SagFailureDetails } from '../../src/sag/failure';
import { DEFAULT_CODE_POLICIES } from '../../domain/error-policy';
import { EXPECTED_ROWS } from './fixtures/expected-rows';

function sagError(code: string, httpStatus?: number): SagError {
  return new SagError({
    code,
    action: 'UpdateSmartAccessGatewayVersion',
    detail: `detail of ${code}`,
    httpStatus,
    requestId: 'REQ-1',
  });
}

function detailsOf(failure: ApplicationFailure): SagFailureDetails {
  expect(failure.details).toHaveLength(1);
  return failure.details![0] as SagFailureDetails;
}

describe('toApplicationFailure', () => {
  it.each(EXPECTED_ROWS)(
    'maps %s to type=code with the row in its details',
    (code, errorClass, persistence, action) => {
      const failure = toApplicationFailure(
        sagError(code, 403),
        'UpdateSmartAccessGatewayVersion',
        undefined,
        { random: () => 0.5 },
      );
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure.type).toBe(code);
      expect(failure.nonRetryable).toBe(action !== 'retry');
      expect(detailsOf(failure)).toMatchObject({
        code,
        httpStatus: 403,
        requestId: 'REQ-1',
        action: 'UpdateSmartAccessGatewayVersion',
        errorClass,
        persistence,
        failureAction: action,
      });
      expect(failure.message).toContain(code);
    },
  );

  it('asks Temporal for a jittered delay on throttling, grown by attempt and capped', () => {
    const first = toApplicationFailure(
      sagError('Throttling.User', 400),
      'DescribeSmartAccessGateways',
      undefined,
      { attempt: 1, random: () => 0.5 },
    );
    expect(first.nextRetryDelay).toBe(2_000);
    expect(detailsOf(first).nextRetryDelayMs).toBe(2_000);
    const third = toApplicationFailure(
      sagError('Throttling', 400),
      'DescribeSmartAccessGateways',
      undefined,
      { attempt: 3, random: () => 0 },
    );
    expect(third.nextRetryDelay).toBe(4_000); // 2s * 2^2 = 8s, jitter 0.5x
    const late = toApplicationFailure(
      sagError('Throttling.Api', 400),
      'DescribeSmartAccessGateways',
      undefined,
      { attempt: 30, random: () => 0.99 },
    );
    expect(late.nextRetryDelay).toBe(60_000); // capped at the row's maximumInterval
  });

  it('honours an overridden throttling interval', () => {
    const failure = toApplicationFailure(
      sagError('Throttling.User', 400),
      'X',
      { 'Throttling.User': { initialInterval: '10s', maximumInterval: '10s' } },
      { random: () => 0.5 },
    );
    expect(failure.nextRetryDelay).toBe(10_000);
  });

  it('leaves the delay to the retry policy for other retryable codes', () => {
    const failure = toApplicationFailure(sagError('ServiceUnavailable', 503), 'X');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it('applies overrides to nonRetryable and the details', () => {
    const failure = toApplicationFailure(sagError('SmartAccessGatewayNotOnline', 403), 'X', {
      SmartAccessGatewayNotOnline: { action: 'retry', class: 'service' },
    });
    expect(failure.nonRetryable).toBe(false);
    expect(detailsOf(failure)).toMatchObject({ errorClass: 'service', failureAction: 'retry' });
  });

  it('classifies an unknown 5xx code as retryable and an unknown 4xx code as failing the device', () => {
    expect(toApplicationFailure(sagError('Odd.Failure', 502), 'X').nonRetryable).toBe(false);
    const fourxx = toApplicationFailure(sagError('Odd.Failure', 400), 'X');
    expect(fourxx.nonRetryable).toBe(true);
    expect(detailsOf(fourxx)).toMatchObject({ errorClass: 'device', failureAction: 'fail' });
  });

  it('classifies raw errors too, and keeps secrets out of the message', () => {
    const raw = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1POST http://127.0.0.1:1/ failed.'), {
      code: 'ECONNREFUSED',
    });
    const failure = toApplicationFailure(raw, 'DescribeRegions', undefined, { secrets: ['LTAIsecretkeyid'] });
    expect(failure.type).toBe('ConnectionRefused');
    expect(failure.nonRetryable).toBe(false);
    expect(detailsOf(failure)).not.toHaveProperty('httpStatus');

    const leaky = Object.assign(
      new Error('bad, URL: http://h/?AccessKeyId=LTAIsecretkeyid&Signature=abc%3D'),
      {
        code: 'Forbidden',
        data: { Code: 'Forbidden', Message: 'denied for LTAIsecretkeyid', RequestId: 'R' },
      },
    );
    const scrubbed = toApplicationFailure(leaky, 'X', undefined, { secrets: ['LTAIsecretkeyid'] });
    expect(scrubbed.message).not.toContain('LTAIsecretkeyid');
    expect(scrubbed.message).not.toContain('Signature=abc');
    expect(JSON.stringify(scrubbed.details)).not.toContain('LTAIsecretkeyid');
  });
});

describe('retryDelayMs', () => {
  it('is undefined for a row without backoff', () => {
    expect(retryDelayMs(DEFAULT_CODE_POLICIES.VersionTooOld!)).toBeUndefined();
  });

  it('stays within half and one and a half times the base', () => {
    const row = DEFAULT_CODE_POLICIES.Throttling!;
    for (let i = 0; i < 50; i++) {
      const delay = retryDelayMs(row, 2)!;
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(6_000);
    }
  });
});
