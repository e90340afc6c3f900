/**
 * How every Alibaba `Code` (and every transport failure the SAG client reports as a code) is
 * treated by a rollout: who is at fault, whether it can pass, and what the rollout does about it.
 *
 * Pure data and pure functions: both activities (to build the `ApplicationFailure`) and
 * workflows (to decide retry / defer / skip / fail / halt) read it, so it imports nothing but
 * the shared types.
 */
import type { CodePolicy, CodeOverrides } from './types';

/** Short API-level retries: throttling, 5xx, timeouts, resets, bodies that are not JSON. */
const SERVICE_TRANSIENT: Readonly<CodePolicy> = Object.freeze({
  class: 'service',
  persistence: 'transient',
  action: 'retry',
  initialInterval: '2s',
  maximumInterval: '1m',
  backoffCoefficient: 2,
  maximumAttempts: 10,
});

/** The service could not read the device's version or state: retried more patiently. */
const SERVICE_DEVICE_READ: Readonly<CodePolicy> = Object.freeze({
  class: 'service',
  persistence: 'transient',
  action: 'retry',
  initialInterval: '10s',
  maximumInterval: '5m',
  backoffCoefficient: 2,
  maximumAttempts: 8,
});

/** The credentials or the API contract are wrong: every further device would fail the same way. */
const ROLLOUT_HALT: Readonly<CodePolicy> = Object.freeze({
  class: 'rollout',
  persistence: 'permanent',
  action: 'halt',
});

const DEVICE_FAIL: Readonly<CodePolicy> = Object.freeze({
  class: 'device',
  persistence: 'permanent',
  action: 'fail',
});
const DEVICE_SKIP: Readonly<CodePolicy> = Object.freeze({
  class: 'device',
  persistence: 'permanent',
  action: 'skip',
});

/**
 * The error-code table. Each key is an Alibaba `Code` or one of the SAG client's transport codes
 * (`RequestTimeout`, `ConnectionReset`, `ConnectionRefused`, `InvalidResponse`, `NetworkError`,
 * `CredentialsUnavailable`). Backoff fields apply to the `retry` and `defer` actions.
 */
