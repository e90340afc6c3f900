import { z } from 'zod';
import type { RolloutPolicy } from '../../../domain/types';
import { parseDuration } from '../../common/duration';
import { parseInstant } from '../../common/instant';
import { parseCron } from '../../windows/cron';
import { isKnownTimeZone } from '../../windows/zone';
import { WEBHOOK_NAME, webhookUrlVar } from '../webhooks';
import { isJsonPath } from '../../../domain/probe';
import { readField } from './checks';
import { parseCanary, parseWaves } from './flags';

/** A duration written as text (`10m`) or ms, normalised to ms. */
const durationMs = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => readField(parseDuration, value, ctx) ?? z.NEVER);

/** A boolean, or a string such as `true`, `yes`, `off` (never `Boolean(str)`). */
const bool = z.preprocess((v) => (typeof v === 'boolean' ? String(v) : v), z.stringbool());

const text = z.string().trim().min(1, 'must not be empty');

const instantText = text.superRefine((value, ctx) => {
  readField(parseInstant, value, ctx);
});

const percent = z.number().gt(0, 'must be more than 0').lte(100, 'must be at most 100');

const selector = z.strictObject({
  regions: z.array(text).optional(),
  groups: z.array(text).optional(),
  tags: z.array(text).optional(),
  devices: z.array(text).optional(),
});

const recurringWindow = z.strictObject({
  kind: z.literal('recurring'),
  cron: text.superRefine((value, ctx) => {
    readField(parseCron, value, ctx);
  }),
  duration: durationMs.refine((ms) => ms > 0, 'must be longer than 0'),
  timeZone: text.refine(isKnownTimeZone, 'unknown time zone (use an IANA name such as Asia/Shanghai)'),
  appliesTo: selector.optional(),
  name: z.string().optional(),
});

const onceWindow = z.strictObject({
  kind: z.literal('once'),
  start: instantText,
  end: instantText,
  appliesTo: selector.optional(),
  name: z.string().optional(),
});

/** A window; `kind` may be left out (a `cron` makes it recurring, `start`/`end` a one-off). */
const changeWindow = z.preprocess(
  (v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !('kind' in v)) {
      return { kind: 'cron' in v ? 'recurring' : 'once', ...v };
    }
    return v;
  },
  z.discriminatedUnion('kind', [recurringWindow, onceWindow]),
);

const freeze = z.strictObject({
  start: instantText,
  end: instantText,
  appliesTo: selector.optional(),
  reason: z.string().optional(),
});

const codePolicy = z.strictObject({
  class: z.enum(['device', 'service', 'rollout']).optional(),
  persistence: z.enum(['transient', 'permanent']).optional(),
  action: z.enum(['retry', 'defer', 'skip', 'fail', 'halt']).optional(),
  initialInterval: durationMs.optional(),
  maximumInterval: durationMs.optional(),
  backoffCoefficient: z.number().gte(1, 'must be at least 1').optional(),
  maximumAttempts: z.int().gte(0, 'must be 0 (unlimited) or more').optional(),
});

const canaryObject = z.strictObject({
  count: z.int().gte(0, 'must be 0 (no canary) or more').optional(),
  percent: percent.optional(),
  devices: z.array(text).min(1, 'must list at least one device').optional(),
  group: text.optional(),
});

const wavesObject = z.strictObject({
  cumulativePercents: z.array(z.number()).min(1, 'must list at least one wave').optional(),
  sizes: z.array(z.int().gt(0, 'must be more than 0')).min(1, 'must list at least one wave').optional(),
});

/** Version strings: YAML reads an unquoted `2.10` as the number 2.1, so numbers are refused. */
const versionText = z.preprocess((v, ctx) => {
  if (typeof v === 'number') {
    ctx.addIssue({
      code: 'custom',
      message: `write the version as quoted text ("${v}"): YAML and JSON read numbers like 2.10 as 2.1`,
    });
    return z.NEVER;
  }
  return v;
}, z.string().trim());

export const WEBHOOK_NAME_RULE = "a letter, then letters, digits, '-' or '_' (at most 63)";

