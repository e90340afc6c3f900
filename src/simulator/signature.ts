import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Alibaba Cloud RPC signature, version 1.0 (HMAC-SHA1), as documented for every V2 RPC
 * product: sort the parameters by key, percent-encode keys and values (RFC 3986 unreserved set
 * stays literal, a space is `%20`, `*` is `%2A`), join them, and sign
 * `METHOD&%2F&percentEncode(canonical)` with the key `secret + "&"`.
 */

/** RFC 3986 percent-encoding as Alibaba's signature requires it. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** The canonicalised query string: every parameter except `Signature`, sorted by key in byte order. */
export function canonicalize(params: Readonly<Record<string, string>>): string {
  const keys = Object.keys(params).filter((k) => k !== 'Signature');
  // Byte order of the UTF-8 keys: parameter names are ASCII, so code-unit order is the same.
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = '';
  for (const k of keys) {
    if (out) out += '&';
    out += percentEncode(k) + '=' + percentEncode(params[k] ?? '');
  }
  return out;
}

/** The string the signature covers. */
export function stringToSign(params: Readonly<Record<string, string>>, method: string): string {
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalize(params))}`;
}

/**
 * Signs RPC parameters and returns the Base64 signature (not percent-encoded). `Signature`, if
 * present in `params`, is ignored.
 */
export function signRpc(params: Readonly<Record<string, string>>, method: string, secret: string): string {
  return createHmac('sha1', secret + '&')
    .update(stringToSign(params, method))
    .digest('base64');
}

/** Constant-time comparison of a presented signature with the expected one. */
export function signaturesMatch(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** UTC ISO 8601 without milliseconds, the `Timestamp` format of the RPC protocol. */
export function rpcTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Builds a complete signed parameter set for a request (used by tests and tools that craft
 * requests by hand). Returns the parameters including `Signature`.
 */
export function signedParams(
  action: string,
  params: Readonly<Record<string, string>>,
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
  options: { method?: 'GET' | 'POST'; version?: string; timestamp?: string; nonce?: string } = {},
): Record<string, string> {
  const all: Record<string, string> = {
    Action: action,
    Format: 'JSON',
    Version: options.version ?? '2018-03-13',
    AccessKeyId: credentials.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: options.nonce ?? cryptoNonce(),
    Timestamp: options.timestamp ?? rpcTimestamp(),
    ...(credentials.securityToken ? { SecurityToken: credentials.securityToken } : {}),
    ...params,
  };
  all.Signature = signRpc(all, options.method ?? 'GET', credentials.accessKeySecret);
  return all;
}

function cryptoNonce(): string {
  return globalThis.crypto.randomUUID().replace(/-/g, '');
}
