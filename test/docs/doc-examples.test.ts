import { describe, expect, it } from 'vitest';
import { ANY, commandLines, parseDocJson, session, shapeMismatches, textMismatches } from './doc-examples';

describe('doc examples', () => {
  it('parses documented JSON with left-out items and entries', () => {
    expect(parseDocJson('{ "a": [ { "b": 1 }, ... ], "c": { ... }, "d": "6f1c...", … }')).toEqual({
      a: [{ b: 1 }],
      c: {},
      d: '6f1c...',
    });
    expect(parseDocJson('{ "a", "b": N }')).toEqual({ a: ANY, b: ANY });
    expect(() => parseDocJson('{ "a": 1 } x')).toThrow(/text after the value/);
  });

  it('refuses a documented key or type that the real output lacks, and allows left-out keys', () => {
    const real = [{ a: 1, b: 'x', c: [{ d: true }, { e: null }] }];
    expect(shapeMismatches({ a: 2, c: [{ d: false, e: null }] }, real)).toEqual([]);
    expect(shapeMismatches({ z: 1 }, real)).toEqual(['$.z: documented, absent from real output']);
    expect(shapeMismatches({ a: '1' }, real)).toEqual(['$.a: documented as string, real output has number']);
    expect(shapeMismatches({ c: [{ f: 1 }] }, real)).toEqual([
      '$.c[0].f: documented, absent from real output',
    ]);
    expect(shapeMismatches({ c: [1] }, [{ c: [] }])).toEqual([
      '$.c[0]: documented, the real arrays are empty',
    ]);
    expect(shapeMismatches({ a: ANY, y: ANY }, real)).toEqual(['$.y: documented, absent from real output']);
  });

  it('compares text line by line, with numbers, times and `...` as placeholders', () => {
    const doc = 'plan: 12 devices in 3 waves\nwindow: 2026-11-30 02:00, 10m 00s\nnote: ...';
    expect(
      textMismatches(doc, 'plan: 4 devices in 2 waves\nwindow: 2027-01-01 13:00, 45s\nnote: anything'),
    ).toEqual([]);
    expect(
      textMismatches(doc, 'plan: 4 devices in 2 parts\nwindow: 2027-01-01 13:00, 45s\nnote: x'),
    ).toHaveLength(1);
    expect(textMismatches(doc, 'plan: 4 devices in 2 waves\nwindow: 2027-01-01 13:00, 45s')).toHaveLength(1);
    expect(textMismatches('rollout r-42', 'rollout docs-1a2b', { 'docs-1a2b': 'r-42' })).toEqual([]);
  });

  it('reads command lines with quotes, comments and optional groups', () => {
    const body = [
      'sag-rollout pause r-42 --reason "incident 77" --yes',
      'sag-rollout abort r-42 [--no-compensate] [--no-wait] --yes',
      'npm install && npx sag-rollout dev --demo      # or: npm run demo',
    ].join('\n');
    expect(commandLines(body, ['--no-compensate'])).toEqual([
      ['pause', 'r-42', '--reason', 'incident 77', '--yes'],
      ['abort', 'r-42', '--no-compensate', '--yes'],
      ['dev', '--demo'],
    ]);
    expect(session('$ sag-rollout report r-42\nreports/r-42.html')).toEqual({
      commands: [['report', 'r-42']],
      output: 'reports/r-42.html',
    });
  });
});