/**
 * What is wrong with one webhook entry of a policy. A URL is refused: it would be recorded in
 * workflow history and the report, and chat URLs carry their token in the path or the query, so
 * no check of its shape could tell that it holds no secret.
 */
export function webhookProblems(h: { name?: unknown; url?: unknown }): { field: string; message: string }[] {
  const name = typeof h.name === 'string' && WEBHOOK_NAME.test(h.name) ? h.name : 'ops-chat';
  if (h.url !== undefined) {
    return [
      {
        field: 'url',
        message:
          `a webhook URL does not belong in the policy (it would be recorded in workflow history and the report, and chat URLs carry their token): ` +
          `${h.name === undefined ? `name the webhook (name: ${name}) and ` : 'remove url and '}give the worker its URL in ${webhookUrlVar(name)} or its --webhooks file`,
      },
    ];
  }
  if (h.name === undefined)
    return [
      {
        field: 'name',
        message: `required: the webhook's name in the worker's configuration (${webhookUrlVar('ops-chat')} for ops-chat)`,
      },
    ];
  return [];
}

/**
 * The policy file. Every field is optional; the result is a complete {@link RolloutPolicy} in
 * which all durations are numbers of milliseconds. Unknown fields are refused (a misspelt key
 * would otherwise fall back to a default without a word).
 */
const probeName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes, starting with a letter');

/** A JSON path of the supported form: `$.a.b[0].c`. */
const jsonPath = z.string().refine(isJsonPath, 'must be a JSON path such as $.data.result[0].value[1]');

/**
 * A probe's or wave query's URL. The policy lands in workflow history, so a URL carrying a
 * credential (`https://user:token@host`) is refused: secrets go in `SAG_PROBE_<NAME>_HEADERS`.
 */
