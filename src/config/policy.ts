import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import type {
  ChangeWindow,
  CodePolicy,
  DeviceSelector,
  InventoryDevice,
  RolloutPolicy,
} from '../../domain/types';
import { checkFeasible } from '../windows/instants';
import { parseCron } from '../windows/cron';
import { isKnownTimeZone } from '../windows/zone';
import { formatDuration, parseDuration } from '../common/duration';
import { InputError, ProblemList, formatPath } from '../common/errors';
import { parseInstant } from '../common/instant';
import { SMARTAG_ID, SMARTAG_REGIONS } from './inventory';
import { WEBHOOK_NAME, webhookKey, webhookUrlVar } from './webhooks';

/** Device firmware versions: `2.4.1.0`, `2.0.1`. */
export const FIRMWARE_VERSION = /^\d+(\.\d+){1,3}$/;
/** DPI signature database versions: `20201117_1_0-0.0.1`. */
export const DPI_VERSION = /^\d{8}_\d+_\d+-\d+(\.\d+)*$/;
/** The largest wave part one child workflow runs (Temporal history and pending-child limits). */
export const MAX_PART_SIZE = 1000;

// ------------------------------------------------------------------------------ schema pieces

/** Adds a custom issue for an `InputError` thrown by a field parser. */
function issueFrom(ctx: z.RefinementCtx, err: unknown): void {
  if (!(err instanceof InputError)) throw err;
  for (const p of err.problems) ctx.addIssue({ code: 'custom', message: p });
}

/** A duration written as text (`10m`) or ms, normalised to ms. */
const durationMs = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    issueFrom(ctx, err);
    return z.NEVER;
  }
});

/** A boolean, or a string such as `true`, `yes`, `off` (never `Boolean(str)`). */
const bool = z.preprocess((v) => (typeof v === 'boolean' ? String(v) : v), z.stringbool());

const text = z.string().trim().min(1, 'must not be empty');

const instantText = text.superRefine((value, ctx) => {
  try {
    parseInstant(value, 'x');
  } catch (err) {
    issueFrom(ctx, stripField(err));
  }
});

/** Drops the `x: ` placeholder a parser puts before its message when the path names the field. */
function stripField(err: unknown): unknown {
  if (!(err instanceof InputError)) return err;
  return new InputError(err.problems.map((p) => p.replace(/^x: /, '')));
}

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
    try {
      parseCron(value, 'x');
    } catch (err) {
      issueFrom(ctx, stripField(err));
    }
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

const WEBHOOK_NAME_RULE = "a letter, then letters, digits, '-' or '_' (at most 63)";

/**
 * What is wrong with one webhook entry of a policy. A URL is refused: it would be recorded in
 * workflow history and the report, and chat URLs carry their token in the path or the query, so
 * no check of its shape could tell that it holds no secret.
 */
