import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CODE_POLICIES,
  isRetryablePolicy,
  provesRefusal,
  resolveCodePolicy,
} from '../../domain/error-policy';
import type { CodePolicy } from '../../domain/types';
import { EXPECTED_ROWS } from './fixtures/expected-rows';

describe('DEFAULT_CODE_POLICIES', () => {
  it('has exactly the rows of the design table', () => {
    expect(Object.keys(DEFAULT_CODE_POLICIES).sort()).toEqual(EXPECTED_ROWS.map(([code]) => code).sort());
  });

  it.each(EXPECTED_ROWS)('treats %s as %s / %s / %s', (code, errorClass, persistence, action) => {
    const row = DEFAULT_CODE_POLICIES[code];
    expect(row).toBeDefined();
    expect(row).toMatchObject({ class: errorClass, persistence, action });
    expect(resolveCodePolicy(code)).toMatchObject({ class: errorClass, persistence, action });
  });

  it.each(EXPECTED_ROWS.filter(([, , , action]) => action === 'retry' || action === 'defer'))(
    'gives %s a bounded backoff',
    (code) => {
      const row = DEFAULT_CODE_POLICIES[code]!;
      expect(row.initialInterval).toBeDefined();
      expect(row.maximumInterval).toBeDefined();
      expect(row.backoffCoefficient).toBeGreaterThanOrEqual(1);
      expect(row.maximumAttempts).toBeGreaterThan(0);
    },
  );

  it('backs off longer for an offline device than for a throttled call', () => {
    const offline = DEFAULT_CODE_POLICIES.SmartAccessGatewayNotOnline!;
    const throttled = DEFAULT_CODE_POLICIES.Throttling!;
    expect(offline.initialInterval).toBe('5m');
    expect(throttled.initialInterval).toBe('2s');
  });

  it('is frozen, and resolving returns a copy the caller may change', () => {
    expect(Object.isFrozen(DEFAULT_CODE_POLICIES)).toBe(true);
    for (const row of Object.values(DEFAULT_CODE_POLICIES)) expect(Object.isFrozen(row)).toBe(true);
    const copy = resolveCodePolicy('Throttling');
    copy.maximumAttempts = 1;
    expect(DEFAULT_CODE_POLICIES.Throttling!.maximumAttempts).toBe(10);
  });
});

describe('resolveCodePolicy overrides', () => {
  it('merges an override field by field over the row', () => {
    const policy = resolveCodePolicy('SmartAccessGatewayNotOnline', {
      SmartAccessGatewayNotOnline: { action: 'fail', maximumAttempts: 2 },
    });
    expect(policy).toEqual<CodePolicy>({
      class: 'device',
      persistence: 'transient',
      action: 'fail',
      initialInterval: '5m',
      maximumInterval: '30m',
      backoffCoefficient: 2,
      maximumAttempts: 2,
    });
  });

  it('lets an operator make a permanent code retryable and change its backoff', () => {
    const policy = resolveCodePolicy('VersionTooOld', {
      VersionTooOld: { action: 'retry', persistence: 'transient', initialInterval: '1m' },
    });
    expect(policy).toMatchObject({
      class: 'device',
      persistence: 'transient',
      action: 'retry',
      initialInterval: '1m',
    });
    expect(isRetryablePolicy(policy)).toBe(true);
  });

  it('ignores overrides of other codes and undefined fields', () => {
    expect(resolveCodePolicy('NotBoundCCN', { VersionTooOld: { action: 'halt' } })).toEqual({
      class: 'device',
      persistence: 'permanent',
      action: 'skip',
    });
    expect(resolveCodePolicy('NotBoundCCN', { NotBoundCCN: { action: undefined } })).toMatchObject({
      action: 'skip',
    });
  });

  it('applies an override to an unknown code', () => {
    expect(
      resolveCodePolicy('SAG.SoftwareNotSupport', { 'SAG.SoftwareNotSupport': { action: 'skip' } }),
    ).toEqual({
      class: 'device',
      persistence: 'permanent',
      action: 'skip',
    });
  });

  it('does not read inherited keys of the overrides object', () => {
    expect(resolveCodePolicy('toString', {})).toMatchObject({ action: 'fail' });
    expect(resolveCodePolicy('constructor')).toMatchObject({ action: 'fail' });
  });
});

