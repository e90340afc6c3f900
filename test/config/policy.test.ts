import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InventoryDevice, RolloutPolicy } from '../../domain/types';
import { InputError } from '../../src/config/errors';
import {
  applyPolicyFlags,
  defaultPolicy,
  loadPolicy,
  parseWaves,
  validatePolicy,
} from '../../src/config/policy';

const NOW = Date.parse('2025-06-02T00:00:00Z');

const inventory: InventoryDevice[] = [
  { smartAgId: 'sag-0001', regionId: 'cn-shanghai', group: 'lab' },
  { smartAgId: 'sag-0002', regionId: 'cn-shanghai', group: 'stores' },
  { smartAgId: 'sag-0003', regionId: 'cn-hangzhou', group: 'stores' },
  { smartAgId: 'sag-0004', regionId: 'eu-central-1', group: 'stores' },
];

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.problems.join('\n');
    throw err;
  }
  throw new Error('expected an InputError');
}

function policy(overrides: Partial<RolloutPolicy> = {}): RolloutPolicy {
  return { ...defaultPolicy(), targetVersion: '2.4.1.0', ...overrides };
}

describe('loadPolicy', () => {
  it('fills every default, durations as ms, from an empty file', () => {
    expect(loadPolicy('', 'yaml', 'p.yaml')).toEqual({
      health: {
        links: true,
        ha: true,
        controller: true,
        diagnosis: false,
        features: [],
        grace: 60_000,
        probes: [],
      },
      targetVersion: '',
      versionType: 'Device',
      allowBeta: false,
      canary: { count: 1 },
      waves: { cumulativePercents: [10, 50, 100] },
      maxPartSize: 500,
      concurrency: 50,
      failureBudget: { maxFailurePercent: 10, minFailures: 3, maxConsecutiveFailures: 5, onBreach: 'pause' },
      bake: 300_000,
      healthRecheck: true,
      approval: 'none',
      approverMustDiffer: false,
      verify: { timeout: 1_800_000, pollInterval: 30_000, consecutivePolls: 3 },
      upgradeSettle: 900_000,
      noSignAfterSettle: 'unconfirmed',
      expectedUpgradeTime: 900_000,
      offlineRetryDelay: 600_000,
      compensation: { repairHaPairs: true, requestPreviousVersion: false },
      autoUpgradeAfter: 'restore',
      windows: [],
      freezes: [],
      requireTicket: false,
      errorOverrides: {},
      webhooks: [],
    });
  });

  it('keeps the defaults of a nested object when the file sets one field of it', () => {
    const p = loadPolicy('failureBudget:\n  onBreach: abort\nverify:\n  timeout: 45m\n', 'yaml');
    expect(p.failureBudget).toEqual({
      maxFailurePercent: 10,
      minFailures: 3,
      maxConsecutiveFailures: 5,
      onBreach: 'abort',
    });
    expect(p.verify).toEqual({ timeout: 2_700_000, pollInterval: 30_000, consecutivePolls: 3 });
  });

  it('reads a full YAML policy: durations, string booleans, shorthand canary and waves, inferred window kinds', () => {
    const p = loadPolicy(
      [
        'targetVersion: "2.4.1.0"',
        'allowBeta: "yes"',
        'healthRecheck: off',
        'canary: 5%',
        'waves: [1%, 10%, 50%, 100%]',
        'bake: 1h30m',
        'windows:',
        '  - cron: "0 0 2 ? * MON-FRI"',
        '    duration: 2h',
        '    timeZone: Asia/Shanghai',
        '    appliesTo: { groups: [stores] }',
        '  - start: 2025-06-07T22:00:00+02:00',
        '    end: 2025-06-08T04:00:00+02:00',
        'errorOverrides:',
        '  SmartAccessGatewayNotOnline: { initialInterval: 1m, maximumAttempts: 10 }',
      ].join('\n'),
      'yaml',
    );
    expect(p.allowBeta).toBe(true);
    expect(p.healthRecheck).toBe(false);
    expect(p.canary).toEqual({ percent: 5 });
    expect(p.waves).toEqual({ cumulativePercents: [1, 10, 50, 100] });
    expect(p.bake).toBe(5_400_000);
    expect(p.windows).toEqual([
      {
        kind: 'recurring',
        cron: '0 0 2 ? * MON-FRI',
        duration: 7_200_000,
        timeZone: 'Asia/Shanghai',
        appliesTo: { groups: ['stores'] },
      },
      { kind: 'once', start: '2025-06-07T22:00:00+02:00', end: '2025-06-08T04:00:00+02:00' },
    ]);
    expect(p.errorOverrides).toEqual({
      SmartAccessGatewayNotOnline: { initialInterval: 60_000, maximumAttempts: 10 },
    });
  });

  it('reads JSON the same way', () => {
    const p = loadPolicy(
      '{"targetVersion":"2.4.1.0","waves":{"sizes":[100,200]},"concurrency":10}',
      'auto',
      'p.json',
    );
    expect(p.waves).toEqual({ sizes: [100, 200] });
    expect(p.concurrency).toBe(10);
  });

  it.each([
    [
      'an unknown field, with its line',
      'targetVersion: "2.4.1.0"\nwave: [10%]\n',
      'p.yaml line 2: wave: unknown field',
    ],
    [
      'an unquoted version that YAML reads as a number',
      'targetVersion: 2.10\n',
      'targetVersion: write the version as quoted text',
    ],
    ['a bad duration', 'bake: soon\n', 'p.yaml line 1: bake: "soon" is not a duration'],
    ['Boolean-looking text that is not a boolean', 'healthRecheck: maybe\n', 'healthRecheck: Invalid option'],
    ['an unknown approval mode', 'approval: always\n', 'approval:'],
    [
      'an unknown time zone',
      'windows:\n  - cron: "0 2 * * *"\n    duration: 1h\n    timeZone: Mars/Olympus\n',
      'p.yaml line 4: windows[0].timeZone: unknown time zone',
    ],
    [
      'a bad cron',
      'windows:\n  - cron: "0 25 * * *"\n    duration: 1h\n    timeZone: UTC\n',
      'windows[0].cron: "0 25 * * *" is not a valid cron expression: hour 25 is outside 0-23',
    ],
    [
      'a zero window duration',
      'windows:\n  - cron: "0 2 * * *"\n    duration: 0\n    timeZone: UTC\n',
      'windows[0].duration: must be longer than 0',
    ],
    [
      'an instant without offset',
      'freezes:\n  - start: 2025-12-20T00:00:00\n    end: 2026-01-02T00:00:00Z\n',
      'freezes[0].start: "2025-12-20T00:00:00" has no time zone offset',
    ],
    [
      'ambiguous plain-number waves',
      'waves: "10,50,100"\n',
      'waves: "10,50,100" mixes forms or leaves out % or rest',
    ],
    [
      'a webhook given by URL, naming the variable that takes it instead',
      'webhooks:\n  - name: ops-chat\n    url: https://hooks.slack.com/services/T0/B0/XXXX\n',
      'p.yaml line 3: webhooks[0].url: a webhook URL does not belong in the policy (it would be recorded in workflow history and the report, and chat URLs carry their token): remove url and give the worker its URL in SAG_WEBHOOK_OPS_CHAT_URL or its --webhooks file',
    ],
    [
      'a webhook with a URL and no name',
      'webhooks:\n  - url: https://oapi.dingtalk.com/robot/send?access_token=XXXX\n',
      'webhooks[0].url: a webhook URL does not belong in the policy',
    ],
    [
      'a webhook without a name',
      'webhooks:\n  - format: chat\n',
      "webhooks[0].name: required: the webhook's name in the worker's configuration",
    ],
    [
      'a webhook name that cannot name a variable',
      'webhooks:\n  - name: ops chat\n',
      "webhooks[0].name: a letter, then letters, digits, '-' or '_'",
    ],
    [
      'an unknown error action',
      'errorOverrides:\n  Throttling: { action: explode }\n',
      'errorOverrides.Throttling.action',
    ],
    ['a YAML syntax error', 'waves: [10%\n', 'p.yaml line'],
    ['invalid JSON', '{"targetVersion": }', 'p.json: not valid JSON'],
  ])('refuses %s', (_name, text, expected) => {
    const source = text.startsWith('{') ? 'p.json' : 'p.yaml';
    expect(problemsOf(() => loadPolicy(text, 'auto', source))).toContain(expected);
  });
});

