import { probeHeadersVariable } from '../../domain/probe';

/**
 * The headers a probe or wave query sends, by its name, from the worker's environment:
 * `SAG_PROBE_<NAME>_HEADERS`, a JSON object of header names to text values (tokens belong here,
 * never in a policy, which lands in workflow history). A malformed value sends no header and
 * says so without echoing it.
 */
export function probeHeadersFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  warn: (message: string) => void = () => undefined,
): Record<string, string> {
  const variable = probeHeadersVariable(name);
  const raw = env[variable];
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    warn(`${variable}: not a JSON object of header names to text values; no header is sent`);
    return {};
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((v) => typeof v === 'string')
  ) {
    warn(`${variable}: not a JSON object of header names to text values; no header is sent`);
    return {};
  }
  return parsed as Record<string, string>;
}
