import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration';
import { InputError } from '../../src/config/errors';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    ['1m500ms', 60_500],
    ['1500', 1500],
    [1500, 1500],
    [0, 0],
    ['0s', 0],
  ] as const)('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '-5m', '10M', '30m1h', '1h1h', '5 minutes', 'h'])(
    'refuses %j naming the field and the value',
    (input) => {
      let caught: unknown;
      try {
        parseDuration(input, 'bake');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect((caught as InputError).message).toContain('bake:');
      expect((caught as InputError).message).toContain(JSON.stringify(input));
    },
  );

  it('refuses negative and non-finite numbers', () => {
    expect(() => parseDuration(-1, 'verify.timeout')).toThrow(/verify\.timeout: -1 is not a duration/);
    expect(() => parseDuration(Number.POSITIVE_INFINITY, 'bake')).toThrow(InputError);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30_000, '30s'],
    [5_400_000, '1h30m'],
    [90_061_001, '1d1h1m1s1ms'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 61_000, 3_600_001, 7 * 86_400_000 + 5])
      expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
