/**
 * The one error type of the SAG client, and the mapping of everything its transports can throw
 * into it: `@alicloud/pop-core` (V2), `@alicloud/openapi-client` (V3) and the HTTP stack under
 * both (httpx).
 */
import { scrubText } from './internal/scrub';

/**
 * Codes the client reports for failures that carry no Alibaba `Code`.
 *
 * - `RequestTimeout`: no (complete) response within the client's timeout.
 * - `ConnectionRefused`: nothing listens at the endpoint.
 * - `ConnectionReset`: the connection dropped mid-request (`ECONNRESET`, `EPIPE`, socket hang up).
 * - `InvalidResponse`: the body was not JSON (an HTML 502 from a load balancer), or JSON of the
 *   wrong shape.
 * - `NetworkError`: any other socket or DNS failure.
 * - `CredentialsUnavailable`: the credential provider failed to produce keys.
 * - `UnknownError`: anything else (a defect, not a service condition).
 */
export type TransportCode =
  | 'RequestTimeout'
  | 'ConnectionRefused'
  | 'ConnectionReset'
  | 'InvalidResponse'
  | 'NetworkError'
  | 'CredentialsUnavailable'
  | 'UnknownError';

export interface SagErrorInit {
  /** Alibaba `Code`, or a {@link TransportCode}. */
  code: string;
  /** The smartag action (`UpdateSmartAccessGatewayVersion`). */
  action: string;
  /** Human-readable detail; scrubbed again on construction. */
  detail: string;
  httpStatus?: number;
  requestId?: string;
  hostId?: string;
}

/**
 * A failed smartag call. `message` never holds a credential, a signature, an AccessKeyId, a
 * SecurityToken or a signed URL; the original error is deliberately not kept as `cause`,
 * because the SDKs' errors carry the request URL, headers or the server's canonical request.
 */
export class SagError extends Error {
  override readonly name = 'SagError';
  /** Alibaba `Code` (`SmartAccessGatewayNotOnline`) or a {@link TransportCode}. */
  readonly code: string;
  readonly action: string;
  /** HTTP status of the response, when a response arrived and was parsed. */
  readonly httpStatus?: number;
  /** Alibaba `RequestId` of the failed call, when the service answered. */
  readonly requestId?: string;
  readonly hostId?: string;
  /** The scrubbed service message (or transport description) without the prefix. */
  readonly detail: string;

  constructor(init: SagErrorInit) {
    const detail = scrubText(init.detail);
    const status = init.httpStatus !== undefined ? ` (HTTP ${init.httpStatus})` : '';
    const request = init.requestId !== undefined ? ` [RequestId ${init.requestId}]` : '';
    super(`${init.action} failed with ${init.code}${status}: ${detail}${request}`);
    this.code = init.code;
    this.action = init.action;
    this.detail = detail;
    if (init.httpStatus !== undefined) this.httpStatus = init.httpStatus;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.hostId !== undefined) this.hostId = init.hostId;
  }

  /** A plain, JSON-native description (for logs and Temporal failure details). */
  toJSON(): { code: string; action: string; httpStatus?: number; requestId?: string; message: string } {
    const out: { code: string; action: string; httpStatus?: number; requestId?: string; message: string } = {
      code: this.code,
      action: this.action,
      message: this.message,
    };
    if (this.httpStatus !== undefined) out.httpStatus = this.httpStatus;
    if (this.requestId !== undefined) out.requestId = this.requestId;
    return out;
  }
}

/** Thrown by the client's wrapper around a credential provider, so a failed refresh is told apart. */
export class CredentialsFailure extends Error {
  override readonly name = 'CredentialsFailure';
}

/** Narrowing for values that may be null-prototype objects (json-bigint) or errors. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function read(obj: unknown, key: string): unknown {
  return isObject(obj) && key in obj ? obj[key] : undefined;
}

function readString(obj: unknown, key: string): string | undefined {
  const value = read(obj, key);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function messageOf(err: unknown): string {
  const message = read(err, 'message');
  if (typeof message === 'string') return message;
  return typeof err === 'string' ? err : 'unknown failure';
}

/** httpx appends `<METHOD> <url> failed.` with no separator; the URL adds nothing once scrubbed. */
function stripHttpxSuffix(message: string): string {
  return message.replace(/(GET|POST|PUT|DELETE|HEAD)\s+\S+\s+failed\.\s*$/, '').trim();
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EPROTO',
  'ECERT',
]);

