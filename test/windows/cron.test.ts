import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/common/errors';
import { cronOccurrences, parseCron } from '../../src/windows/cron';
import { instantOfWall, isKnownTimeZone } from '../../src/windows/zone';

const iso = (ms: number): string => new Date(ms).toISOString();

function fire(cron: string, timeZone: string, from: string, until: string): string[] {
  return [...cronOccurrences(parseCron(cron), timeZone, Date.parse(from), Date.parse(until))].map(iso);
}

describe('parseCron', () => {
  it.each([
    ['four fields', '0 2 * *', 'has 4 fields'],
    ['seven fields', '0 0 2 * * ? 2025', 'has 7 fields'],
    ['an hour out of range', '0 24 * * *', 'hour 24 is outside 0-23'],
    ['a minute that is not a number', 'x 2 * * *', '"x" is not a minute value'],
    [
      '? outside the day fields',
      '? 2 * * *',
      '"?" is allowed only in the day-of-month and day-of-week fields',
    ],
    ['a zero step', '*/0 2 * * *', 'step must be a positive number'],
    ['a backwards range', '0 2 * * FRI-MON', 'runs backwards'],
    ['Quartz L', '0 0 2 L * ?', 'L, W and # are not supported'],
    ['a numeric weekday in the 6-field form', '0 0 4 ? * 2', 'write days as names'],
  ])('refuses %s, naming the field', (_name, expr, expected) => {
    let caught: unknown;
    try {
      parseCron(expr, 'windows[3].cron');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).message).toContain('windows[3].cron:');
    expect((caught as InputError).message).toContain(expected);
  });

  it('reads names for months and weekdays in any case', () => {
    const spec = parseCron('0 3 * jan,Jul sun');
    expect(spec.months[1]).toBe(true);
    expect(spec.months[7]).toBe(true);
    expect(spec.months[2]).toBe(false);
    expect(spec.daysOfWeek).toEqual([true, false, false, false, false, false, false]);
  });

  it('treats weekday 7 as Sunday in the 5-field form', () => {
    expect(parseCron('0 3 * * 7').daysOfWeek[0]).toBe(true);
  });
});

