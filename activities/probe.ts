import { heartbeat, sleep } from '@temporalio/activity';
import {
  fillTemplate,
  judgeAnswer,
  queryBreach,
  queryNumber,
  type ProbeDevice,
  type ProbeSpec,
  type WaveQuerySpec,
} from '../domain/probe';

export interface ProbeDeps {
  /** A probe's or query's headers by its name, from the worker's environment; never from a workflow input. */
  probeHeaders?: (name: string) => Record<string, string>;
}

export interface RunProbeResult {
  passed: boolean;
  attempts: number;
  /** What the last failing answer was, or how it passed. */
  evidence: string;
}

export interface WaveQueryResult {
  value?: number;
  /** Why the wave breached its threshold, or why the query gave no number. */
  breach?: string;
  error?: string;
}

async function fetchText(
  url: string,
  method: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; body: string } | { error: string }> {
  try {
    // Redirects are not followed: the probe's headers go to the URL the policy names and nowhere else.
    const res = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: method === 'HEAD' ? '' : await res.text() };
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    return { error: name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed' };
  }
}

/** The per-device HTTP probes and the wave-level query of a policy. */
export function createProbeActivities(deps: ProbeDeps) {
  const headersOf = (name: string) => deps.probeHeaders?.(name) ?? {};
  return {
    /**
     * Runs one probe against one device until it has `successes` passing answers in a row (passed)
     * or `failureLimit` failing ones (failed). Heartbeats between attempts.
     */
    async runProbe(input: { spec: ProbeSpec; device: ProbeDevice }): Promise<RunProbeResult & { calls: [] }> {
      const { spec } = input;
      const filled = fillTemplate(spec.url, input.device);
      if ('missing' in filled)
        return {
          calls: [],
          passed: false,
          attempts: 0,
          evidence: `the URL names fields the device lacks: ${filled.missing.join(', ')}`,
        };
      let inRow = 0;
      let failures = 0;
      let attempts = 0;
      for (;;) {
        attempts += 1;
        const answer = await fetchText(filled.url, spec.method, headersOf(spec.name), spec.timeoutMs);
        const why = 'error' in answer ? answer.error : judgeAnswer(spec, answer.status, answer.body);
        if (why === undefined) {
          inRow += 1;
          if (inRow >= spec.successes)
            return { calls: [], passed: true, attempts, evidence: `${inRow} passing answers in a row` };
        } else {
          inRow = 0;
          failures += 1;
          if (failures >= spec.failureLimit)
            return {
              calls: [],
              passed: false,
              attempts,
              evidence: `${failures} failing answers, the last: ${why}`,
            };
        }
        heartbeat({ attempts });
        await sleep(spec.intervalMs);
      }
    },

    /** Asks a wave query once and holds its number against the threshold. */
    async runWaveQuery(input: { spec: WaveQuerySpec }): Promise<WaveQueryResult> {
      const { spec } = input;
      const answer = await fetchText(spec.url, 'GET', headersOf(spec.name), spec.timeoutMs);
      if ('error' in answer) return { error: answer.error };
      if (answer.status !== 200) return { error: `HTTP ${answer.status}` };
      const n = queryNumber(spec, answer.body);
      if ('error' in n) return { error: n.error };
      const breach = queryBreach(spec, n.value);
      return breach === undefined ? { value: n.value } : { value: n.value, breach };
    },
  };
}