export const DEFAULT_CODE_POLICIES: Readonly<Record<string, Readonly<CodePolicy>>> = Object.freeze({
  // The device may come back: the rollout moves it to the end of its wave and tries again later.
  SmartAccessGatewayNotOnline: Object.freeze({
    class: 'device',
    persistence: 'transient',
    action: 'defer',
    initialInterval: '5m',
    maximumInterval: '30m',
    backoffCoefficient: 2,
    maximumAttempts: 5,
  }),
  GetSmartAccessGatewayVersionError: SERVICE_DEVICE_READ,
  GetSmartAccessGatewayStateError: SERVICE_DEVICE_READ,

  Throttling: SERVICE_TRANSIENT,
  'Throttling.User': SERVICE_TRANSIENT,
  'Throttling.Api': SERVICE_TRANSIENT,
  ServiceUnavailable: SERVICE_TRANSIENT,
  InternalError: SERVICE_TRANSIENT,
  RequestTimeout: SERVICE_TRANSIENT,
  ConnectionReset: SERVICE_TRANSIENT,
  ConnectionRefused: SERVICE_TRANSIENT,
  InvalidResponse: SERVICE_TRANSIENT,
  NetworkError: SERVICE_TRANSIENT,
  // A fresh request carries a fresh nonce and timestamp, so a replay or clock-skew rejection can pass.
  SignatureNonceUsed: SERVICE_TRANSIENT,
  'InvalidTimeStamp.Expired': SERVICE_TRANSIENT,
  // The credential provider could not produce keys (STS or metadata refresh failed). Retried, and
  // if it persists the whole rollout stops rather than failing device after device.
  CredentialsUnavailable: Object.freeze({
    class: 'rollout',
    persistence: 'transient',
    action: 'retry',
    initialInterval: '5s',
    maximumInterval: '1m',
    backoffCoefficient: 2,
    maximumAttempts: 5,
  }),

  'InvalidId.SMARTAG': DEVICE_FAIL,
  NotBoundCCN: DEVICE_SKIP,
  SmartAccessGatewayInArrears: DEVICE_SKIP,
  SmartAccessGatewayNotActivated: DEVICE_SKIP,
  // Preflight turns "already newer than the target" into a skip before the call is made; what
  // reaches the table is a device that needs an intermediate version.
  VersionTooOld: DEVICE_FAIL,
  VersionNotExist: DEVICE_FAIL,

  // The credentials or the permissions are wrong (an STS token expired, a key was disabled, a RAM
  // policy lacks an action): every device would fail the same way until an operator fixes them.
  Forbidden: ROLLOUT_HALT,
  'Forbidden.RAM': ROLLOUT_HALT,
  'Forbidden.AccessKeyDisabled': ROLLOUT_HALT,
  PermissionError: ROLLOUT_HALT,
  NoPermission: ROLLOUT_HALT,
  'InvalidAccessKeyId.NotFound': ROLLOUT_HALT,
  'InvalidAccessKeyId.Inactive': ROLLOUT_HALT,
  InvalidAccessKeySecret: ROLLOUT_HALT,
  'InvalidSecurityToken.Expired': ROLLOUT_HALT,
  'InvalidSecurityToken.Malformed': ROLLOUT_HALT,
  'InvalidSecurityToken.MismatchWithAccessKey': ROLLOUT_HALT,
  SignatureDoesNotMatch: ROLLOUT_HALT,
  IncompleteSignature: ROLLOUT_HALT,
  InvalidSignatureMethod: ROLLOUT_HALT,
  'InvalidApi.NotFound': ROLLOUT_HALT,
  'InvalidAction.NotFound': ROLLOUT_HALT,
  InvalidVersion: ROLLOUT_HALT,
  UnsupportedHTTPMethod: ROLLOUT_HALT,

  // The worker gave a call up before it left (its activity's deadline passed while it waited for
  // the rate limiter): nothing reached Alibaba, so it may be sent again.
  NotSent: SERVICE_TRANSIENT,
} satisfies Record<string, CodePolicy>);

/** Code families that say the credentials or permissions are wrong, whatever the suffix. */
const CREDENTIAL_PREFIXES = [
  'InvalidAccessKeyId.',
  'InvalidSecurityToken.',
  'Forbidden.',
  'NoPermission.',
  'EntityNotExist.Role',
];

function hasRow(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(DEFAULT_CODE_POLICIES, code);
}

function baseRow(code: string, httpStatus: number | undefined): CodePolicy {
  if (hasRow(code)) return { ...DEFAULT_CODE_POLICIES[code]! };
  // Alibaba's own tooling treats every Throttling* code as retryable (Throttling.Resource, ...).
  if (code.startsWith('Throttling.') || code === 'Rejected.Throttling') return { ...SERVICE_TRANSIENT };
  if (CREDENTIAL_PREFIXES.some((prefix) => code.startsWith(prefix))) return { ...ROLLOUT_HALT };
  // Missing{Param} / Invalid{Param}: the request for this device was malformed.
  if (code.startsWith('Missing') || code.startsWith('Invalid')) return { ...DEVICE_FAIL };
  if (httpStatus !== undefined && httpStatus >= 500 && httpStatus <= 599) return { ...SERVICE_TRANSIENT };
  return { ...DEVICE_FAIL };
}

/**
 * The policy for one code: the table row (or the fallback for an unknown code), with the
 * rollout's override for that code merged over it field by field.
 *
 * Unknown codes: `Throttling.*` retry like `Throttling`; `InvalidAccessKeyId.*`,
 * `InvalidSecurityToken.*`, `Forbidden.*`, `NoPermission.*` and `EntityNotExist.Role*` halt;
 * `Missing*` / `Invalid*` fail the device; any other code retries when the HTTP status is 5xx
 * and fails the device otherwise.
 *
 * Pure; never throws. The result is a fresh object the caller may keep.
 */
