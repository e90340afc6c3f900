/**
 * Removes anything that could identify or replay a credential from text that may reach a log,
 * an error message or a Temporal failure: URLs' query strings, signed-parameter and signed-header
 * values, a server's echoed string-to-sign or canonical request (V2 and V3), and any literal
 * secret the caller names.
 */

/** Parameters whose value must never be shown, in any of their encodings. */
const SENSITIVE_KEYS = [
  'AccessKeyId',
  'AccessKeySecret',
  'SecretAccessKey',
  'Signature',
  'SecurityToken',
  'SignatureNonce',
  'SecretKey',
  // signature V3: the Authorization header's parts and the x-acs-* headers that carry keys
  'Credential',
  'Authorization',
  'x-acs-security-token',
  'x-acs-accesskey-id',
  'x-acs-signature-nonce',
  // credential files and the CLI's config.json
  'access_key_id',
  'access_key_secret',
  'sts_token',
  'security_token',
];

/** `=` as it appears raw, percent-encoded once (in a URL) or twice (in a string-to-sign). */
const KEY_VALUE = new RegExp(`(${SENSITIVE_KEYS.join('|')})(=|%3D|%253D)[^&\\s"',;)]*`, 'gi');
/** `"AccessKeyId":"..."` or `AccessKeyId: ...` in echoed JSON or headers. */
const KEY_COLON = new RegExp(`("?(?:${SENSITIVE_KEYS.join('|')})"?\\s*:\\s*)("[^"]*"|[^\\s,}]+)`, 'gi');
/** Any URL: keep scheme, host and path, drop the query and fragment. */
const URL_QUERY = /\b(https?:\/\/[^\s?#"']*)[?#][^\s"']*/gi;

/** Replaced text. */
export const REDACTED = '***';

/**
 * Scrubs `text`. `secrets` are literal values (keys, tokens) to remove wherever they appear;
 * values shorter than 4 characters are ignored so that scrubbing cannot mangle ordinary words.
 */
export function scrubText(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  // pop-core appends `, URL: <signed url>` to API error messages.
  out = out.replace(/,\s*URL:\s*\S*/g, '');
  // A live SignatureDoesNotMatch message echoes the whole string-to-sign, which holds the
  // AccessKeyId and any SecurityToken (V2), or the canonical request, which holds the signed
  // headers and so any x-acs-security-token (V3).
  out = out.replace(/(string to sign is:?).*$/is, `$1 ${REDACTED}`);
  out = out.replace(/(StringToSign is|CanonicalRequest is)\s*\[.*$/is, `$1 ${REDACTED}`);
  out = out.replace(URL_QUERY, `$1?${REDACTED}`);
  out = out.replace(KEY_VALUE, `$1$2${REDACTED}`);
  out = out.replace(KEY_COLON, `$1${REDACTED}`);
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue;
    const once = encodeURIComponent(secret);
    for (const form of [secret, once, encodeURIComponent(once)]) out = out.split(form).join(REDACTED);
  }
  return out;
}
