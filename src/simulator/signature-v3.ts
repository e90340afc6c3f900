import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { percentEncode, rpcTimestamp } from './signature';

/**
 * Alibaba Cloud signature V3 (`ACS3-HMAC-SHA256`), as documented in "V3 request structure and
 * signature". The action and API version travel in the `x-acs-action` and `x-acs-version`
 * headers; the request is canonicalised as
 *
 *     METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedRequestPayload
 *
 * (CanonicalHeaders: `name:trimmed value\n` for every signed header, names lower-case and sorted;
 * HashedRequestPayload: the hex SHA-256 of the body, also sent as `x-acs-content-sha256`), the
 * string to sign is `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request, and the
 * signature is the hex HMAC-SHA256 of that string keyed by the AccessKey secret itself (V2 appends
 * `&`, V3 does not). The `Authorization` header carries
 * `ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b;c>,Signature=<hex>`.
 */

export const ACS3_HMAC_SHA256 = 'ACS3-HMAC-SHA256';

/** Headers a V3 request must sign whenever it carries them (the documented set). */
export function mustSign(headerName: string): boolean {
  const name = headerName.toLowerCase();
  return name === 'host' || name === 'content-type' || name.startsWith('x-acs-');
}

/** Headers every V3 request carries and signs. */
export const REQUIRED_SIGNED_HEADERS = [
  'host',
  'x-acs-action',
  'x-acs-content-sha256',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-version',
] as const;

/** Lower-case hex SHA-256. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Byte order of the UTF-16 code units: parameter and header names are ASCII, so it is the UTF-8 byte order. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The canonical URI: each path segment RFC 3986-encoded; an RPC request's path is `/`. */
export function canonicalUri(path: string): string {
  if (path === '') return '/';
  return path
    .split('/')
    .map((segment) => percentEncode(decodeSegment(segment)))
    .join('/');
}

/** The canonical query string: pairs sorted by name (then value), names and values RFC 3986-encoded. */
export function canonicalQueryString(pairs: readonly (readonly [string, string])[]): string {
  return [...pairs]
    .sort((a, b) => byteOrder(a[0], b[0]) || byteOrder(a[1], b[1]))
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
}

function headerValue(headers: IncomingHttpHeaders | Readonly<Record<string, string>>, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim();
}

/** `name:value\n` for every signed header, sorted by name. */
export function canonicalHeaders(
  headers: IncomingHttpHeaders | Readonly<Record<string, string>>,
  signedHeaders: readonly string[],
): string {
  let out = '';
  for (const name of [...signedHeaders].sort(byteOrder)) out += `${name}:${headerValue(headers, name)}\n`;
  return out;
}

export interface CanonicalRequestParts {
  method: string;
  /** The request path as sent (before `?`). */
  path: string;
  /** The query string's name/value pairs, decoded. */
  query: readonly (readonly [string, string])[];
  /** Header names in lower case, as Node delivers them. */
  headers: IncomingHttpHeaders | Readonly<Record<string, string>>;
  /** Lower-case names the signature covers. */
  signedHeaders: readonly string[];
  /** Hex SHA-256 of the body. */
  hashedPayload: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  const signed = [...parts.signedHeaders].sort(byteOrder);
  return [
    parts.method.toUpperCase(),
    canonicalUri(parts.path),
    canonicalQueryString(parts.query),
    canonicalHeaders(parts.headers, signed),
    signed.join(';'),
    parts.hashedPayload,
  ].join('\n');
}

/** `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request. */
export function stringToSignV3(canonical: string): string {
  return `${ACS3_HMAC_SHA256}\n${sha256Hex(canonical)}`;
}

/** Hex HMAC-SHA256 of the string to sign, keyed by the secret as it is. */
export function signV3(stringToSign: string, secret: string): string {
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

/** The parts of an `Authorization` header. */
export interface Acs3Authorization {
  /** `ACS3-HMAC-SHA256`, or whatever else the client named. */
  algorithm: string;
  /** The AccessKeyId. */
  credential: string;
  /** Lower-case header names. */
  signedHeaders: string[];
  signature: string;
}

/**
 * Reads `<Algorithm> Credential=…,SignedHeaders=…,Signature=…`. Returns undefined when the
 * header does not have that form or one of the three parts is missing or empty.
 */
export function parseAuthorization(value: string): Acs3Authorization | undefined {
  const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(value);
  if (!m) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[2]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) return undefined;
  const names = signedHeaders.split(';').map((h) => h.trim().toLowerCase());
  if (names.some((h) => h === '')) return undefined;
  return { algorithm: m[1]!, credential, signedHeaders: names, signature };
}

