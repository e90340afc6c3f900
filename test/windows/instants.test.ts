import { describe, expect, it } from 'vitest';
import type { ChangeWindow, FreezePeriod, InventoryDevice, RolloutPolicy } from '../../domain/types';
import { InputError } from '../../src/common/errors';
import { defaultPolicy } from '../../src/config/policy';
import { checkFeasible, isOpenFor, nextOpening, windowInstants } from '../../src/windows/instants';
import { matchesSelector } from '../../src/windows/selector';

const t = (s: string): number => Date.parse(s);
const iso = (ms: number): string => new Date(ms).toISOString();
const spans = (list: Array<{ start: number; end: number; window: number }>): string[] =>
  list.map((p) => `${iso(p.start)} ${iso(p.end)} #${p.window}`);

const nightly = (
  cron: string,
  duration: string,
  timeZone: string,
  extra: Partial<ChangeWindow> = {},
): ChangeWindow => ({ kind: 'recurring', cron, duration, timeZone, ...extra }) as ChangeWindow;

const store: InventoryDevice = {
  smartAgId: 'sag-0002',
  regionId: 'cn-shanghai',
  group: 'stores',
  tags: ['edge'],
};
const lab: InventoryDevice = { smartAgId: 'sag-0001', regionId: 'eu-central-1', group: 'lab' };
const stray: InventoryDevice = { smartAgId: 'sag-0009', regionId: 'us-east-1' };

