import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { InputError, ProblemList } from '../common/errors';

/**
 * Where the worker's webhooks are: a policy names a webhook (`webhooks: [{ name: ops-chat }]`),
 * and only the worker knows its URL and headers, from its environment
 * (`SAG_WEBHOOK_<NAME>_URL`, `SAG_WEBHOOK_<NAME>_HEADERS`) or a file (`worker --webhooks FILE`,
 * or `SAG_WEBHOOKS_FILE`). Chat webhook URLs carry their token (Slack's path, DingTalk's
 * `access_token`, Feishu's `/hook/<token>`, WeCom's `key`), so none of this ever enters a workflow
 * payload, a log line or an error message: errors name the variable or the file entry, never a
 * value.
 */

/** A webhook name in a policy: it becomes part of an environment variable name. */
export const WEBHOOK_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/** An HTTP header name (an RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** One webhook as the worker delivers to it. */
export interface WebhookEndpoint {
  /** The name as configured (the file's key, or the key of the environment variable). */
  label: string;
  url: string;
  /** Sent with every delivery; `content-type` is always `application/json`. */
  headers: Record<string, string>;
  source: 'env' | 'file';
}

/** The worker's webhooks, by {@link webhookKey}. Held in memory only. */
export type WebhookDirectory = Readonly<Record<string, WebhookEndpoint>>;

/** The key a name is matched by: `ops-chat`, `OPS_CHAT` and `ops_chat` are one webhook. */
export function webhookKey(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The environment variable holding a webhook's URL: `SAG_WEBHOOK_OPS_CHAT_URL` for `ops-chat`. */
export function webhookUrlVar(name: string): string {
  return `SAG_WEBHOOK_${webhookKey(name)}_URL`;
}

/** The environment variable holding a webhook's headers (a JSON object). */
export function webhookHeadersVar(name: string): string {
  return `SAG_WEBHOOK_${webhookKey(name)}_HEADERS`;
}

/** The webhook a policy names, if the directory has it. */
export function lookupWebhook(directory: WebhookDirectory, name: string): WebhookEndpoint | undefined {
  return directory[webhookKey(name)];
}

/** How to configure a webhook the worker does not know; names variables, never values. */
export function howToConfigure(name: string): string {
  return `set ${webhookUrlVar(name)} in the worker's environment, or add ${name} to its --webhooks file (SAG_WEBHOOKS_FILE), and restart it`;
}

/** `ops-chat (env), alerts (file)`: what a directory holds, without a URL. */
export function describeWebhooks(directory: WebhookDirectory): string {
  const rows = Object.values(directory).map((e) => `${e.label} (${e.source})`);
  return rows.length > 0 ? rows.sort().join(', ') : 'none';
}

function checkUrl(value: unknown, where: string, problems: ProblemList): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(`${where}: required, an http(s) URL`);
    return undefined;
  }
  let ok: boolean;
  try {
    const u = new URL(value.trim());
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  // The value is never echoed: it may hold the webhook's token.
  if (!ok) problems.add(`${where}: not an http(s) URL`);
  return ok ? value.trim() : undefined;
}

function checkHeaders(value: unknown, where: string, problems: ProblemList): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.add(`${where}: must be a map of header names to text values`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (!HEADER_NAME.test(name)) problems.add(`${where}: ${JSON.stringify(name)} is not a header name`);
    else if (name.toLowerCase() === 'content-type')
      problems.add(`${where}.${name}: set by the worker (application/json)`);
    else if (typeof v !== 'string' || /[\r\n]/.test(v))
      problems.add(`${where}.${name}: must be text on one line`);
    else out[name] = v;
  }
  return out;
}

/**
 * Reads a webhooks file: a YAML or JSON map of name to `{ url, headers }`.
 *
 * ```yaml
 * ops-chat:
 *   url: https://hooks.slack.com/services/T000/B000/XXXX
 * alerts:
 *   url: https://alerts.example.com/sag
 *   headers: { Authorization: Bearer … }
 * ```
 * @throws {InputError} naming every bad entry and field, never a value.
 */
