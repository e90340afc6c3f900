import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/config/errors';
import { parseInventory } from '../../src/config/inventory';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('parseInventory (CSV)', () => {
  it('reads columns in any order and case, quoted fields, serial lists and tags, keeping file order', () => {
    const csv = [
      'regionid,SMARTAGID,SerialNumber,Group,Tags,Name',
      'cn-shanghai,sag-0ovhf732a9j1234567,"sn-a,sn-b",stores,edge;beta,"Shop, Nanjing Road"',
      'cn-hangzhou,sag-0002,sn-c;sn-d,,,',
      '',
      'eu-central-1,sag-0001,,,',
    ].join('\r\n');
    expect(parseInventory(csv, 'csv', { source: 'fleet.csv' })).toEqual([
      {
        smartAgId: 'sag-0ovhf732a9j1234567',
        regionId: 'cn-shanghai',
        serialNumbers: ['sn-a', 'sn-b'],
        group: 'stores',
        tags: ['edge', 'beta'],
      },
      { smartAgId: 'sag-0002', regionId: 'cn-hangzhou', serialNumbers: ['sn-c', 'sn-d'] },
      { smartAgId: 'sag-0001', regionId: 'eu-central-1' },
    ]);
  });

  it('reads a quoted field with an escaped quote and a line break, and reports later lines by their real number', () => {
    const csv = 'SmartAGId,RegionId,group\nsag-1,cn-shanghai,"a ""b""\nc"\nsag-2,cn-nowhere,x\n';
    const problems = problemsOf(() => parseInventory(csv, 'csv', { source: 'f.csv' }));
    expect(problems).toEqual([expect.stringContaining('f.csv line 4: unknown region "cn-nowhere"')]);
    const ok = parseInventory(csv.replace('cn-nowhere', 'cn-hangzhou'), 'csv');
    expect(ok[0]?.group).toBe('a "b"\nc');
  });

  it.each([
    [
      'a malformed SmartAGId',
      'SmartAGId,RegionId\nsag_01,cn-shanghai\n',
      'f.csv line 2: SmartAGId "sag_01" is malformed',
    ],
    ['an uppercase SmartAGId', 'SmartAGId,RegionId\nSAG-01,cn-shanghai\n', 'IDs are lowercase'],
    [
      'an unknown region',
      'SmartAGId,RegionId\nsag-01,cn-beijing\n',
      'f.csv line 2: unknown region "cn-beijing"',
    ],
    [
      'a duplicate SmartAGId, naming both lines',
      'SmartAGId,RegionId\nsag-01,cn-shanghai\nsag-02,cn-shanghai\nsag-01,cn-hangzhou\n',
      'f.csv line 4: SmartAGId sag-01 is listed twice (also at f.csv line 2)',
    ],
    [
      'a serial number on two instances',
      'SmartAGId,RegionId,SerialNumber\nsag-01,cn-shanghai,sn1\nsag-02,cn-shanghai,sn2;sn1\n',
      'f.csv line 3: serial number sn1 also belongs to sag-01 (f.csv line 2)',
    ],
    [
      'a missing RegionId column',
      'SmartAGId,Region\nsag-01,cn-shanghai\n',
      'f.csv line 1: missing column RegionId (found: SmartAGId, Region)',
    ],
    ['a missing SmartAGId column', 'Id,RegionId\nsag-01,cn-shanghai\n', 'missing column SmartAGId'],
    ['an empty file', '', 'f.csv: the inventory lists no device'],
    ['a header and no rows', 'SmartAGId,RegionId\n\n', 'f.csv: the inventory lists no device'],
    ['an empty RegionId', 'SmartAGId,RegionId\nsag-01,\n', 'f.csv line 2: RegionId is missing'],
    [
      'too many fields',
      'SmartAGId,RegionId\nsag-01,cn-shanghai,extra\n',
      'f.csv line 2: 3 fields but the header has 2',
    ],
    ['an unclosed quote', 'SmartAGId,RegionId\n"sag-01,cn-shanghai\n', 'a quoted field is never closed'],
  ])('refuses %s', (_name, csv, expected) => {
    const problems = problemsOf(() => parseInventory(csv, 'csv', { source: 'f.csv' }));
    expect(problems.join('\n')).toContain(expected);
  });

  it('collects every problem of the file into one error, one per line of the message', () => {
    const csv = 'SmartAGId,RegionId\nbad,cn-shanghai\nsag-1,mars-1\nsag-2,cn-shanghai\nsag-2,cn-shanghai\n';
    let caught: unknown;
    try {
      parseInventory(csv, 'csv', { source: 'fleet.csv' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    const err = caught as InputError;
    expect(err.problems).toHaveLength(3);
    for (const p of err.problems) expect(err.message.split('\n')).toContain(`  ${p}`);
  });

  it('accepts the regions given by knownRegions instead of the smartag list', () => {
    expect(parseInventory('SmartAGId,RegionId\nsag-1,sim-1\n', 'csv', { knownRegions: ['sim-1'] })).toEqual([
      { smartAgId: 'sag-1', regionId: 'sim-1' },
    ]);
    expect(() =>
      parseInventory('SmartAGId,RegionId\nsag-1,cn-shanghai\n', 'csv', { knownRegions: ['sim-1'] }),
    ).toThrow(/unknown region "cn-shanghai"/);
  });
});

describe('parseInventory (JSON)', () => {
  it('reads an array and a { devices } object with either spelling of the keys', () => {
    const a = parseInventory(
      '[{"SmartAGId":"sag-1","RegionId":"cn-shanghai","SerialNumber":"s1;s2","group":"g","tags":["x"]}]',
      'json',
    );
    const b = parseInventory(
      '{"devices":[{"smartAgId":"sag-1","regionId":"cn-shanghai","serialNumbers":["s1","s2"],"group":"g","tags":"x"}]}',
      'json',
    );
    const expected = [
      { smartAgId: 'sag-1', regionId: 'cn-shanghai', serialNumbers: ['s1', 's2'], group: 'g', tags: ['x'] },
    ];
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
  });

  it('detects JSON by the file name or the first character in auto mode', () => {
    expect(parseInventory('[{"SmartAGId":"sag-1","RegionId":"cn-shanghai"}]', 'auto')).toHaveLength(1);
    expect(
      parseInventory(' {"devices":[{"SmartAGId":"sag-1","RegionId":"cn-shanghai"}]}', 'auto', {
        source: 'x.txt',
      }),
    ).toHaveLength(1);
    expect(parseInventory('SmartAGId,RegionId\nsag-1,cn-shanghai', 'auto')).toHaveLength(1);
  });

  it.each([
    ['not JSON', '[{', 'f.json: not valid JSON'],
    ['not an array', '{"fleet":[]}', 'expected an array of devices or { "devices": [...] }'],
    ['devices not an array', '{"devices":{}}', 'f.json devices: must be an array of devices'],
    ['an empty array', '[]', 'f.json: the inventory lists no device'],
    ['a non-object entry', '["sag-1"]', 'f.json [0]: each device must be an object'],
    [
      'a numeric SmartAGId',
      '{"devices":[{"SmartAGId":7,"RegionId":"cn-shanghai"}]}',
      'f.json devices[0].SmartAGId: SmartAGId must be a string',
    ],
    [
      'a missing RegionId, by index',
      '[{"SmartAGId":"sag-1","RegionId":"cn-shanghai"},{"SmartAGId":"sag-2"}]',
      'f.json [1]: RegionId is missing',
    ],
    [
      'a duplicate, naming both indexes',
      '{"devices":[{"SmartAGId":"sag-1","RegionId":"cn-shanghai"},{"SmartAGId":"sag-1","RegionId":"cn-shanghai"}]}',
      'f.json devices[1]: SmartAGId sag-1 is listed twice (also at f.json devices[0])',
    ],
    [
      'bad tags',
      '[{"SmartAGId":"sag-1","RegionId":"cn-shanghai","tags":[1]}]',
      'f.json [0].tags: tags must be a string or an array of strings',
    ],
  ])('refuses %s', (_name, json, expected) => {
    expect(problemsOf(() => parseInventory(json, 'json', { source: 'f.json' })).join('\n')).toContain(
      expected,
    );
  });
});