describe('resolveCodePolicy for unknown codes', () => {
  it.each([
    ['MissingSmartAGId', 400],
    ['InvalidParameter.Format', 400],
    ['InvalidTimeStamp.Format', 400],
    ['InvalidRegionId', undefined],
  ])('fails the device for %s', (code, status) => {
    expect(resolveCodePolicy(code, undefined, status)).toEqual({
      class: 'device',
      persistence: 'permanent',
      action: 'fail',
    });
  });

  it.each([500, 502, 503, 599])('retries an unknown code returned with HTTP %i', (status) => {
    expect(resolveCodePolicy('SomethingBroke', undefined, status)).toMatchObject({
      class: 'service',
      persistence: 'transient',
      action: 'retry',
    });
  });

  it('fails the device for an unknown code with a 4xx or no status', () => {
    expect(resolveCodePolicy('SAG.InstanceNoFound', undefined, 400)).toMatchObject({
      class: 'device',
      action: 'fail',
    });
    expect(resolveCodePolicy('SAG.InstanceNoFound')).toMatchObject({ class: 'device', action: 'fail' });
  });

  it('treats a Missing/Invalid code as the device failing even with a 5xx status', () => {
    expect(resolveCodePolicy('MissingVersionCode', undefined, 500)).toMatchObject({ action: 'fail' });
  });

  it('retries every Throttling.* variant and halts on every InvalidAccessKeyId.* variant', () => {
    expect(resolveCodePolicy('Throttling.Resource', undefined, 400)).toMatchObject({
      class: 'service',
      action: 'retry',
    });
    expect(resolveCodePolicy('Rejected.Throttling', undefined, 400)).toMatchObject({
      class: 'service',
      action: 'retry',
    });
    expect(resolveCodePolicy('InvalidAccessKeyId.Expired', undefined, 400)).toMatchObject({
      class: 'rollout',
      action: 'halt',
    });
  });
});

describe('credential and permission codes', () => {
  it.each([
    ['InvalidSecurityToken.NotFound', 400],
    ['Forbidden.NoPermission', 403],
    ['Forbidden.AccessKeyDisabled', 403],
    ['NoPermission.RAM', 403],
    ['EntityNotExist.Role', 404],
  ])('halts the rollout on %s, also when the table has no row for it', (code, status) => {
    expect(resolveCodePolicy(code, undefined, status)).toMatchObject({ class: 'rollout', action: 'halt' });
  });
});

describe('provesRefusal: whether a failed upgrade call was certainly not acted on', () => {
  it.each([
    ['VersionTooOld', 403],
    ['NotBoundCCN', 403],
    ['SignatureDoesNotMatch', 400],
    ['Throttling.User', 400],
    ['InvalidSecurityToken.Expired', 400],
    ['SomethingNew', 400],
    ['NotSent', undefined],
    ['ConnectionRefused', undefined],
    ['CredentialsUnavailable', undefined],
  ])('%s (HTTP %s) proves refusal', (code, status) => {
    expect(provesRefusal(code, status)).toBe(true);
  });

  it.each([
    ['UnknownError', 500],
    ['SmartAccessGatewayInArrears', 500],
    ['PermissionError', 500],
    ['SmartAccessGatewayNotOnline', 504],
    ['SignatureNonceUsed', 503],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['SomethingNew', 500],
    ['SomethingNew', 502],
    ['Throttling', 503],
    ['InvalidResponse', 502],
    ['InvalidResponse', 400],
    ['RequestTimeout', undefined],
    ['ConnectionReset', undefined],
    ['NetworkError', undefined],
    ['ActivityTimeout', undefined],
    ['SomethingNew', undefined],
  ])('%s (HTTP %s) proves nothing', (code, status) => {
    expect(provesRefusal(code, status)).toBe(false);
  });
});
