import { describe, expect, it } from 'vitest';
import { duration, finishedAt, iso, isoMs, plainText } from '../../src/audit/render/format';
import { richReport } from './report-fixture';

describe('report formatting helpers', () => {
  it('prints instants in UTC, to the second or to the millisecond', () => {
    const t = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    expect(iso(t)).toBe('2025-01-02T03:04:05Z');
    expect(isoMs(t)).toBe('2025-01-02T03:04:05.678Z');
    expect(iso(undefined)).toBe('');
    expect(iso(Number.NaN)).toBe('');
  });

  it('rounds durations to seconds, then minutes and seconds, then hours and minutes', () => {
    expect(duration(59_499)).toBe('59s');
    expect(duration(59_500)).toBe('1m 0s');
    expect(duration(3_599_000)).toBe('59m 59s');
    expect(duration(3_600_000 + 61_000)).toBe('1h 1m');
    expect(duration(-1)).toBe('');
    expect(duration(undefined)).toBe('');
  });

  it('prints cell values: numbers and booleans as text, objects as JSON, nothing as empty', () => {
    expect([undefined, null, 0, false, 'x', { a: 1 }].map(plainText)).toEqual([
      '',
      '',
      '0',
      'false',
      'x',
      '{"a":1}',
    ]);
  });

  it('takes the closing time from progress, else from the last closing audit entry', () => {
    const data = richReport();
    expect(finishedAt(data)).toBeUndefined();
    const audit = [...data.audit, { seq: 8, at: 42, kind: 'aborted' }, { seq: 9, at: 43, kind: 'note' }];
    expect(finishedAt({ ...data, audit })).toBe(42);
    expect(finishedAt({ ...data, audit, progress: { ...data.progress, finishedAt: 7 } })).toBe(7);
  });
});