export function parseWebhookFile(text: string, source: string): Record<string, WebhookEndpoint> {
  let data: unknown;
  try {
    data = parseYaml(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new InputError([`${source}${line ? ` line ${line}` : ''}: not valid YAML or JSON`]);
  }
  data ??= {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError([`${source}: must be a map of webhook names to { url, headers }`]);
  }
  const problems = new ProblemList();
  const out: Record<string, WebhookEndpoint> = {};
  const seen: Record<string, string> = {};
  for (const [name, entry] of Object.entries(data as Record<string, unknown>)) {
    const where = `${source}: ${name}`;
    if (!WEBHOOK_NAME.test(name)) {
      problems.add(`${where}: a name is a letter, then letters, digits, '-' or '_' (at most 63)`);
      continue;
    }
    const key = webhookKey(name);
    if (seen[key] !== undefined) {
      problems.add(`${where}: the same webhook as ${seen[key]} (names match ignoring case, '-' and '_')`);
      continue;
    }
    seen[key] = name;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.add(`${where}: must be { url, headers }`);
      continue;
    }
    const { url, headers, ...rest } = entry as Record<string, unknown>;
    for (const k of Object.keys(rest)) problems.add(`${where}.${k}: unknown field`);
    const checkedUrl = checkUrl(url, `${where}.url`, problems);
    const checkedHeaders = checkHeaders(headers, `${where}.headers`, problems);
    if (checkedUrl) out[key] = { label: name, url: checkedUrl, headers: checkedHeaders, source: 'file' };
  }
  problems.throwIfAny(`${source} is not a valid webhooks file:`);
  return out;
}

/**
 * The worker's webhooks: the file (`file`, else `SAG_WEBHOOKS_FILE`), then every
 * `SAG_WEBHOOK_<NAME>_URL` of the environment (with `SAG_WEBHOOK_<NAME>_HEADERS`, a JSON object),
 * which wins over the file for the same name.
 * @throws {InputError} naming every bad variable or entry, never a value.
 */
export function loadWebhooks(o: { env: NodeJS.ProcessEnv; file?: string }): WebhookDirectory {
  const file = o.file ?? (o.env.SAG_WEBHOOKS_FILE?.trim() || undefined);
  const out: Record<string, WebhookEndpoint> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError([
        `webhooks file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot be read'}`,
      ]);
    }
    Object.assign(out, parseWebhookFile(text, file));
  }
  const problems = new ProblemList();
  const urls = new Set<string>();
  for (const [name, value] of Object.entries(o.env)) {
    const m = /^SAG_WEBHOOK_([A-Z0-9_]+)_URL$/.exec(name);
    if (!m || value === undefined) continue;
    const key = m[1]!;
    urls.add(key);
    const url = checkUrl(value, name, problems);
    let headers: Record<string, string> = {};
    const rawHeaders = o.env[`SAG_WEBHOOK_${key}_HEADERS`];
    if (rawHeaders !== undefined && rawHeaders.trim() !== '') {
      try {
        headers = checkHeaders(JSON.parse(rawHeaders) as unknown, `SAG_WEBHOOK_${key}_HEADERS`, problems);
      } catch {
        problems.add(`SAG_WEBHOOK_${key}_HEADERS: not a JSON object of header names to text values`);
      }
    }
    if (url) out[key] = { label: key.toLowerCase().replace(/_/g, '-'), url, headers, source: 'env' };
  }
  for (const name of Object.keys(o.env)) {
    const m = /^SAG_WEBHOOK_([A-Z0-9_]+)_HEADERS$/.exec(name);
    if (m && !urls.has(m[1]!)) problems.add(`${name}: set, but SAG_WEBHOOK_${m[1]!}_URL is not`);
  }
  problems.throwIfAny('the webhook configuration is not valid:');
  return out;
}

/** Whether an environment configures any webhook (a file or a `SAG_WEBHOOK_*_URL`). */
export function hasWebhookConfiguration(env: NodeJS.ProcessEnv, file?: string): boolean {
  return (
    Boolean(file ?? env.SAG_WEBHOOKS_FILE?.trim()) ||
    Object.keys(env).some((k) => /^SAG_WEBHOOK_[A-Z0-9_]+_URL$/.test(k))
  );
}
