/**
 * How a smartag call travels: the HTTP exchange and its signature, behind one interface so the
 * client (./client.ts) keeps a single path for rate limiting, auditing, parsing and error mapping.
 *
 * - `v2` (default): `@alicloud/pop-core`, the V2 RPC signature (HMAC-SHA1 over the parameters).
 * - `v3`: `@alicloud/openapi-client`, signature V3 (`ACS3-HMAC-SHA256` in the `Authorization` header).
 */

/** The smartag API version every call names. */
export const SMARTAG_API_VERSION = '2018-03-13';

export const SAG_SIGNATURES = ['v2', 'v3'] as const;
export type SagSignature = (typeof SAG_SIGNATURES)[number];
export const DEFAULT_SAG_SIGNATURE: SagSignature = 'v2';

/** What the transports need from a credential source; `@alicloud/credentials` providers fit it. */
export interface SagCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface SagCredentialsProvider {
  getCredentials(): Promise<SagCredentials>;
}

/** Parameter values as the SDKs take them: arrays become `Name.1` … `Name.N`. */
export type RpcParams = Record<string, string | number | string[]>;

export interface TransportResponse {
  /** The parsed JSON body. */
  body: unknown;
  httpStatus: number | undefined;
}

/** One smartag call over HTTP. */
export interface SagTransport {
  readonly signature: SagSignature;
  /**
   * POSTs `action` with `params` to `endpoint`, asking `credentials` for keys first. Rejects with
   * whatever the SDK throws (an API error, a transport error, a credential failure): the client
   * hands that to `normalizeError`, or a `ShapeError` for a body that is not a JSON object.
   */
  call(endpoint: string, action: string, params: RpcParams, timeoutMs: number): Promise<TransportResponse>;
}

/**
 * Reads a signature choice (`v2` or `v3`, any case) from a flag or an environment variable.
 * Returns undefined for an empty value.
 * @throws Error naming `source` and the values it accepts.
 */
export function parseSagSignature(value: string | undefined, source: string): SagSignature | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if ((SAG_SIGNATURES as readonly string[]).includes(v)) return v as SagSignature;
  throw new Error(
    `${source}: ${JSON.stringify(value)} is not a signature version; use v2 (pop-core, HMAC-SHA1) or v3 (openapi-client, ACS3-HMAC-SHA256)`,
  );
}