function transportCode(err: unknown): TransportCode | undefined {
  const name = readString(err, 'name');
  const code = readString(err, 'code');
  const message = messageOf(err);
  if (name === 'RequestTimeoutError' || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT')
    return 'RequestTimeout';
  if (code === 'ECONNREFUSED') return 'ConnectionRefused';
  if ((code !== undefined && RESET_CODES.has(code)) || /socket hang up/i.test(message))
    return 'ConnectionReset';
  if (
    code !== undefined &&
    (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('CERT_'))
  )
    return 'NetworkError';
  // json-bigint (pop-core) throws a plain object `{name:'SyntaxError', message, at, text}`, not
  // an Error; JSON.parse (openapi-client) throws a real SyntaxError.
  if (name === 'SyntaxError') return 'InvalidResponse';
  return undefined;
}

/**
 * The HTTP status of an API error: pop-core keeps it at `err.entry.response.statusCode`,
 * openapi-client at `err.statusCode` (and `err.data.statusCode`).
 */
function statusOf(err: unknown): number | undefined {
  for (const value of [
    read(read(read(err, 'entry'), 'response'), 'statusCode'),
    read(err, 'statusCode'),
    read(read(err, 'data'), 'statusCode'),
  ]) {
    if (typeof value === 'number') return value;
  }
  return undefined;
}

/**
 * The Alibaba `Code` of an API error: the body's `Code` (or `code`), else the error's `code` when
 * it came with a body. openapi-client writes the string "undefined" there for a body without one.
 */
function apiCodeOf(err: unknown, data: unknown): string | undefined {
  const code =
    readString(data, 'Code') ??
    readString(data, 'code') ??
    (isObject(data) ? readString(err, 'code') : undefined);
  return code === 'undefined' ? undefined : code;
}

/**
 * Maps anything a smartag call can throw to a {@link SagError}:
 *
 * - an API error, from pop-core (`err.code`, `err.data.{RequestId,HostId,Message}`, the status at
 *   `err.entry.response.statusCode`) or from openapi-client (`err.code`, the same `err.data`,
 *   the status at `err.statusCode`; it throws on any 4xx/5xx, pop-core on a body `Code`): the
 *   Alibaba `Code`, status and RequestId;
 * - an openapi-client error for a 4xx/5xx JSON body without a `Code`: `InvalidResponse`, with
 *   the status;
 * - a body that is not JSON (json-bigint's plain-object `SyntaxError` under pop-core,
 *   `JSON.parse`'s `SyntaxError` under openapi-client): `InvalidResponse`;
 * - httpx's `RequestTimeoutError` (both SDKs): `RequestTimeout`;
 * - Node socket errors: `ConnectionRefused`, `ConnectionReset` (`ECONNRESET`, `EPIPE`, socket
 *   hang up), `NetworkError` (DNS, TLS, unreachable);
 * - a {@link CredentialsFailure}: `CredentialsUnavailable`;
 * - a {@link SagError}: returned unchanged;
 * - anything else: `UnknownError`.
 *
 * `secrets` are literal values removed from every message (the client passes the credentials
 * it used). Never throws.
 */
export function normalizeError(
  err: unknown,
  action: string,
  secrets: readonly (string | undefined)[] = [],
): SagError {
  if (err instanceof SagError) return err;
  const scrub = (text: string): string => scrubText(text, secrets);

  if (err instanceof CredentialsFailure) {
    return new SagError({
      code: 'CredentialsUnavailable',
      action,
      detail: scrub(`credential provider failed: ${err.message}`),
    });
  }

  const data = read(err, 'data');
  const status = statusOf(err);
  const apiCode = apiCodeOf(err, data);
  if (apiCode !== undefined || (isObject(data) && status !== undefined && status >= 400)) {
    const init: SagErrorInit = {
      code: apiCode ?? 'InvalidResponse',
      action,
      detail: scrub(
        apiCode !== undefined
          ? (readString(data, 'Message') ?? messageOf(err))
          : `HTTP ${status} without an error Code`,
      ),
    };
    if (status !== undefined) init.httpStatus = status;
    const requestId = readString(data, 'RequestId') ?? readString(data, 'requestId');
    if (requestId !== undefined) init.requestId = requestId;
    const hostId = readString(data, 'HostId');
    if (hostId !== undefined) init.hostId = hostId;
    return new SagError(init);
  }

  const transport = transportCode(err);
  if (transport === 'InvalidResponse') {
    // json-bigint keeps the body as `text`; JSON.parse's message quotes its start.
    const text = read(err, 'text');
    const sample = typeof text === 'string' ? text.replace(/\s+/g, ' ').trim().slice(0, 120) : '';
    const detail = `response body is not JSON (${messageOf(err)})${sample ? `: ${sample}` : ''}`;
    return new SagError({ code: transport, action, detail: scrub(detail) });
  }
  if (transport !== undefined) {
    return new SagError({
      code: transport,
      action,
      detail: scrub(stripHttpxSuffix(messageOf(err))) || transport,
    });
  }
  return new SagError({ code: 'UnknownError', action, detail: scrub(messageOf(err)) });
}

/** Type guard for {@link SagError}. */
export function isSagError(err: unknown): err is SagError {
  return err instanceof SagError;
}
