import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbeActivities, type RunProbeResult, type WaveQueryResult } from '../../activities/probe';
import type { ProbeSpec, WaveQuerySpec } from '../../domain/probe';

// A real HTTP server stands in for the operator's probe endpoint: /flaky fails its first N answers
// per device; every request's token header is recorded.
let server: http.Server;
let base = '';
const seen: { path: string; token?: string }[] = [];
const failuresLeft = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: url.pathname, token: req.headers['x-probe-token'] as string | undefined });
    if (url.pathname.startsWith('/flaky/')) {
      const left = failuresLeft.get(url.pathname) ?? 0;
      failuresLeft.set(url.pathname, left - 1);
      res.writeHead(left > 0 ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ state: left > 0 ? 'down' : 'up' }));
      return;
    }
    if (url.pathname === '/rate') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { result: [{ value: [0, url.searchParams.get('v') ?? '0'] }] } }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const acts = createProbeActivities({
  probeHeaders: (name): Record<string, string> =>
    name === 'branch' ? { 'X-Probe-Token': 'tok-secret-1' } : {},
});
const env = () => new MockActivityEnvironment();
const probe = (spec: ProbeSpec, smartAgId: string): Promise<RunProbeResult> =>
  env().run((i: Parameters<typeof acts.runProbe>[0]) => acts.runProbe(i), {
    spec,
    device: { smartAgId, regionId: 'cn-shanghai' },
  });
const query = (spec: WaveQuerySpec): Promise<WaveQueryResult> =>
  env().run((i: Parameters<typeof acts.runWaveQuery>[0]) => acts.runWaveQuery(i), { spec });

const spec = (over: Partial<ProbeSpec> = {}): ProbeSpec => ({
  name: 'branch',
  url: `${base}/flaky/{SmartAGId}`,
  method: 'GET',
  expectStatus: 200,
  jsonPath: '$.state',
  equals: 'up',
  timeoutMs: 2000,
  intervalMs: 20,
  successes: 3,
  failureLimit: 5,
  ...over,
});

describe('runProbe', () => {
  it('passes a probe that fails a few times only after the required successes in a row', async () => {
    failuresLeft.set('/flaky/sag-p1', 2);
    const r = await probe(spec(), 'sag-p1');
    expect(r).toEqual({ calls: [], passed: true, attempts: 5, evidence: '3 passing answers in a row' });
    expect(seen.filter((s) => s.path === '/flaky/sag-p1')).toHaveLength(5);
  });

  it('fails a probe at its failure limit with the last answer as evidence', async () => {
    failuresLeft.set('/flaky/sag-p2', 100);
    const r = await probe(spec({ failureLimit: 3 }), 'sag-p2');
    expect(r).toEqual({
      calls: [],
      passed: false,
      attempts: 3,
      evidence: '3 failing answers, the last: HTTP 503, expected 200',
    });
  });

  it('sends the secret headers from the worker, by the probe name, and keeps them out of the result', async () => {
    failuresLeft.set('/flaky/sag-p3', 0);
    const r = await probe(spec({ successes: 1 }), 'sag-p3');
    expect(seen.filter((s) => s.path === '/flaky/sag-p3').map((s) => s.token)).toEqual(['tok-secret-1']);
    expect(JSON.stringify(r)).not.toContain('tok-secret');
  });

  it('fails at once when the URL names a field the device lacks, sending nothing', async () => {
    const before = seen.length;
    const r = await probe(spec({ url: `${base}/flaky/{tags.site}` }), 'sag-p4');
    expect(r).toEqual({
      calls: [],
      passed: false,
      attempts: 0,
      evidence: 'the URL names fields the device lacks: tags.site',
    });
    expect(seen.length).toBe(before);
  });

  it('counts a refused connection as a failing answer', async () => {
    const r = await probe(spec({ url: 'http://127.0.0.1:1/x', failureLimit: 2 }), 'sag-p5');
    expect(r).toEqual({
      calls: [],
      passed: false,
      attempts: 2,
      evidence: '2 failing answers, the last: connection failed',
    });
  });
});

describe('runWaveQuery', () => {
  const q = (v: string): WaveQuerySpec => ({
    name: 'error-rate',
    url: `${base}/rate?v=${v}`,
    jsonPath: '$.data.result[0].value[1]',
    max: 0.05,
    timeoutMs: 2000,
  });
  it('holds the number against the threshold', async () => {
    expect(await query(q('0.01'))).toEqual({ value: 0.01 });
    expect(await query(q('0.2'))).toEqual({ value: 0.2, breach: 'error-rate = 0.2 > 0.05' });
    expect(await query({ ...q('1'), url: `${base}/nothing` })).toEqual({ error: 'HTTP 404' });
  });
});