const httpUrl = z
  .string()
  .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
  .refine(
    (u) => !/^https?:\/\/[^/?#]*@/.test(u),
    'must not carry a user or password (it would be kept in the workflow history): send credentials in the SAG_PROBE_<NAME>_HEADERS headers',
  );

const probe = z
  .strictObject({
    name: probeName,
    url: httpUrl,
    method: z.enum(['GET', 'POST', 'HEAD']).default('GET'),
    expectStatus: z.int().gte(100).lte(599).default(200),
    bodyRegex: z
      .string()
      .refine((r) => {
        try {
          new RegExp(r);
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .optional(),
    jsonPath: jsonPath.optional(),
    equals: z.string().optional(),
    timeout: durationMs.default(parseDuration('10s')),
    interval: durationMs.default(parseDuration('10s')),
    successes: z.int().gte(1, 'must be 1 or more').default(3),
    failureLimit: z.int().gte(1, 'must be 1 or more').default(5),
  })
  .refine((p) => p.equals === undefined || p.jsonPath !== undefined, {
    message: 'equals needs a jsonPath',
    path: ['equals'],
  });

const waveQuery = z
  .strictObject({
    name: probeName,
    url: httpUrl,
    jsonPath: jsonPath.optional(),
    max: z.number().optional(),
    min: z.number().optional(),
    timeout: durationMs.default(parseDuration('10s')),
  })
  .refine((q) => q.max !== undefined || q.min !== undefined, {
    message: 'give max, min or both',
    path: ['max'],
  });

/** The health analysis after each upgrade; on by default with links, HA and the controller (no extra call for a single device). */
const health = z
  .strictObject({
    links: bool.default(true),
    ha: bool.default(true),
    controller: bool.default(true),
    diagnosis: bool.default(false),
    features: z.array(text).default([]),
    grace: durationMs.default(parseDuration('60s')),
    probes: z
      .array(probe)
      .default([])
      .refine((list) => new Set(list.map((p) => p.name)).size === list.length, 'probe names must differ'),
    waveQuery: waveQuery.optional(),
  })
  .prefault({});

export const policySchema = z.strictObject({
  health,
  targetVersion: versionText.default(''),
  versionType: z.enum(['Device', 'Dpi']).default('Device'),
  targetsByModel: z.record(text, versionText).optional(),
  allowBeta: bool.default(false),
  canary: z
    .preprocess((v, ctx) => {
      if (typeof v !== 'string' && typeof v !== 'number') return v;
      return readField(parseCanary, v, ctx) ?? z.NEVER;
    }, canaryObject)
    .default({ count: 1 }),
  waves: z
    .preprocess((v, ctx) => {
      if (typeof v !== 'string' && !Array.isArray(v)) return v;
      return readField(parseWaves, Array.isArray(v) ? v.map(String).join(',') : v, ctx) ?? z.NEVER;
    }, wavesObject)
    .default({ cumulativePercents: [10, 50, 100] }),
  maxPartSize: z.int().default(500),
  overlapParts: bool.optional(),
  concurrency: z.int().default(50),
  maxPerMinute: z.int().optional(),
  caps: z
    .strictObject({
      perRegion: z.record(text, z.int().gt(0, 'must be more than 0')).optional(),
      perGroup: z.record(text, z.int().gt(0, 'must be more than 0')).optional(),
    })
    .optional(),
  failureBudget: z
    .strictObject({
      maxFailurePercent: z.number().default(10),
      minFailures: z.int().default(3),
      maxConsecutiveFailures: z.int().default(5),
      onBreach: z.enum(['pause', 'abort']).default('pause'),
    })
    .prefault({}),
  bake: durationMs.default(parseDuration('5m')),
  healthRecheck: bool.default(true),
  approval: z.enum(['none', 'canary', 'each-wave']).default('none'),
  approverMustDiffer: bool.default(false),
  verify: z
    .strictObject({
      timeout: durationMs.default(parseDuration('30m')),
      pollInterval: durationMs.default(parseDuration('30s')),
      consecutivePolls: z.int().default(3),
    })
    .prefault({}),
  // Alibaba documents an upgrade as about 10 minutes, downloading first while the device stays
  // online on its old version: a shorter watch would mistake a download for "nothing happened".
  upgradeSettle: durationMs.default(parseDuration('15m')),
  noSignAfterSettle: z.enum(['unconfirmed', 'resend']).default('unconfirmed'),
  expectedUpgradeTime: durationMs.default(parseDuration('15m')),
  offlineRetryDelay: durationMs.default(parseDuration('10m')),
  compensation: z
    .strictObject({
      repairHaPairs: bool.default(true),
      requestPreviousVersion: bool.default(false),
    })
    .prefault({}),
  autoUpgradeAfter: z.enum(['restore', 'manual']).default('restore'),
  windows: z.array(changeWindow).default([]),
  freezes: z.array(freeze).default([]),
  deadline: instantText.optional(),
  requireTicket: bool.default(false),
  errorOverrides: z.record(text, codePolicy).default({}),
  webhooks: z
    .array(
      z
        .strictObject({
          name: z.string().regex(WEBHOOK_NAME, WEBHOOK_NAME_RULE).optional(),
          // Kept in the schema only to refuse it with its remedy (see webhookProblems).
          url: z.unknown().optional(),
          format: z.enum(['json', 'chat']).default('json'),
          events: z.array(text).optional(),
        })
        .superRefine((h, ctx) => {
          for (const p of webhookProblems(h))
            ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
        })
        .transform(({ url: _url, ...h }) => h),
    )
    .default([]),
  apiBudget: z
    .strictObject({
      requestsPerSecond: z.number().gt(0, 'must be more than 0').optional(),
      callsPerDevice: z.number().gt(0, 'must be more than 0').optional(),
      firstPollAfter: durationMs.optional(),
      bulkStatus: bool.optional(),
      shareVersions: bool.optional(),
    })
    .optional(),
});

// Keeps the schema's output and the workflow type in step: this fails to compile if they drift.
type SchemaOutput = z.output<typeof policySchema>;
const _policyFits = (p: SchemaOutput): RolloutPolicy => p;

/** The complete default policy (without a target version, which has no default). */
export function defaultPolicy(): RolloutPolicy {
  return policySchema.parse({});
}