export function resolveCodePolicy(code: string, overrides?: CodeOverrides, httpStatus?: number): CodePolicy {
  const row = baseRow(code, httpStatus);
  const override =
    overrides !== undefined && Object.prototype.hasOwnProperty.call(overrides, code)
      ? overrides[code]
      : undefined;
  if (override === undefined) return row;
  const merged: CodePolicy = { ...row };
  for (const [key, value] of Object.entries(override) as [keyof CodePolicy, CodePolicy[keyof CodePolicy]][]) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** Whether a failure with this policy may be retried by Temporal's activity retry policy. */
export function isRetryablePolicy(policy: CodePolicy): boolean {
  return policy.action === 'retry';
}

/**
 * Codes that Alibaba documents as answers of `UpdateSmartAccessGatewayVersion` that refuse the
 * call (the API page's table, some of them with HTTP 500), and the gateway's own refusals of a
 * request it never handed to the service (signature, key, timestamp, nonce, throttling).
 */
const DOCUMENTED_REFUSALS: ReadonlySet<string> = new Set([
  'Forbidden',
  'InvalidId.SMARTAG',
  'NotBoundCCN',
  'SmartAccessGatewayNotOnline',
  'GetSmartAccessGatewayVersionError',
  'GetSmartAccessGatewayStateError',
  'VersionTooOld',
  'VersionNotExist',
  'SmartAccessGatewayInArrears',
  'SmartAccessGatewayNotActivated',
  'PermissionError',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidSignatureMethod',
  'SignatureNonceUsed',
  'InvalidTimeStamp.Expired',
  'InvalidTimeStamp.Format',
  'InvalidApi.NotFound',
  'InvalidAction.NotFound',
  'InvalidVersion',
  'UnsupportedHTTPMethod',
]);

/** Failures in which no request left this machine: nothing can have been accepted. */
const NEVER_SENT: ReadonlySet<string> = new Set([
  'NotSent',
  'ConnectionRefused',
  'CredentialsUnavailable',
  'InvalidRegionId',
]);

/** The client's codes for an answer that is not Alibaba's (or none): never proof of anything. */
const NOT_ALIBABA_ANSWERS: ReadonlySet<string> = new Set([
  'RequestTimeout',
  'ConnectionReset',
  'NetworkError',
  'InvalidResponse',
  'UnknownError',
  'ActivityTimeout',
]);

/**
 * Whether a failed `UpdateSmartAccessGatewayVersion` proves that the upgrade was not accepted.
 *
 * Only these answers do: a code Alibaba documents as a refusal, or any other Alibaba error body,
 * with a status below 500 (the SAG client reports a code with a status only when the body was
 * Alibaba's JSON), and a failure before the request left (`NotSent`, `ConnectionRefused`,
 * `CredentialsUnavailable`). Everything else is ambiguous: any 5xx of any code (`InternalError`,
 * `ServiceUnavailable`, `UnknownError`, even a documented refusal such as `PermissionError` with
 * its documented 500, a load balancer's 502/503/504), a body
 * that is not JSON, a timeout, a reset, a worker that died while the call was out. The call may
 * then have been acted on, and the device is watched before anything is sent again.
 *
 * Pure; the one place this question is answered.
 */
export function provesRefusal(code: string, httpStatus?: number): boolean {
  if (NEVER_SENT.has(code)) return true;
  // Any 5xx proves nothing, whatever code it carries: a load balancer or a gateway may answer
  // so after the service acted on the call.
  if (NOT_ALIBABA_ANSWERS.has(code) || (httpStatus !== undefined && httpStatus >= 500)) return false;
  if (DOCUMENTED_REFUSALS.has(code)) return true;
  if (code.startsWith('Throttling') || code === 'Rejected.Throttling')
    return httpStatus === undefined || httpStatus < 500;
  if (CREDENTIAL_PREFIXES.some((prefix) => code.startsWith(prefix)))
    return httpStatus === undefined || httpStatus < 500;
  return httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500;
}