describe('applyPolicyFlags', () => {
  it('lets every flag override the file and leaves the input untouched', () => {
    const file = loadPolicy(
      'targetVersion: "2.3.0"\ncanary: { count: 3 }\nbake: 1m\nconcurrency: 5\n',
      'yaml',
    );
    const before = structuredClone(file);
    const p = applyPolicyFlags(file, {
      targetVersion: '20201117_1_0-0.0.1',
      versionType: 'dpi',
      canary: '10%',
      waves: '25%,100%',
      concurrency: '20',
      maxPerMinute: 100,
      maxFailures: '5%',
      bake: '15m',
      requireApproval: 'each-wave',
      verifyTimeout: '1h',
      ticket: 'CHG-1',
      operator: 'alice',
    });
    expect(file).toEqual(before);
    expect(p).toMatchObject({
      targetVersion: '20201117_1_0-0.0.1',
      versionType: 'Dpi',
      canary: { percent: 10 },
      waves: { cumulativePercents: [25, 100] },
      concurrency: 20,
      maxPerMinute: 100,
      failureBudget: { maxFailurePercent: 5, minFailures: 3 },
      bake: 900_000,
      approval: 'each-wave',
      verify: { timeout: 3_600_000, pollInterval: 30_000 },
    });
  });

  it('keeps file values for flags not given', () => {
    const file = loadPolicy('targetVersion: "2.3.0"\nbake: 1m\n', 'yaml');
    expect(applyPolicyFlags(file, { concurrency: 2 })).toEqual({ ...file, concurrency: 2 });
  });

  it('reads fixed wave sizes ending in rest', () => {
    expect(parseWaves('100,200,rest')).toEqual({ sizes: [100, 200] });
    expect(applyPolicyFlags(defaultPolicy(), { waves: '100, 200, rest' }).waves).toEqual({
      sizes: [100, 200],
    });
  });

  it('refuses every bad flag at once, naming each', () => {
    const text = problemsOf(() =>
      applyPolicyFlags(defaultPolicy(), {
        canary: 'two',
        waves: '10%,rest',
        concurrency: '0',
        maxFailures: '5',
        bake: 'soon',
        versionType: 'Firmware',
        requireApproval: 'maybe',
        ticket: ' ',
      }),
    );
    for (const flag of [
      '--canary',
      '--waves',
      '--concurrency',
      '--max-failures',
      '--bake',
      '--version-type',
      '--require-approval',
      '--ticket',
    ]) {
      expect(text).toContain(`${flag}:`);
    }
  });
});