describe('windowInstants', () => {
  it('is always open when no window is configured', () => {
    expect(windowInstants([], [], 1000, 5000)).toEqual([{ start: 1000, end: 5000, window: -1 }]);
  });

  it('opens a recurring window at each firing for its duration', () => {
    const w = [nightly('0 2 * * *', '3h', 'Asia/Shanghai')];
    expect(spans(windowInstants(w, [], t('2025-06-01T00:00:00Z'), t('2025-06-03T00:00:00Z')))).toEqual([
      '2025-06-01T18:00:00.000Z 2025-06-01T21:00:00.000Z #0',
      '2025-06-02T18:00:00.000Z 2025-06-02T21:00:00.000Z #0',
    ]);
  });

  it('includes a window already open at the start of the range, clipped to it', () => {
    const w = [nightly('0 2 * * *', '3h', 'UTC')];
    expect(spans(windowInstants(w, [], t('2025-06-01T03:00:00Z'), t('2025-06-01T12:00:00Z')))).toEqual([
      '2025-06-01T03:00:00.000Z 2025-06-01T05:00:00.000Z #0',
    ]);
  });

  it('keeps a window its real elapsed length across a spring-forward in Europe/Berlin', () => {
    const w = [nightly('0 1 * * *', '3h', 'Europe/Berlin')];
    const [p] = windowInstants(w, [], t('2025-03-29T12:00:00Z'), t('2025-03-30T12:00:00Z'));
    // 01:00 CET is 00:00Z; three real hours later the wall clock reads 05:00 CEST.
    expect(p && spans([p])).toEqual(['2025-03-30T00:00:00.000Z 2025-03-30T03:00:00.000Z #0']);
  });

  it('opens a window whose start falls in the skipped hour at the end of the gap (America/New_York)', () => {
    const w = [nightly('30 2 * * *', '1h', 'America/New_York')];
    expect(spans(windowInstants(w, [], t('2025-03-08T12:00:00Z'), t('2025-03-10T12:00:00Z')))).toEqual([
      '2025-03-09T07:00:00.000Z 2025-03-09T08:00:00.000Z #0',
      '2025-03-10T06:30:00.000Z 2025-03-10T07:30:00.000Z #0',
    ]);
  });

  it('opens a window in the repeated hour once on fall-back day (Europe/Berlin), for its real length', () => {
    const w = [nightly('30 2 * * *', '2h', 'Europe/Berlin')];
    expect(spans(windowInstants(w, [], t('2025-10-25T12:00:00Z'), t('2025-10-26T12:00:00Z')))).toEqual([
      '2025-10-26T00:30:00.000Z 2025-10-26T02:30:00.000Z #0',
    ]);
  });

  it('opens a window in the repeated hour once on fall-back day (America/New_York)', () => {
    const w = [nightly('30 1 * * *', '1h', 'America/New_York')];
    expect(spans(windowInstants(w, [], t('2025-11-01T12:00:00Z'), t('2025-11-02T12:00:00Z')))).toEqual([
      '2025-11-02T05:30:00.000Z 2025-11-02T06:30:00.000Z #0',
    ]);
  });

  it('merges overlapping windows, keeping the index of the one that opened first', () => {
    const w = [nightly('0 3 * * *', '2h', 'UTC'), nightly('0 2 * * *', '2h', 'UTC')];
    expect(spans(windowInstants(w, [], t('2025-06-01T00:00:00Z'), t('2025-06-01T12:00:00Z')))).toEqual([
      '2025-06-01T02:00:00.000Z 2025-06-01T05:00:00.000Z #1',
    ]);
  });

  it('reads one-off windows', () => {
    const w: ChangeWindow[] = [
      { kind: 'once', start: '2025-06-07T22:00:00+02:00', end: '2025-06-08T04:00:00+02:00', name: 'weekend' },
    ];
    expect(spans(windowInstants(w, [], t('2025-06-01T00:00:00Z'), t('2025-06-30T00:00:00Z')))).toEqual([
      '2025-06-07T20:00:00.000Z 2025-06-08T02:00:00.000Z #0',
    ]);
  });

  it('carves freezes out of windows', () => {
    const w = [nightly('0 0 * * *', '6h', 'UTC')];
    const f: FreezePeriod[] = [
      { start: '2025-06-01T02:00:00Z', end: '2025-06-01T03:00:00Z', reason: 'core switch change' },
      { start: '2025-06-01T20:00:00Z', end: '2025-06-02T08:00:00Z', reason: 'launch' },
    ];
    expect(spans(windowInstants(w, f, t('2025-06-01T00:00:00Z'), t('2025-06-03T00:00:00Z')))).toEqual([
      '2025-06-01T00:00:00.000Z 2025-06-01T02:00:00.000Z #0',
      '2025-06-01T03:00:00.000Z 2025-06-01T06:00:00.000Z #0',
    ]);
  });

  it('carves freezes out of the always-open default', () => {
    const f: FreezePeriod[] = [{ start: '1970-01-01T00:00:02Z', end: '1970-01-01T00:00:03Z' }];
    expect(windowInstants([], f, 1000, 5000)).toEqual([
      { start: 1000, end: 2000, window: -1 },
      { start: 3000, end: 5000, window: -1 },
    ]);
  });

  it('applies windows and freezes to the devices their selectors choose', () => {
    const w = [
      nightly('0 2 * * *', '2h', 'Asia/Shanghai', { appliesTo: { groups: ['stores'] } }),
      nightly('0 2 * * *', '2h', 'Europe/Berlin', { appliesTo: { regions: ['eu-central-1'] } }),
    ];
    const f: FreezePeriod[] = [
      { start: '2025-06-01T00:00:00Z', end: '2025-06-02T00:00:00Z', appliesTo: { tags: ['edge'] } },
    ];
    const from = t('2025-06-01T00:00:00Z');
    const until = t('2025-06-03T00:00:00Z');
    expect(spans(windowInstants(w, f, from, until, store))).toEqual([
      '2025-06-02T18:00:00.000Z 2025-06-02T20:00:00.000Z #0',
    ]);
    expect(spans(windowInstants(w, f, from, until, lab))).toEqual([
      '2025-06-01T00:00:00.000Z 2025-06-01T02:00:00.000Z #1',
      '2025-06-02T00:00:00.000Z 2025-06-02T02:00:00.000Z #1',
    ]);
    expect(windowInstants(w, f, from, until, stray)).toEqual([]);
    // The fleet view: every window, no selected freeze.
    expect(windowInstants(w, f, from, until)).toHaveLength(4);
  });

  it('refuses unreadable windows and freezes, naming each field', () => {
    let caught: unknown;
    try {
      windowInstants(
        [nightly('0 2 * *', '2h', 'UTC'), nightly('0 2 * * *', '2x', 'Nowhere/City')],
        [{ start: 'soon', end: '2025-01-01T00:00:00Z' }],
        0,
        1e12,
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    const text = (caught as InputError).problems.join('\n');
    for (const field of ['windows[0].cron', 'windows[1].duration', 'windows[1].timeZone', 'freezes[0].start'])
      expect(text).toContain(`${field}:`);
  });
});

describe('selectors', () => {
  it('needs every listed criterion and any value within one', () => {
    expect(matchesSelector({ regions: ['cn-shanghai', 'cn-hangzhou'], tags: ['x', 'edge'] }, store)).toBe(
      true,
    );
    expect(matchesSelector({ regions: ['cn-shanghai'], groups: ['lab'] }, store)).toBe(false);
    expect(matchesSelector({ devices: ['sag-0002'] }, store)).toBe(true);
    expect(matchesSelector({ groups: ['stores'] }, stray)).toBe(false);
    expect(matchesSelector({}, stray)).toBe(true);
  });
});

describe('nextOpening and isOpenFor', () => {
  const open = [
    { start: 10, end: 20, window: 0 },
    { start: 30, end: 100, window: 1 },
  ];

  it('is open only with enough time left', () => {
    expect(isOpenFor(open, 15, 5)).toBe(true);
    expect(isOpenFor(open, 15, 6)).toBe(false);
    expect(isOpenFor(open, 20, 0)).toBe(false);
    expect(isOpenFor(open, 25, 1)).toBe(false);
  });

  it('finds the first period with room, starting no earlier than now', () => {
    expect(nextOpening(open, 15, 5)).toEqual({ start: 15, end: 20, window: 0 });
    expect(nextOpening(open, 15, 6)).toEqual({ start: 30, end: 100, window: 1 });
    expect(nextOpening(open, 0)).toEqual({ start: 10, end: 20, window: 0 });
    expect(nextOpening(open, 95, 10)).toBeUndefined();
  });
});

describe('checkFeasible', () => {
  const NOW = t('2025-06-02T00:00:00Z'); // a Monday
  const saturdays = nightly('0 2 * * SAT', '4h', 'Asia/Shanghai'); // opens 2025-06-06T18:00Z
  const policy = (overrides: Partial<RolloutPolicy>): RolloutPolicy => ({
    ...defaultPolicy(),
    targetVersion: '2.4.1.0',
    ...overrides,
  });
  const problems = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      if (err instanceof InputError) return err.message;
      throw err;
    }
    throw new Error('expected an InputError');
  };

  it('starts now when there are no windows', () => {
    expect(checkFeasible(policy({}), NOW)).toBe(NOW);
  });

  it('returns the first opening before the deadline', () => {
    expect(iso(checkFeasible(policy({ windows: [saturdays], deadline: '2025-06-10T00:00:00Z' }), NOW))).toBe(
      '2025-06-06T18:00:00.000Z',
    );
  });

  it('refuses a deadline that comes before any window opens', () => {
    expect(
      problems(() => checkFeasible(policy({ windows: [saturdays], deadline: '2025-06-05T00:00:00Z' }), NOW)),
    ).toContain(
      'no change window opens before the deadline 2025-06-05T00:00:00Z with 15m (expectedUpgradeTime) to spare',
    );
  });

  it('accepts a window that opens just before the deadline and runs past it', () => {
    expect(iso(checkFeasible(policy({ windows: [saturdays], deadline: '2025-06-06T18:10:00Z' }), NOW))).toBe(
      '2025-06-06T18:00:00.000Z',
    );
  });

  it('refuses windows too short for one upgrade', () => {
    const short = nightly('0 2 * * *', '10m', 'UTC');
    expect(problems(() => checkFeasible(policy({ windows: [short] }), NOW))).toContain(
      'no change window opens in the next 400 days',
    );
  });

  it('refuses a cron that never fires', () => {
    expect(
      problems(() => checkFeasible(policy({ windows: [nightly('0 2 30 2 *', '2h', 'UTC')] }), NOW)),
    ).toContain('no change window opens');
  });

  it('refuses windows entirely covered by freezes', () => {
    const p = policy({
      windows: [saturdays],
      freezes: [{ start: '2025-06-01T00:00:00Z', end: '2025-06-30T00:00:00Z', reason: 'quarter close' }],
      deadline: '2025-06-20T00:00:00Z',
    });
    expect(problems(() => checkFeasible(p, NOW))).toContain(
      'freezes: the freeze periods cover every change window',
    );
  });

  it('refuses a deadline that has passed', () => {
    expect(problems(() => checkFeasible(policy({ deadline: '2025-06-01T00:00:00Z' }), NOW))).toContain(
      'deadline: 2025-06-01T00:00:00Z has already passed',
    );
  });

  it('names the devices no window applies to', () => {
    const p = policy({
      windows: [nightly('0 2 * * *', '2h', 'Asia/Shanghai', { appliesTo: { groups: ['stores'] } })],
    });
    const text = problems(() => checkFeasible(p, NOW, [store, lab, stray]));
    expect(text).toContain('no change window applies for 2 devices (sag-0001, sag-0009)');
    expect(text).not.toContain('sag-0002');
  });

  it('checks each device against the freezes that apply to it', () => {
    const p = policy({
      windows: [saturdays],
      freezes: [
        { start: '2025-06-01T00:00:00Z', end: '2025-06-30T00:00:00Z', appliesTo: { groups: ['lab'] } },
      ],
      deadline: '2025-06-20T00:00:00Z',
    });
    expect(iso(checkFeasible(p, NOW, [store]))).toBe('2025-06-06T18:00:00.000Z');
    expect(problems(() => checkFeasible(p, NOW, [store, lab]))).toContain(
      'freezes: the freeze periods cover every change window for 1 device (sag-0001)',
    );
  });
});