/**
 * Whether a request uses signature V3: it carries an `Authorization` header, or it has the V3
 * headers (`x-acs-date`, `x-acs-signature-nonce`) and no V2 `Signature` parameter. pop-core's V2
 * requests also send `x-acs-action` and `x-acs-version`, so those alone decide nothing.
 */
export function isV3Request(headers: IncomingHttpHeaders, params: Readonly<Record<string, string>>): boolean {
  if (headers.authorization !== undefined) return true;
  if (params.Signature !== undefined) return false;
  return headers['x-acs-date'] !== undefined || headers['x-acs-signature-nonce'] !== undefined;
}

/**
 * Parameters of a V3 body as the SDKs send them: a form (`application/x-www-form-urlencoded`) or
 * a JSON object (`application/json`), whose arrays and nested objects become indexed names
 * (`Key.1`, `Key.1.Sub`), as in the query form. Other content types carry no parameters.
 * @throws SyntaxError when a JSON body is not a JSON object.
 */
export function bodyParameters(contentType: string | undefined, body: string): Record<string, string> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const out: Record<string, string> = {};
  if (!body) return out;
  if (type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  } else if (type === 'application/json') {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new SyntaxError('the JSON body is not an object');
    flatten(parsed, '', out);
  }
  return out;
}

function flatten(value: unknown, prefix: string, out: Record<string, string>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, `${prefix}.${i + 1}`, out));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out[prefix] = String(value);
  }
}

/** A V3 request to sign by hand (tests and tools). */
export interface V3RequestToSign {
  method: 'GET' | 'POST';
  /** The `host` header: `smartag.cn-shanghai.aliyuncs.com`, `127.0.0.1:8080`. */
  host: string;
  action: string;
  /** Default `2018-03-13`. */
  version?: string;
  /** Default `/`. */
  path?: string;
  query?: Readonly<Record<string, string>>;
  body?: string;
  /** Sent (and signed) when there is a body. */
  contentType?: string;
}

/**
 * The headers of a signed V3 request, `Authorization` included (and `x-acs-security-token` for
 * STS keys). `extraHeaders` are added before signing (an `x-acs-*` one is signed with the rest).
 */
export function signV3Request(
  request: V3RequestToSign,
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
  options: { date?: string; nonce?: string; extraHeaders?: Readonly<Record<string, string>> } = {},
): Record<string, string> {
  const body = request.body ?? '';
  const hashedPayload = sha256Hex(body);
  const headers: Record<string, string> = {
    host: request.host,
    'x-acs-action': request.action,
    'x-acs-version': request.version ?? '2018-03-13',
    'x-acs-date': options.date ?? rpcTimestamp(),
    'x-acs-signature-nonce': options.nonce ?? globalThis.crypto.randomUUID().replace(/-/g, ''),
    'x-acs-content-sha256': hashedPayload,
  };
  if (body && request.contentType) headers['content-type'] = request.contentType;
  if (credentials.securityToken) headers['x-acs-security-token'] = credentials.securityToken;
  for (const [k, v] of Object.entries(options.extraHeaders ?? {})) headers[k.toLowerCase()] = v;
  const signed = Object.keys(headers).filter(mustSign).sort(byteOrder);
  const canonical = canonicalRequest({
    method: request.method,
    path: request.path ?? '/',
    query: Object.entries(request.query ?? {}),
    headers,
    signedHeaders: signed,
    // What the client claims, so that a tampered x-acs-content-sha256 is signed consistently.
    hashedPayload: headers['x-acs-content-sha256'] ?? hashedPayload,
  });
  const signature = signV3(stringToSignV3(canonical), credentials.accessKeySecret);
  headers.authorization = `${ACS3_HMAC_SHA256} Credential=${credentials.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
  return headers;
}
