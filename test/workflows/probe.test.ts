import { describe, expect, it } from 'vitest';
import {
  fillTemplate,
  isJsonPath,
  judgeAnswer,
  jsonPathValue,
  probeHeadersVariable,
  queryBreach,
  queryNumber,
  type ProbeSpec,
} from '../../domain/probe';

const device = {
  smartAgId: 'sag-01',
  regionId: 'cn-shanghai',
  serialNumbers: ['sn01a'],
  group: 'stores east',
  tags: ['site=sh 01', 'tier=gold'],
};
const spec: ProbeSpec = {
  name: 'branch-web',
  url: 'https://probe.example/{SmartAGId}',
  method: 'GET',
  expectStatus: 200,
  timeoutMs: 1000,
  intervalMs: 10,
  successes: 2,
  failureLimit: 3,
};

describe('probe templates', () => {
  it('fills device fields, URL-encoded, and names the ones a device lacks', () => {
    expect(
      fillTemplate(
        'https://p/{SmartAGId}/{RegionId}/{SerialNumber}?g={group}&s={tags.site}&t={tags}',
        device,
      ),
    ).toEqual({
      url: 'https://p/sag-01/cn-shanghai/sn01a?g=stores%20east&s=sh%2001&t=site%3Dsh%2001%2Ctier%3Dgold',
    });
    expect(fillTemplate('https://p/{tags.rack}/{Nope}', device)).toEqual({ missing: ['tags.rack', 'Nope'] });
  });
});

describe('probe answers', () => {
  it('passes the expected status and fails another, naming both', () => {
    expect(judgeAnswer(spec, 200, '')).toBeUndefined();
    expect(judgeAnswer(spec, 503, '')).toBe('HTTP 503, expected 200');
  });

  it('checks a body regex and a JSON path with or without an expected value', () => {
    expect(judgeAnswer({ ...spec, bodyRegex: '^ok' }, 200, 'okay')).toBeUndefined();
    expect(judgeAnswer({ ...spec, bodyRegex: '^ok' }, 200, 'down')).toBe('body does not match /^ok/');
    const json = { ...spec, jsonPath: '$.links[0].state', equals: 'up' };
    expect(judgeAnswer(json, 200, '{"links":[{"state":"up"}]}')).toBeUndefined();
    expect(judgeAnswer(json, 200, '{"links":[{"state":"down"}]}')).toBe('$.links[0].state is not up');
    expect(judgeAnswer(json, 200, '{"links":[]}')).toBe('$.links[0].state is absent');
    expect(judgeAnswer(json, 200, '<html>')).toBe('body is not JSON');
    expect(judgeAnswer({ ...spec, jsonPath: '$.ok' }, 200, '{"ok":false}')).toBeUndefined();
  });

  it('reads JSON paths of the supported form only', () => {
    expect(jsonPathValue({ a: { 'b-c': [1, { d: 2 }] } }, '$.a["b-c"][1].d')).toBe(2);
    expect(jsonPathValue({ a: 1 }, '$')).toEqual({ a: 1 });
    expect(jsonPathValue({ a: 1 }, 'a.b')).toBeUndefined();
    expect(isJsonPath('$.data.result[0].value[1]')).toBe(true);
    expect(isJsonPath('$..a')).toBe(false);
  });
});

describe('wave queries', () => {
  const q = {
    name: 'error-rate',
    url: 'https://prom/q',
    jsonPath: '$.data.result[0].value[1]',
    max: 0.05,
    timeoutMs: 1000,
  };
  it('reads a number from a Prometheus-style answer and holds it against the threshold', () => {
    const body = '{"data":{"result":[{"value":[1700000000,"0.08"]}]}}';
    expect(queryNumber(q, body)).toEqual({ value: 0.08 });
    expect(queryBreach(q, 0.08)).toBe('error-rate = 0.08 > 0.05');
    expect(queryBreach(q, 0.01)).toBeUndefined();
    expect(queryBreach({ ...q, max: undefined, min: 10 }, 3)).toBe('error-rate = 3 < 10');
  });
  it('says why there is no number', () => {
    expect(queryNumber(q, '{"data":{"result":[]}}')).toEqual({ error: 'answer holds no number' });
    expect(queryNumber({ ...q, jsonPath: undefined }, ' 42 \n')).toEqual({ value: 42 });
    expect(queryNumber(q, 'nope')).toEqual({ error: 'answer is not JSON' });
  });
  it('names the worker variable that holds secret headers', () => {
    expect(probeHeadersVariable('branch-web')).toBe('SAG_PROBE_BRANCH_WEB_HEADERS');
  });
});