describe('validatePolicy', () => {
  it('accepts the defaults with a target version', () => {
    expect(() => validatePolicy(policy(), inventory, { nowMs: NOW })).not.toThrow();
  });

  it.each<[string, Partial<RolloutPolicy>, string]>([
    ['a missing target version', { targetVersion: '' }, 'targetVersion: required'],
    [
      'a malformed firmware version',
      { targetVersion: '2.4.1.0.7' },
      'targetVersion: "2.4.1.0.7" is not a Device version',
    ],
    [
      'a firmware version for DPI',
      { versionType: 'Dpi' },
      'targetVersion: "2.4.1.0" is not a Dpi version (like 20201117_1_0-0.0.1)',
    ],
    ['a bad per-model target', { targetsByModel: { 'sag-100wm': 'v2' } }, 'targetsByModel.sag-100wm'],
    [
      'waves that shrink',
      { waves: { cumulativePercents: [10, 50, 40, 100] } },
      'waves.cumulativePercents[2]: 40% must be larger than the wave before (50%)',
    ],
    [
      'waves that stop short of 100',
      { waves: { cumulativePercents: [10, 50] } },
      'waves.cumulativePercents[1]: the last wave must reach 100%',
    ],
    [
      'a wave share over 100',
      { waves: { cumulativePercents: [50, 150] } },
      'waves.cumulativePercents[1]: 150 must be a percentage in (0, 100]',
    ],
    [
      'a wave share of 0',
      { waves: { cumulativePercents: [0, 100] } },
      'waves.cumulativePercents[0]: 0 must be a percentage',
    ],
    [
      'both percents and sizes',
      { waves: { cumulativePercents: [100], sizes: [5] } },
      'waves: give either cumulativePercents or sizes',
    ],
    ['a zero wave size', { waves: { sizes: [10, 0] } }, 'waves.sizes[1]'],
    [
      'a canary larger than the inventory',
      { canary: { count: 5 } },
      'canary.count: 5 is larger than the inventory (4 devices)',
    ],
    ['a canary percentage over 100', { canary: { percent: 120 } }, 'canary.percent: 120 must be in (0, 100]'],
    [
      'canary devices not in the inventory',
      { canary: { devices: ['sag-0001', 'sag-9999'] } },
      'canary.devices[1]: sag-9999 is not in the inventory',
    ],
    [
      'a canary group nobody is in',
      { canary: { group: 'pilot' } },
      'canary.group: no device of the inventory is in group "pilot"',
    ],
    [
      'an approval gate on a missing canary',
      { canary: { count: 0 }, approval: 'canary' },
      'approval: "canary" needs a canary',
    ],
    ['zero concurrency', { concurrency: 0 }, 'concurrency: 0 must be a whole number, at least 1'],
    ['parts over 1000 devices', { maxPartSize: 2000 }, 'maxPartSize: 2000 must be at most 1000'],
    [
      'a verify timeout too short for its polls',
      { verify: { timeout: '1m', pollInterval: '30s', consecutivePolls: 3 } },
      'verify.timeout: 1m must be longer than pollInterval × consecutivePolls (30s × 3 = 1m30s)',
    ],
    [
      'a failure share over 100',
      {
        failureBudget: {
          maxFailurePercent: 120,
          minFailures: 3,
          maxConsecutiveFailures: 5,
          onBreach: 'pause',
        },
      },
      'failureBudget.maxFailurePercent',
    ],
    [
      'a past deadline',
      { deadline: '2025-06-01T00:00:00Z' },
      'deadline: 2025-06-01T00:00:00Z is not in the future',
    ],
    [
      'a window time zone Intl does not know',
      { windows: [{ kind: 'recurring', cron: '0 2 * * *', duration: '2h', timeZone: 'Asia/Atlantis' }] },
      'windows[0].timeZone: unknown time zone "Asia/Atlantis"',
    ],
    [
      'a window whose cron does not parse',
      { windows: [{ kind: 'recurring', cron: '0 2 * *', duration: '2h', timeZone: 'UTC' }] },
      'windows[0].cron',
    ],
    [
      'a window shorter than one upgrade',
      { windows: [{ kind: 'recurring', cron: '0 2 * * *', duration: 60, timeZone: 'UTC' }] },
      'windows[0].duration: the window is 60ms long, shorter than expectedUpgradeTime (15m)',
    ],
    [
      'a one-off window ending before it starts',
      { windows: [{ kind: 'once', start: '2025-07-01T04:00:00Z', end: '2025-07-01T02:00:00Z' }] },
      'windows[0].end: 2025-07-01T02:00:00Z must be after start',
    ],
    [
      'a window selecting an unknown device',
      {
        windows: [
          {
            kind: 'recurring',
            cron: '0 2 * * *',
            duration: '2h',
            timeZone: 'UTC',
            appliesTo: { devices: ['sag-7777'] },
          },
        ],
      },
      'windows[0].appliesTo.devices[0]: sag-7777 is not in the inventory',
    ],
    [
      'a freeze ending before it starts',
      { freezes: [{ start: '2025-07-02T00:00:00Z', end: '2025-07-01T00:00:00Z' }] },
      'freezes[0].end',
    ],
    [
      'a required ticket that is missing',
      { requireTicket: true },
      'ticket: requireTicket is set but no change ticket was given',
    ],
    [
      'an override with a bad value',
      { errorOverrides: { MadeUpCode: { backoffCoefficient: 0.5 } } },
      'errorOverrides.MadeUpCode.backoffCoefficient: 0.5 must be at least 1',
    ],
    [
      'an override whose maximum interval is below its initial one',
      { errorOverrides: { Throttling: { initialInterval: '1m', maximumInterval: '10s' } } },
      'errorOverrides.Throttling.maximumInterval: 10s is shorter than initialInterval (1m)',
    ],
    [
      'a webhook given by URL (a policy built in code or read from history)',
      { webhooks: [{ url: 'https://hooks.example.com/x', format: 'json' }] },
      'webhooks[0].url: a webhook URL does not belong in the policy',
    ],
    [
      'a webhook listed twice',
      {
        webhooks: [
          { name: 'ops-chat', format: 'chat' },
          { name: 'OPS_CHAT', format: 'json' },
        ],
      },
      'webhooks[1].name: OPS_CHAT is the same webhook as ops-chat: list it once with all its events',
    ],
  ])('refuses %s', (_name, overrides, expected) => {
    expect(problemsOf(() => validatePolicy(policy(overrides), inventory, { nowMs: NOW }))).toContain(
      expected,
    );
  });

  it('accepts overrides of codes it does not know when their values are sound', () => {
    expect(() =>
      validatePolicy(
        policy({ errorOverrides: { FutureAlibabaCode: { action: 'skip', initialInterval: '30s' } } }),
        inventory,
        { nowMs: NOW },
      ),
    ).not.toThrow();
  });

  it('accepts a required ticket when one is given', () => {
    expect(() =>
      validatePolicy(policy({ requireTicket: true }), inventory, { nowMs: NOW, ticket: 'CHG-42' }),
    ).not.toThrow();
  });

  it('reports every problem of the policy in one error', () => {
    const err = (() => {
      try {
        validatePolicy(policy({ targetVersion: '', concurrency: 0, maxPartSize: 5000 }), inventory, {
          nowMs: NOW,
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toHaveLength(3);
  });

  it('lists the problems of many fields in one fixed order, each once', () => {
    const p = policy({
      targetVersion: '2.4-beta',
      canary: { count: 5, percent: 10 },
      waves: { cumulativePercents: [50, 40, 150] },
      concurrency: 0,
      caps: { perRegion: { 'mars-1': 0 } },
      verify: { timeout: '1m', pollInterval: 0, consecutivePolls: 2.5 },
      windows: [
        {
          kind: 'recurring',
          cron: '0 2 * * *',
          duration: '10m',
          timeZone: 'UTC',
          appliesTo: { devices: ['sag-7777'] },
        },
        { kind: 'once', start: '2025-07-01T04:00:00Z', end: '2025-07-01T02:00:00Z' },
      ],
      deadline: '2025-06-01T00:00:00Z',
      requireTicket: true,
      errorOverrides: {
        Throttling: {
          action: 'explode' as 'halt',
          initialInterval: '1m',
          maximumInterval: '10s',
          backoffCoefficient: 0.5,
        },
      },
      webhooks: [
        { name: 'ops-chat', format: 'chat' },
        { name: 'OPS_CHAT', format: 'xml' as 'json' },
      ],
    });
    expect(problemsOf(() => validatePolicy(p, inventory, { nowMs: NOW, operator: ' ' })).split('\n')).toEqual(
      [
        'targetVersion: "2.4-beta" is not a Device version (like 2.4.1.0)',
        'canary: give count or percent, not both',
        'canary.count: 5 is larger than the inventory (4 devices)',
        'waves.cumulativePercents[1]: 40% must be larger than the wave before (50%): shares are cumulative',
        'waves.cumulativePercents[2]: 150 must be a percentage in (0, 100]',
        'waves.cumulativePercents[2]: the last wave must reach 100%, not 150%',
        'concurrency: 0 must be a whole number, at least 1',
        'caps.perRegion.mars-1: unknown region',
        'caps.perRegion.mars-1: 0 must be a whole number, at least 1',
        'verify.consecutivePolls: 2.5 must be a whole number, at least 1',
        'verify.pollInterval: must be longer than 0',
        'windows[0].appliesTo.devices[0]: sag-7777 is not in the inventory',
        'windows[0].duration: the window is 10m long, shorter than expectedUpgradeTime (15m): no device could start in it',
        'windows[1].end: 2025-07-01T02:00:00Z must be after start (2025-07-01T04:00:00Z)',
        'deadline: 2025-06-01T00:00:00Z is not in the future',
        'ticket: requireTicket is set but no change ticket was given (--ticket)',
        'operator: must not be empty',
        'errorOverrides.Throttling.action: "explode" must be one of retry, defer, skip, fail, halt',
        'errorOverrides.Throttling.maximumInterval: 10s is shorter than initialInterval (1m)',
        'errorOverrides.Throttling.backoffCoefficient: 0.5 must be at least 1',
        'webhooks[1].name: OPS_CHAT is the same webhook as ops-chat: list it once with all its events',
        'webhooks[1].format: "xml" must be json or chat',
      ],
    );
  });

  it('refuses windows that never open before the deadline', () => {
    const p = policy({
      windows: [{ kind: 'recurring', cron: '0 2 * * SAT', duration: '4h', timeZone: 'Asia/Shanghai' }],
      deadline: '2025-06-05T00:00:00Z',
    });
    expect(problemsOf(() => validatePolicy(p, inventory, { nowMs: NOW }))).toContain(
      'windows: no change window opens',
    );
  });
});

describe('the documented example policy', () => {
  it('loads and validates against an inventory with the groups and regions it names', () => {
    const text = readFileSync(path.join(__dirname, 'fixtures', 'example-policy.yaml'), 'utf8');
    const p = loadPolicy(text, 'auto', 'example-policy.yaml');
    expect(p.windows).toHaveLength(3);
    expect(p.errorOverrides.SmartAccessGatewayNotOnline).toEqual({
      action: 'defer',
      initialInterval: 300_000,
      maximumInterval: 3_600_000,
      maximumAttempts: 6,
    });
    expect(p.webhooks).toEqual([
      { name: 'ops-chat', format: 'chat', events: ['halted', 'completed', 'aborted'] },
    ]);
    const fleet: InventoryDevice[] = [
      { smartAgId: 'sag-0001', regionId: 'cn-shanghai', group: 'stores', tags: ['retail'] },
      { smartAgId: 'sag-0002', regionId: 'eu-central-1' },
    ];
    expect(() => validatePolicy(p, fleet, { nowMs: Date.parse('2025-11-01T00:00:00Z') })).not.toThrow();
  });
});