describe('cronOccurrences', () => {
  it('fires a 5-field daily cron in UTC', () => {
    expect(fire('30 2 * * *', 'UTC', '2025-06-01T00:00:00Z', '2025-06-03T00:00:00Z')).toEqual([
      '2025-06-01T02:30:00.000Z',
      '2025-06-02T02:30:00.000Z',
    ]);
  });

  it("fires Alibaba's Quartz form 0 0 4 1/1 * ? every day at 04:00 Asia/Shanghai", () => {
    expect(fire('0 0 4 1/1 * ?', 'Asia/Shanghai', '2025-06-01T00:00:00Z', '2025-06-03T00:00:00Z')).toEqual([
      '2025-06-01T20:00:00.000Z',
      '2025-06-02T20:00:00.000Z',
    ]);
  });

  it('steps from a start value with a/n (odd days of the month)', () => {
    const days = fire('0 0 4 1/2 * ?', 'UTC', '2025-06-01T00:00:00Z', '2025-06-07T00:00:00Z').map((s) =>
      s.slice(8, 10),
    );
    expect(days).toEqual(['01', '03', '05']);
  });

  it('honours seconds in the 6-field form', () => {
    expect(fire('15 30 1 * * ?', 'UTC', '2025-06-01T00:00:00Z', '2025-06-02T00:00:00Z')).toEqual([
      '2025-06-01T01:30:15.000Z',
    ]);
  });

  it('matches either day field when both are restricted (Vixie OR)', () => {
    const days = fire('0 4 1 * MON', 'UTC', '2025-03-01T00:00:00Z', '2025-04-02T00:00:00Z').map((s) =>
      s.slice(5, 10),
    );
    expect(days).toEqual(['03-01', '03-03', '03-10', '03-17', '03-24', '03-31', '04-01']);
  });

  it('matches both day fields when one starts with * (Vixie AND)', () => {
    const days = fire('0 4 */2 * MON', 'UTC', '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z').map((s) =>
      s.slice(5, 10),
    );
    expect(days).toEqual(['03-03', '03-17', '03-31']);
  });

  it('reads weekday names in the Quartz form', () => {
    const days = fire('0 0 2 ? * MON-FRI', 'Asia/Shanghai', '2025-06-06T00:00:00Z', '2025-06-11T00:00:00Z');
    // Friday 6th 02:00 +08 is before the range; Saturday and Sunday are skipped; then Mon 9th to Wed 11th.
    expect(days).toEqual([
      '2025-06-08T18:00:00.000Z',
      '2025-06-09T18:00:00.000Z',
      '2025-06-10T18:00:00.000Z',
    ]);
  });

  it.each([
    ['Asia/Shanghai', '2025-01-15', '2025-01-14T18:00:00.000Z', '2025-07-15', '2025-07-14T18:00:00.000Z'],
    ['Europe/Berlin', '2025-01-15', '2025-01-15T01:00:00.000Z', '2025-07-15', '2025-07-15T00:00:00.000Z'],
    ['America/New_York', '2025-01-15', '2025-01-15T07:00:00.000Z', '2025-07-15', '2025-07-15T06:00:00.000Z'],
    ['Australia/Sydney', '2025-01-15', '2025-01-14T15:00:00.000Z', '2025-07-15', '2025-07-14T16:00:00.000Z'],
  ])('fires at 02:00 local time in %s, winter and summer', (zone, winterDay, winter, summerDay, summer) => {
    const onDay = (day: string): string[] => {
      const local = Date.parse(`${day}T00:00:00Z`);
      return fire('0 2 * * *', zone, iso(local - 86_400_000), iso(local + 2 * 86_400_000)).filter((t) => {
        const wall = new Intl.DateTimeFormat('en-CA', {
          timeZone: zone,
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
        }).format(new Date(t));
        return wall === day;
      });
    };
    expect(onDay(winterDay)).toEqual([winter]);
    expect(onDay(summerDay)).toEqual([summer]);
  });

  it.each([
    ['Europe/Berlin', '30 2 * * *', '2025-03-30', '2025-03-30T01:00:00.000Z'],
    ['America/New_York', '30 2 * * *', '2025-03-09', '2025-03-09T07:00:00.000Z'],
    ['Australia/Sydney', '30 2 * * *', '2025-10-05', '2025-10-04T16:00:00.000Z'],
  ])('fires a time skipped by spring-forward in %s once, when the gap ends', (zone, cron, day, expected) => {
    const from = Date.parse(`${day}T00:00:00Z`) - 86_400_000 / 2;
    const hits = fire(cron, zone, iso(from), iso(from + 86_400_000));
    expect(hits).toEqual([expected]);
  });

  it('fires every slot inside a skipped hour only once, at the end of the gap', () => {
    expect(fire('*/15 2 * * *', 'America/New_York', '2025-03-09T00:00:00Z', '2025-03-10T00:00:00Z')).toEqual([
      '2025-03-09T07:00:00.000Z',
    ]);
  });

  it.each([
    ['Europe/Berlin', '30 2 * * *', '2025-10-25T12:00:00Z', '2025-10-26T00:30:00.000Z'],
    ['America/New_York', '30 1 * * *', '2025-11-01T12:00:00Z', '2025-11-02T05:30:00.000Z'],
    ['Australia/Sydney', '30 2 * * *', '2025-04-05T00:00:00Z', '2025-04-05T15:30:00.000Z'],
  ])(
    'fires a time repeated by fall-back in %s once, at its first occurrence',
    (zone, cron, from, expected) => {
      const hits = fire(cron, zone, from, iso(Date.parse(from) + 86_400_000));
      expect(hits).toEqual([expected]);
    },
  );
});

describe('time zone helpers', () => {
  it('knows IANA zones and refuses made-up ones', () => {
    expect(isKnownTimeZone('Australia/Sydney')).toBe(true);
    expect(isKnownTimeZone('Asia/Atlantis')).toBe(false);
    expect(isKnownTimeZone('')).toBe(false);
  });

  it('maps an ordinary wall time to its instant', () => {
    expect(iso(instantOfWall('Europe/Berlin', Date.UTC(2025, 6, 1, 12, 0)))).toBe('2025-07-01T10:00:00.000Z');
  });
});
