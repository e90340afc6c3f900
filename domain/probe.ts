/**
 * Custom health checks defined in the policy, as Argo Rollouts' web analysis does them: an HTTP
 * probe per device after its upgrade (a URL template filled from the device, an expected status,
 * a regex or a JSON path on the body, N successes in a row), and a query per wave whose number
 * is held against a threshold. Pure: the activities do the HTTP, this decides.
 */

/** A per-device HTTP probe as the policy defines it (durations resolved to ms). */
export interface ProbeSpec {
  /** Names the probe in outcomes and reports; its secret headers come from the worker's environment under this name. */
  name: string;
  /** e.g. `https://probe.example/branch/{SmartAGId}?site={tags.site}` */
  url: string;
  method: 'GET' | 'POST' | 'HEAD';
  /** The status that counts as a success (default 200). */
  expectStatus: number;
  /** The body must match this regex. */
  bodyRegex?: string;
  /** The value at this JSON path (`$.a.b[0]`) must equal `equals` (as text), or exist when `equals` is absent. */
  jsonPath?: string;
  equals?: string;
  timeoutMs: number;
  intervalMs: number;
  /** Successes in a row that pass the probe. */
  successes: number;
  /** Failures, in all, that fail it. */
  failureLimit: number;
}

/** A wave-level query: after each wave's bake, its numeric answer is held against `max` / `min`. */
export interface WaveQuerySpec {
  name: string;
  url: string;
  /** Where the number is in a JSON answer; the whole body when absent. */
  jsonPath?: string;
  max?: number;
  min?: number;
  timeoutMs: number;
}

/** The device fields a URL template may name. */
export interface ProbeDevice {
  smartAgId: string;
  regionId: string;
  serialNumbers?: string[];
  group?: string;
  tags?: string[];
}

/**
 * Fills `{SmartAGId}`, `{RegionId}`, `{SerialNumber}` (the first), `{group}`, `{tags.<key>}` (the
 * value of a `key=value` tag) and `{tags}` (all, comma-joined), each URL-encoded.
 * @returns the URL, or the placeholders it could not fill.
 */
export function fillTemplate(template: string, d: ProbeDevice): { url: string } | { missing: string[] } {
  const missing: string[] = [];
  const url = template.replace(/\{([A-Za-z0-9_.-]+)\}/g, (_m, key: string) => {
    const value = fieldOf(key, d);
    if (value === undefined) {
      missing.push(key);
      return '';
    }
    return encodeURIComponent(value);
  });
  return missing.length > 0 ? { missing } : { url };
}

function fieldOf(key: string, d: ProbeDevice): string | undefined {
  if (key === 'SmartAGId') return d.smartAgId;
  if (key === 'RegionId') return d.regionId;
  if (key === 'SerialNumber') return d.serialNumbers?.[0];
  if (key === 'group') return d.group;
  if (key === 'tags') return d.tags?.join(',');
  if (key.startsWith('tags.')) {
    const name = key.slice(5);
    const tag = d.tags?.find((t) => t.startsWith(`${name}=`));
    return tag?.slice(name.length + 1);
  }
  return undefined;
}

const JSON_PATH = /^\$((\.[A-Za-z_$][\w$-]*)|(\[\d+\])|(\["[^"]*"\]))*$/;

/** Whether a JSON path is of the supported form. */
export function isJsonPath(path: string): boolean {
  return JSON_PATH.test(path);
}

/** The value at a JSON path of the form `$.a.b[0].c` (`$` alone is the whole value). */
export function jsonPathValue(value: unknown, path: string): unknown {
  if (!isJsonPath(path)) return undefined;
  let cur: unknown = value;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["([^"]*)"\]/g)) {
    const key = m[1] ?? m[3];
    if (key !== undefined) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    } else {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(m[2])];
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** One probe answer judged: undefined when it passes, else why not (evidence for the outcome). */
export function judgeAnswer(spec: ProbeSpec, status: number, body: string): string | undefined {
  if (status !== spec.expectStatus) return `HTTP ${status}, expected ${spec.expectStatus}`;
  if (spec.bodyRegex !== undefined && !new RegExp(spec.bodyRegex).test(body))
    return `body does not match /${spec.bodyRegex}/`;
  if (spec.jsonPath !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return 'body is not JSON';
    }
    const v = jsonPathValue(parsed, spec.jsonPath);
    if (v === undefined) return `${spec.jsonPath} is absent`;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (spec.equals !== undefined && text !== spec.equals) return `${spec.jsonPath} is not ${spec.equals}`;
  }
  return undefined;
}

/** The number a wave query answered, or why there is none. */
export function queryNumber(spec: WaveQuerySpec, body: string): { value: number } | { error: string } {
  let raw: unknown = body.trim();
  if (spec.jsonPath !== undefined) {
    try {
      raw = jsonPathValue(JSON.parse(body), spec.jsonPath);
    } catch {
      return { error: 'answer is not JSON' };
    }
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw !== '' ? Number(raw) : NaN;
  return Number.isFinite(n) ? { value: n } : { error: 'answer holds no number' };
}

/** Whether a wave query's number breaches its threshold; the reason when it does. */
export function queryBreach(spec: WaveQuerySpec, value: number): string | undefined {
  if (spec.max !== undefined && value > spec.max) return `${spec.name} = ${value} > ${spec.max}`;
  if (spec.min !== undefined && value < spec.min) return `${spec.name} = ${value} < ${spec.min}`;
  return undefined;
}

/** The environment variable that holds a probe's or query's headers (a JSON object), by its name. */
export function probeHeadersVariable(name: string): string {
  return `SAG_PROBE_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_HEADERS`;
}