function webhookProblems(h: { name?: unknown; url?: unknown }): { field: string; message: string }[] {
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
export const policySchema = z.strictObject({
  targetVersion: versionText.default(''),
  versionType: z.enum(['Device', 'Dpi']).default('Device'),
  targetsByModel: z.record(text, versionText).optional(),
  allowBeta: bool.default(false),
  canary: z
    .preprocess((v, ctx) => {
      if (typeof v !== 'string' && typeof v !== 'number') return v;
      try {
        return parseCanary(v, 'x');
      } catch (err) {
        issueFrom(ctx, stripField(err));
        return z.NEVER;
      }
    }, canaryObject)
    .default({ count: 1 }),
  waves: z
    .preprocess((v, ctx) => {
      if (typeof v !== 'string' && !Array.isArray(v)) return v;
      try {
        return parseWaves(Array.isArray(v) ? v.map(String).join(',') : v, 'x');
      } catch (err) {
        issueFrom(ctx, stripField(err));
        return z.NEVER;
      }
    }, wavesObject)
    .default({ cumulativePercents: [10, 50, 100] }),
  maxPartSize: z.int().default(500),
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
});

// Keeps the schema's output and the workflow type in step: this fails to compile if they drift.
type SchemaOutput = z.output<typeof policySchema>;
const _policyFits = (p: SchemaOutput): RolloutPolicy => p;

/** The complete default policy (without a target version, which has no default). */
export function defaultPolicy(): RolloutPolicy {
  return policySchema.parse({});
}

// ------------------------------------------------------------------------------ loading

/**
 * Reads a policy file (YAML or JSON) into a complete {@link RolloutPolicy}, filling every
 * default. Durations come out as numbers of milliseconds. An empty file gives the defaults.
 *
 * This checks the shape and each field on its own (types, enums, durations, cron, time zones,
 * instants); {@link validatePolicy} checks the policy as a whole against an inventory.
 *
 * @param format - `auto` reads JSON when `source` ends in `.json`, YAML otherwise (YAML also
 *   reads JSON).
 * @param source - the file name used in errors, with the line of each problem.
 * @throws {InputError} listing every problem with its line and field path.
 */
export function loadPolicy(
  text: string,
  format: 'yaml' | 'json' | 'auto' = 'auto',
  source = 'policy',
): RolloutPolicy {
  const body = text.replace(/^\uFEFF/, '');
  const kind = format === 'auto' ? (/\.json$/i.test(source) ? 'json' : 'yaml') : format;
  if (kind === 'json') {
    try {
      JSON.parse(body);
    } catch (err) {
      throw new InputError([
        `${source}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      ]);
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(body, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new InputError(
      doc.errors.map(
        (e) => `${source} line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0] ?? e.message}`,
      ),
      `${source} cannot be read:`,
    );
  }
  const data: unknown = doc.toJS() ?? {};
  const result = policySchema.safeParse(data);
  if (!result.success) {
    const located = issueMessages(result.error.issues).map(({ path, message }) => {
      const line = lineOf(doc, lineCounter, path);
      return {
        line: line ?? Number.MAX_SAFE_INTEGER,
        text: `${source}${line ? ` line ${line}` : ''}: ${formatPath(path)}: ${message}`,
      };
    });
    located.sort((a, b) => a.line - b.line);
    throw new InputError(
      located.map((p) => p.text),
      `${source} is not a valid policy:`,
    );
  }
  return result.data;
}

function issueMessages(
  issues: z.core.$ZodIssue[],
  base: PropertyKey[] = [],
): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown field' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the option that got furthest (the one with the deepest issue).
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
      out.push(...issueMessages(best, path));
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

function depth(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));
}

/** The 1-based line of the nearest node on `path` that exists in the YAML document. */
function lineOf(doc: Document, counter: LineCounter, path: PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown =
      n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as Array<string | number>, true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

// ------------------------------------------------------------------------------ flags

/**
 * The policy flags of the CLI (`start`, `plan`), as commander hands them over: strings, or
 * numbers where a caller already converted them. Every flag overrides the policy file.
 */
export interface PolicyFlags {
  /** `--target-version`: the `VersionCode` to roll out. */
  targetVersion?: string;
  /** `--version-type`: `Device` (firmware) or `Dpi` (signature database), any letter case. */
  versionType?: string;
  /** `--canary`: `N` devices or `P%` of the inventory, from the top; replaces the file's canary. */
  canary?: string | number;
  /** `--waves`: cumulative shares after the canary (`10%,50%,100%`) or fixed sizes (`100,200,rest`). */
  waves?: string;
  /** `--concurrency`: devices in flight at once. */
  concurrency?: string | number;
  /** `--max-per-minute`: devices started per minute. */
  maxPerMinute?: string | number;
  /** `--max-failures`: the failure budget as `P%` of finished devices. */
  maxFailures?: string;
  /** `--bake`: wait after each wave (`10m`). */
  bake?: string | number;
  /** `--require-approval`: `none`, `canary` or `each-wave`. */
  requireApproval?: string;
  /** `--verify-timeout`: how long a device may take to report the target version. */
  verifyTimeout?: string | number;
  /** `--ticket`: the change ticket (kept in the rollout input, not the policy). */
  ticket?: string;
  /** `--operator`: who starts the rollout (kept in the rollout input, not the policy). */
  operator?: string;
}

/**
 * Parses a canary as written on the command line: `N` devices or `P%` of the inventory.
 * @throws {InputError} naming `field`.
 */
export function parseCanary(value: string | number, field = '--canary'): RolloutPolicy['canary'] {
  const t = String(value).trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p > 0 && p <= 100))
      throw new InputError([`${field}: ${JSON.stringify(t)} must be a percentage in (0, 100]`]);
    return { percent: p };
  }
  if (/^\d+$/.test(t)) return { count: Number(t) };
  throw new InputError([
    `${field}: ${JSON.stringify(t)} is neither a device count (5) nor a percentage (5%)`,
  ]);
}

/**
 * Parses waves as written on the command line: cumulative shares of the devices after the
 * canary, ending at 100 (`10%,50%,100%`), or fixed wave sizes ending in `rest`
 * (`100,200,rest`: waves of 100 and 200 devices, then everything left). Plain numbers without
 * `%` or `rest` are refused, since `10,50,100` could mean either.
 * @throws {InputError} naming `field` and the item.
 */
export function parseWaves(value: string, field = '--waves'): RolloutPolicy['waves'] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = (why: string): never => {
    throw new InputError([`${field}: ${JSON.stringify(value)} ${why} (write 10%,50%,100% or 100,200,rest)`]);
  };
  if (items.length === 0) return bad('lists no wave');
  if (items.every((s) => s.endsWith('%'))) {
    const percents = items.map((s) => Number(s.slice(0, -1).trim()));
    const wrong = percents.findIndex((p) => !Number.isFinite(p));
    if (wrong >= 0) return bad(`has a bad percentage at item ${wrong + 1}`);
    return { cumulativePercents: percents };
  }
  if (items[items.length - 1]?.toLowerCase() === 'rest') {
    const sizes = items.slice(0, -1).map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
    const wrong = sizes.findIndex((n) => !(n > 0));
    if (wrong >= 0) return bad(`has a bad size at item ${wrong + 1} (sizes are whole numbers of devices)`);
    if (sizes.length === 0) return bad('has no fixed size before rest');
    return { sizes };
  }
  return bad('mixes forms or leaves out % or rest');
}

function parseCount(value: string | number, field: string, min: number): number {
  const t = String(value).trim();
  if (!/^\d+$/.test(t) || Number(t) < min)
    throw new InputError([`${field}: ${JSON.stringify(t)} must be a whole number of at least ${min}`]);
  return Number(t);
}

function oneOf<T extends string>(value: string, options: readonly T[], field: string): T {
  const found = options.find((o) => o.toLowerCase() === value.trim().toLowerCase());
  if (found === undefined)
    throw new InputError([`${field}: ${JSON.stringify(value)} must be one of ${options.join(', ')}`]);
  return found;
}

/**
 * Applies CLI flags over a policy and returns a new policy (the input is not changed).
 * `ticket` and `operator` are checked here but belong to the rollout input; pass them to
 * {@link validatePolicy} as its context.
 * @throws {InputError} listing every bad flag.
 */
export function applyPolicyFlags(policy: RolloutPolicy, flags: PolicyFlags): RolloutPolicy {
  const out: RolloutPolicy = structuredClone(policy);
  const problems = new ProblemList();
  const set = (fn: () => void): void => {
    problems.attempt(fn);
  };
  if (flags.targetVersion !== undefined) {
    set(() => {
      const v = flags.targetVersion?.trim() ?? '';
      if (v === '') throw new InputError(['--target-version: must not be empty']);
      out.targetVersion = v;
    });
  }
  if (flags.versionType !== undefined)
    set(
      () => (out.versionType = oneOf(flags.versionType ?? '', ['Device', 'Dpi'] as const, '--version-type')),
    );
  if (flags.canary !== undefined) set(() => (out.canary = parseCanary(flags.canary ?? '')));
  if (flags.waves !== undefined) set(() => (out.waves = parseWaves(flags.waves ?? '')));
  if (flags.concurrency !== undefined)
    set(() => (out.concurrency = parseCount(flags.concurrency ?? '', '--concurrency', 1)));
  if (flags.maxPerMinute !== undefined)
    set(() => (out.maxPerMinute = parseCount(flags.maxPerMinute ?? '', '--max-per-minute', 1)));
  if (flags.maxFailures !== undefined) {
    set(() => {
      const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(flags.maxFailures?.trim() ?? '');
      const p = m ? Number(m[1]) : NaN;
      if (!(p >= 0 && p <= 100))
        throw new InputError([
          `--max-failures: ${JSON.stringify(flags.maxFailures)} must be a percentage such as 5%`,
        ]);
      out.failureBudget = { ...out.failureBudget, maxFailurePercent: p };
    });
  }
  if (flags.bake !== undefined) set(() => (out.bake = parseDuration(flags.bake ?? '', '--bake')));
  if (flags.requireApproval !== undefined) {
    set(
      () =>
        (out.approval = oneOf(
          flags.requireApproval ?? '',
          ['none', 'canary', 'each-wave'] as const,
          '--require-approval',
        )),
    );
  }
  if (flags.verifyTimeout !== undefined) {
    set(
      () =>
        (out.verify = {
          ...out.verify,
          timeout: parseDuration(flags.verifyTimeout ?? '', '--verify-timeout'),
        }),
    );
  }
  if (flags.ticket !== undefined && flags.ticket.trim() === '') problems.add('--ticket: must not be empty');
  if (flags.operator !== undefined && flags.operator.trim() === '')
    problems.add('--operator: must not be empty');
  problems.throwIfAny('bad flags:');
  return out;
}

// ------------------------------------------------------------------------------ validation

/** What {@link validatePolicy} needs besides the policy and the inventory. */
export interface ValidationContext {
  /** The change ticket the rollout runs under (`--ticket`). */
  ticket?: string;
  /** Who starts the rollout (`--operator`). */
  operator?: string;
  /** The current time, ms since the epoch (default `Date.now()`). */
  nowMs?: number;
}

/**
 * Checks a complete policy against the inventory it will run over, collecting every problem:
 * target version (required; firmware `2.4.1.0`, DPI `20201117_1_0-0.0.1`), canary (not larger
 * than the inventory, named devices and group present), waves (percentages in (0, 100],
 * strictly increasing, ending at 100; or positive sizes), pace (`concurrency` ≥ 1,
 * `maxPartSize` ≤ 1000), failure budget, durations (verify timeout longer than poll interval ×
 * consecutive polls), windows and freezes (cron, time zone, duration, one-off end after
 * start, selectors naming known devices and regions), deadline in the future, ticket when
 * `requireTicket`, error overrides' values, webhooks. When that all holds and windows, freezes
 * or a deadline are set, it also checks with {@link checkFeasible} that some device can start.
 *
 * @throws {InputError} listing every problem with its field path (`waves.cumulativePercents[2]`,
 *   `windows[0].timeZone`).
 */
export function validatePolicy(
  policy: RolloutPolicy,
  inventory: InventoryDevice[],
  context: ValidationContext = {},
): void {
  const problems = new ProblemList();
  const nowMs = context.nowMs ?? Date.now();
  const ids = new Set(inventory.map((d) => d.smartAgId));
  const groups = new Set(inventory.flatMap((d) => (d.group !== undefined ? [d.group] : [])));
  const regions = new Set([...SMARTAG_REGIONS, ...inventory.map((d) => d.regionId)]);
  const ms = (value: unknown, field: string): number | undefined =>
    problems.attempt(() => parseDuration(value as string | number, field));

  // Target.
  const versionRule = policy.versionType === 'Dpi' ? DPI_VERSION : FIRMWARE_VERSION;
  const versionExample = policy.versionType === 'Dpi' ? '20201117_1_0-0.0.1' : '2.4.1.0';
  if (policy.versionType !== 'Device' && policy.versionType !== 'Dpi') {
    problems.add(`versionType: ${JSON.stringify(policy.versionType)} must be Device or Dpi`);
  }
  if (!policy.targetVersion) {
    problems.add('targetVersion: required (set it in the policy file or with --target-version)');
  } else if (!versionRule.test(policy.targetVersion)) {
    problems.add(
      `targetVersion: ${JSON.stringify(policy.targetVersion)} is not a ${policy.versionType} version (like ${versionExample})`,
    );
  }
  for (const [model, version] of Object.entries(policy.targetsByModel ?? {})) {
    if (!versionRule.test(version))
      problems.add(
        `targetsByModel.${model}: ${JSON.stringify(version)} is not a ${policy.versionType} version (like ${versionExample})`,
      );
  }

  // Canary.
  if (inventory.length === 0) problems.add('inventory: lists no device');
  const canary = policy.canary;
  if (canary.count !== undefined && canary.percent !== undefined)
    problems.add('canary: give count or percent, not both');
  if (
    canary.devices !== undefined &&
    (canary.count !== undefined || canary.percent !== undefined || canary.group !== undefined)
  ) {
    problems.add('canary.devices: names the canary itself; leave out count, percent and group');
  }
  if (canary.count !== undefined) {
    if (!Number.isInteger(canary.count) || canary.count < 0)
      problems.add(`canary.count: ${canary.count} must be a whole number, 0 or more`);
    else if (canary.count > inventory.length)
      problems.add(
        `canary.count: ${canary.count} is larger than the inventory (${inventory.length} devices)`,
      );
  }
  if (canary.percent !== undefined && !(canary.percent > 0 && canary.percent <= 100)) {
    problems.add(`canary.percent: ${canary.percent} must be in (0, 100]`);
  }
  const seenCanary = new Set<string>();
  canary.devices?.forEach((id, i) => {
    if (!ids.has(id)) problems.add(`canary.devices[${i}]: ${id} is not in the inventory`);
    if (seenCanary.has(id)) problems.add(`canary.devices[${i}]: ${id} is listed twice`);
    seenCanary.add(id);
  });
  if (canary.group !== undefined && !groups.has(canary.group))
    problems.add(`canary.group: no device of the inventory is in group ${JSON.stringify(canary.group)}`);
  const noCanary = canary.count === 0 && canary.devices === undefined && canary.group === undefined;
  if (policy.approval === 'canary' && noCanary)
    problems.add('approval: "canary" needs a canary, but canary.count is 0');

  // Waves.
  const { cumulativePercents, sizes } = policy.waves;
  if ((cumulativePercents === undefined) === (sizes === undefined)) {
    problems.add('waves: give either cumulativePercents or sizes');
  }
  if (cumulativePercents !== undefined) {
    if (cumulativePercents.length === 0) problems.add('waves.cumulativePercents: lists no wave');
    cumulativePercents.forEach((p, i) => {
      const at = `waves.cumulativePercents[${i}]`;
      if (!(typeof p === 'number' && p > 0 && p <= 100))
        problems.add(`${at}: ${p} must be a percentage in (0, 100]`);
      const prev = cumulativePercents[i - 1];
      if (prev !== undefined && !(p > prev))
        problems.add(`${at}: ${p}% must be larger than the wave before (${prev}%): shares are cumulative`);
    });
    const last = cumulativePercents[cumulativePercents.length - 1];
    if (last !== undefined && last !== 100)
      problems.add(
        `waves.cumulativePercents[${cumulativePercents.length - 1}]: the last wave must reach 100%, not ${last}%`,
      );
  }
  sizes?.forEach((n, i) => {
    if (!(Number.isInteger(n) && n > 0))
      problems.add(`waves.sizes[${i}]: ${n} must be a whole number of devices, more than 0`);
  });
  if (sizes !== undefined && sizes.length === 0) problems.add('waves.sizes: lists no wave');

  // Pace.
  const wholeAtLeast = (value: number | undefined, field: string, min: number, max?: number): void => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min)
      problems.add(`${field}: ${value} must be a whole number, at least ${min}`);
    else if (max !== undefined && value > max) problems.add(`${field}: ${value} must be at most ${max}`);
  };
  wholeAtLeast(policy.maxPartSize, 'maxPartSize', 1, MAX_PART_SIZE);
  wholeAtLeast(policy.concurrency, 'concurrency', 1);
  wholeAtLeast(policy.maxPerMinute, 'maxPerMinute', 1);
  for (const [region, cap] of Object.entries(policy.caps?.perRegion ?? {})) {
    if (!regions.has(region)) problems.add(`caps.perRegion.${region}: unknown region`);
    wholeAtLeast(cap, `caps.perRegion.${region}`, 1);
  }
  for (const [group, cap] of Object.entries(policy.caps?.perGroup ?? {}))
    wholeAtLeast(cap, `caps.perGroup.${group}`, 1);

  // Failure budget.
  const fb = policy.failureBudget;
  if (!(fb.maxFailurePercent >= 0 && fb.maxFailurePercent <= 100))
    problems.add(`failureBudget.maxFailurePercent: ${fb.maxFailurePercent} must be in [0, 100]`);
  wholeAtLeast(fb.minFailures, 'failureBudget.minFailures', 0);
  wholeAtLeast(fb.maxConsecutiveFailures, 'failureBudget.maxConsecutiveFailures', 0);
  if (fb.onBreach !== 'pause' && fb.onBreach !== 'abort')
    problems.add(`failureBudget.onBreach: ${JSON.stringify(fb.onBreach)} must be pause or abort`);

  // Durations.
  ms(policy.bake, 'bake');
  ms(policy.upgradeSettle, 'upgradeSettle');
  const expected = ms(policy.expectedUpgradeTime, 'expectedUpgradeTime');
  if (expected === 0) problems.add('expectedUpgradeTime: must be longer than 0');
  const retry = ms(policy.offlineRetryDelay, 'offlineRetryDelay');
  if (retry === 0) problems.add('offlineRetryDelay: must be longer than 0');
  const timeout = ms(policy.verify.timeout, 'verify.timeout');
  const poll = ms(policy.verify.pollInterval, 'verify.pollInterval');
  wholeAtLeast(policy.verify.consecutivePolls, 'verify.consecutivePolls', 1);
  if (poll === 0) problems.add('verify.pollInterval: must be longer than 0');
  if (timeout !== undefined && poll !== undefined && Number.isInteger(policy.verify.consecutivePolls)) {
    const needed = poll * policy.verify.consecutivePolls;
    if (!(timeout > needed)) {
      problems.add(
        `verify.timeout: ${formatDuration(timeout)} must be longer than pollInterval × consecutivePolls (${formatDuration(poll)} × ${policy.verify.consecutivePolls} = ${formatDuration(needed)})`,
      );
    }
  }
  if (policy.approval !== 'none' && policy.approval !== 'canary' && policy.approval !== 'each-wave') {
    problems.add(`approval: ${JSON.stringify(policy.approval)} must be none, canary or each-wave`);
  }

  // Windows, freezes, deadline.
  const checkSelector = (sel: DeviceSelector | undefined, at: string): void => {
    sel?.devices?.forEach((id, i) => {
      if (!SMARTAG_ID.test(id)) problems.add(`${at}.devices[${i}]: ${JSON.stringify(id)} is not a SmartAGId`);
      else if (!ids.has(id)) problems.add(`${at}.devices[${i}]: ${id} is not in the inventory`);
    });
    sel?.regions?.forEach((r, i) => {
      if (!regions.has(r)) problems.add(`${at}.regions[${i}]: unknown region ${JSON.stringify(r)}`);
    });
  };
  policy.windows.forEach((w: ChangeWindow, i) => {
    const at = `windows[${i}]`;
    checkSelector(w.appliesTo, `${at}.appliesTo`);
    let length: number | undefined;
    if (w.kind === 'recurring') {
      problems.attempt(() => parseCron(w.cron, `${at}.cron`));
      if (!isKnownTimeZone(w.timeZone))
        problems.add(
          `${at}.timeZone: unknown time zone ${JSON.stringify(w.timeZone)} (use an IANA name such as Asia/Shanghai)`,
        );
      length = ms(w.duration, `${at}.duration`);
      if (length === 0) problems.add(`${at}.duration: must be longer than 0`);
    } else if (w.kind === 'once') {
      const start = problems.attempt(() => parseInstant(w.start, `${at}.start`));
      const end = problems.attempt(() => parseInstant(w.end, `${at}.end`));
      if (start !== undefined && end !== undefined) {
        if (end <= start) problems.add(`${at}.end: ${w.end} must be after start (${w.start})`);
        else length = end - start;
      }
    } else {
      problems.add(`${at}.kind: must be recurring or once`);
    }
    if (length !== undefined && length > 0 && expected !== undefined && length < expected) {
      problems.add(
        `${at}.duration: the window is ${formatDuration(length)} long, shorter than expectedUpgradeTime (${formatDuration(expected)}): no device could start in it`,
      );
    }
  });
  policy.freezes.forEach((f, i) => {
    const at = `freezes[${i}]`;
    checkSelector(f.appliesTo, `${at}.appliesTo`);
    const start = problems.attempt(() => parseInstant(f.start, `${at}.start`));
    const end = problems.attempt(() => parseInstant(f.end, `${at}.end`));
    if (start !== undefined && end !== undefined && end <= start)
      problems.add(`${at}.end: ${f.end} must be after start (${f.start})`);
  });
  if (policy.deadline !== undefined) {
    const deadline = problems.attempt(() => parseInstant(policy.deadline ?? '', 'deadline'));
    if (deadline !== undefined && deadline <= nowMs)
      problems.add(`deadline: ${policy.deadline} is not in the future`);
  }

  // Ticket and operator.
  if (policy.requireTicket && !context.ticket?.trim())
    problems.add('ticket: requireTicket is set but no change ticket was given (--ticket)');
  if (context.operator !== undefined && context.operator.trim() === '')
    problems.add('operator: must not be empty');

  // Error overrides: any code may be named; its values must make sense.
  for (const [code, row] of Object.entries(policy.errorOverrides)) {
    const at = `errorOverrides.${code}`;
    checkCodePolicy(row, at, problems);
  }

  // Webhooks: by name only; the worker holds their URLs.
  const webhookNames: Record<string, string> = {};
  policy.webhooks.forEach((h, i) => {
    for (const p of webhookProblems(h)) problems.add(`webhooks[${i}].${p.field}: ${p.message}`);
    if (h.name !== undefined) {
      if (typeof h.name !== 'string' || !WEBHOOK_NAME.test(h.name)) {
        problems.add(`webhooks[${i}].name: ${JSON.stringify(h.name)} must be ${WEBHOOK_NAME_RULE}`);
      } else {
        const key = webhookKey(h.name);
        const earlier = webhookNames[key];
        if (earlier !== undefined)
          problems.add(
            `webhooks[${i}].name: ${h.name} is the same webhook as ${earlier}: list it once with all its events`,
          );
        else webhookNames[key] = h.name;
      }
    }
    if (h.format !== 'json' && h.format !== 'chat')
      problems.add(`webhooks[${i}].format: ${JSON.stringify(h.format)} must be json or chat`);
  });

  if (
    problems.problems.length === 0 &&
    (policy.windows.length > 0 || policy.freezes.length > 0 || policy.deadline !== undefined)
  ) {
    problems.attempt(() => checkFeasible(policy, nowMs, inventory));
  }
  problems.throwIfAny('the rollout policy is not valid:');
}

function checkCodePolicy(row: Partial<CodePolicy>, at: string, problems: ProblemList): void {
  const enumCheck = (value: string | undefined, field: string, options: string[]): void => {
    if (value !== undefined && !options.includes(value))
      problems.add(`${at}.${field}: ${JSON.stringify(value)} must be one of ${options.join(', ')}`);
  };
  enumCheck(row.class, 'class', ['device', 'service', 'rollout']);
  enumCheck(row.persistence, 'persistence', ['transient', 'permanent']);
  enumCheck(row.action, 'action', ['retry', 'defer', 'skip', 'fail', 'halt']);
  const initial =
    row.initialInterval !== undefined
      ? problems.attempt(() => parseDuration(row.initialInterval ?? 0, `${at}.initialInterval`))
      : undefined;
  const maximum =
    row.maximumInterval !== undefined
      ? problems.attempt(() => parseDuration(row.maximumInterval ?? 0, `${at}.maximumInterval`))
      : undefined;
  if (initial === 0) problems.add(`${at}.initialInterval: must be longer than 0`);
  if (initial !== undefined && maximum !== undefined && maximum < initial) {
    problems.add(
      `${at}.maximumInterval: ${formatDuration(maximum)} is shorter than initialInterval (${formatDuration(initial)})`,
    );
  }
  if (row.backoffCoefficient !== undefined && !(row.backoffCoefficient >= 1))
    problems.add(`${at}.backoffCoefficient: ${row.backoffCoefficient} must be at least 1`);
  if (
    row.maximumAttempts !== undefined &&
    !(Number.isInteger(row.maximumAttempts) && row.maximumAttempts >= 0)
  ) {
    problems.add(
      `${at}.maximumAttempts: ${row.maximumAttempts} must be a whole number, 0 (unlimited) or more`,
    );
  }
}
