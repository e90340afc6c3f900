import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/config/errors';
import { loadPolicy } from '../../src/config/policy';

const base = 'targetVersion: "2.4.0.0"\n';

function problems(yaml: string): string[] {
  try {
    loadPolicy(base + yaml, 'yaml');
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  return [];
}

describe('the policy health block', () => {
  it('is on by default with the checks that cost no extra call', () => {
    expect(loadPolicy(base, 'yaml').health).toEqual({
      links: true,
      ha: true,
      controller: true,
      diagnosis: false,
      features: [],
      grace: 60_000,
      probes: [],
    });
  });

  it('fills a probe with its defaults', () => {
    const p = loadPolicy(
      `${base}health:\n  probes:\n    - { name: web, url: "https://p.example/{SmartAGId}" }\n`,
      'yaml',
    );
    expect(p.health?.probes).toEqual([
      {
        name: 'web',
        url: 'https://p.example/{SmartAGId}',
        method: 'GET',
        expectStatus: 200,
        timeout: 10_000,
        interval: 10_000,
        successes: 3,
        failureLimit: 5,
      },
    ]);
  });

  it('refuses a malformed probe or wave query, naming each problem', () => {
    const found = problems(
      [
        'health:',
        '  probes:',
        '    - { name: Web, url: "ftp://x", bodyRegex: "(", equals: up, successes: 0 }',
        '  waveQuery: { name: rate, url: "https://q.example", jsonPath: "$..x" }',
      ].join('\n'),
    ).join('\n');
    expect(found).toContain('health.probes[0].name');
    expect(found).toContain('health.probes[0].url');
    expect(found).toContain('must be a valid regular expression');
    expect(found).toContain('health.probes[0].successes');
    expect(found).toContain('must be a JSON path');
  });

  it('refuses a probe or wave query URL that carries a user or password, without repeating it', () => {
    const got = problems(
      "health:\n  probes:\n    - { name: web, url: 'https://ops:s3cret-tok@probe.example.com/{SmartAGId}' }\n" +
        "  waveQuery: { name: rate, url: 'http://reader@prom.example.com/q', max: 1 }\n",
    );
    expect(got).toHaveLength(2);
    expect(got[0]).toMatch(
      /health\.probes\[0\]\.url.*must not carry a user or password.*SAG_PROBE_<NAME>_HEADERS/,
    );
    expect(got[1]).toMatch(/health\.waveQuery\.url.*must not carry a user or password/);
    expect(got.join('\n')).not.toContain('s3cret-tok');
    // An @ in the path or the query is not a user.
    expect(
      problems(
        "health:\n  probes:\n    - { name: web, url: 'https://probe.example.com/u/{SmartAGId}?by=ops@example.com' }\n",
      ),
    ).toEqual([]);
  });

  it('refuses two probes of one name and a wave query without a threshold', () => {
    const twice = problems(
      'health:\n  probes:\n    - { name: web, url: "https://a.example" }\n    - { name: web, url: "https://b.example" }\n',
    ).join('\n');
    expect(twice).toContain('probe names must differ');
    const open = problems('health:\n  waveQuery: { name: rate, url: "https://q.example" }\n').join('\n');
    expect(open).toContain('give max, min or both');
  });
});
