import { z } from 'zod';
import type { CodePolicy, RolloutPolicy, WebhookTarget } from '../../../domain/types';
import { formatDuration, parseDuration } from '../../common/duration';
import { WEBHOOK_NAME, webhookKey } from '../webhooks';
import { duration, inOrder, numberWhere, oneOf, readField, relay, report, whole } from './checks';
import { WEBHOOK_NAME_RULE, webhookProblems } from './schema';

/**
 * The rules of a complete policy (durations as text or ms, as a policy built in code or read from
 * history has them), each a zod schema over the whole policy that reports its problems as issues
 * at their field paths. Those that need the fleet, the time or who starts the rollout are built
 * from a {@link RolloutContext}. `validate.ts` runs them in order.
 */

/** Device firmware versions: `2.4.1.0`, `2.0.1`. */
export const FIRMWARE_VERSION = /^\d+(\.\d+){1,3}$/;
/** DPI signature database versions: `20201117_1_0-0.0.1`. */
export const DPI_VERSION = /^\d{8}_\d+_\d+-\d+(\.\d+)*$/;
/** The largest wave part one child workflow runs (Temporal history and pending-child limits). */
export const MAX_PART_SIZE = 1000;

/** What a policy is checked against besides itself: the fleet, the time, who starts it. */
export interface RolloutContext {
  /** How many devices the inventory lists. */
  size: number;
  ids: ReadonlySet<string>;
  groups: ReadonlySet<string>;
  /** Alibaba's regions and the inventory's. */
  regions: ReadonlySet<string>;
  nowMs: number;
  ticket?: string;
  operator?: string;
}

// ------------------------------------------------------------------------------ target and canary

export const versionType = z.object({ versionType: oneOf(['Device', 'Dpi'], 'Device or Dpi') });

/** Target versions in the form of the version type (firmware `2.4.1.0`, DPI `20201117_1_0-0.0.1`). */
export const targetVersions = z.custom<RolloutPolicy>().superRefine((p, ctx) => {
  const dpi = p.versionType === 'Dpi';
  const form = dpi ? DPI_VERSION : FIRMWARE_VERSION;
  const notOfType = (v: string): string =>
    `${JSON.stringify(v)} is not a ${p.versionType} version (like ${dpi ? '20201117_1_0-0.0.1' : '2.4.1.0'})`;
  if (!p.targetVersion)
    report(ctx, 'required (set it in the policy file or with --target-version)', ['targetVersion']);
  else if (!form.test(p.targetVersion)) report(ctx, notOfType(p.targetVersion), ['targetVersion']);
  for (const [model, version] of Object.entries(p.targetsByModel ?? {}))
    if (!form.test(version)) report(ctx, notOfType(version), ['targetsByModel', model]);
});

type Canary = RolloutPolicy['canary'];

/** One way of naming the canary. */
const canaryForm = z
  .custom<Canary>()
  .refine((c) => c.count === undefined || c.percent === undefined, 'give count or percent, not both')
  .refine(
    (c) =>
      c.devices === undefined || (c.count === undefined && c.percent === undefined && c.group === undefined),
    {
      path: ['devices'],
      message: 'names the canary itself; leave out count, percent and group',
    },
  );

/** A fleet to roll out to. */
export function fleet(run: RolloutContext) {
  return z.custom().refine(() => run.size > 0, { path: ['inventory'], message: 'lists no device' });
}

/** The canary, named one way, that the fleet can provide. */
export function canary(run: RolloutContext) {
  return z.object({ canary: inOrder(canaryForm, canaryInFleet(run)) });
}

function canaryInFleet(run: RolloutContext) {
  return z.object({
    count: whole(0, 'must be a whole number, 0 or more')
      .lte(run.size, {
        error: (i) => `${String(i.input)} is larger than the inventory (${run.size} devices)`,
      })
      .optional(),
    percent: numberWhere((p) => p > 0 && p <= 100, 'must be in (0, 100]').optional(),
    devices: z
      .custom<string[]>()
      .superRefine((ids, ctx) => {
        const seen = new Set<string>();
        ids.forEach((id, i) => {
          if (!run.ids.has(id)) report(ctx, `${id} is not in the inventory`, [i]);
          if (seen.has(id)) report(ctx, `${id} is listed twice`, [i]);
          seen.add(id);
        });
      })
      .optional(),
    group: z
      .custom<string>()
      .refine((g) => run.groups.has(g), {
        error: (i) => `no device of the inventory is in group ${JSON.stringify(i.input)}`,
      })
      .optional(),
  });
}

export const approvalGate = z
  .custom<RolloutPolicy>()
  .refine(
    ({ approval, canary: c }) =>
      !(approval === 'canary' && c.count === 0 && c.devices === undefined && c.group === undefined),
    { path: ['approval'], message: '"canary" needs a canary, but canary.count is 0' },
  );

// ------------------------------------------------------------------------------ waves, pace, timing

/** Cumulative shares in (0, 100], each larger than the one before, the last 100. */
const cumulativePercents = z.custom<number[]>().superRefine((percents, ctx) => {
  if (percents.length === 0) report(ctx, 'lists no wave');
  percents.forEach((p, i) => {
    if (!(typeof p === 'number' && p > 0 && p <= 100))
      report(ctx, `${p} must be a percentage in (0, 100]`, [i]);
    const prev = percents[i - 1];
    if (prev !== undefined && !(p > prev))
      report(ctx, `${p}% must be larger than the wave before (${prev}%): shares are cumulative`, [i]);
  });
  const last = percents[percents.length - 1];
  if (last !== undefined && last !== 100)
    report(ctx, `the last wave must reach 100%, not ${last}%`, [percents.length - 1]);
});

const waveRules = inOrder<RolloutPolicy['waves']>(
  z
    .custom<RolloutPolicy['waves']>()
    .refine(
      (w) => (w.cumulativePercents === undefined) !== (w.sizes === undefined),
      'give either cumulativePercents or sizes',
    ),
  z.object({
    cumulativePercents: cumulativePercents.optional(),
    sizes: z
      .array(whole(1, 'must be a whole number of devices, more than 0'))
      .min(1, 'lists no wave')
      .optional(),
  }),
);

export const waves = z.object({ waves: waveRules });

/** Parts, concurrency, rate and caps (per region, which must exist, and per group). */
export function pace(run: RolloutContext) {
  return z.object({
    maxPartSize: whole(1)
      .lte(MAX_PART_SIZE, { error: (i) => `${String(i.input)} must be at most ${MAX_PART_SIZE}` })
      .optional(),
    concurrency: whole(1).optional(),
    maxPerMinute: whole(1).optional(),
    caps: caps(run).optional(),
  });
}

const cap = whole(1).optional();

function caps(run: RolloutContext) {
  return z.object({
    perRegion: z
      .custom<Record<string, number>>()
      .superRefine((perRegion, ctx) => {
        for (const [region, size] of Object.entries(perRegion)) {
          if (!run.regions.has(region)) report(ctx, 'unknown region', [region]);
          relay(cap, size, ctx, [region]);
        }
      })
      .optional(),
    perGroup: z.record(z.string(), cap).optional(),
  });
}

export const failureBudget = z.object({
  failureBudget: z.object({
    maxFailurePercent: numberWhere((p) => p >= 0 && p <= 100, 'must be in [0, 100]'),
    minFailures: whole(0).optional(),
    maxConsecutiveFailures: whole(0).optional(),
    onBreach: oneOf(['pause', 'abort'], 'pause or abort'),
  }),
});

export const durations = z.object({
  bake: duration(),
  upgradeSettle: duration(),
  expectedUpgradeTime: duration({ positive: true }),
  offlineRetryDelay: duration({ positive: true }),
  verify: z.object({ timeout: duration(), pollInterval: duration(), consecutivePolls: whole(1).optional() }),
});

/** Polls that fit in the verify timeout. */
const verifyTimingRules = z.custom<RolloutPolicy['verify']>().superRefine((v, ctx) => {
  const timeout = readField(parseDuration, v.timeout);
  const poll = readField(parseDuration, v.pollInterval);
  if (poll === 0) report(ctx, 'must be longer than 0', ['pollInterval']);
  if (timeout === undefined || poll === undefined || !Number.isInteger(v.consecutivePolls)) return;
  const needed = poll * v.consecutivePolls;
  if (!(timeout > needed))
    report(
      ctx,
      `${formatDuration(timeout)} must be longer than pollInterval × consecutivePolls (${formatDuration(poll)} × ${v.consecutivePolls} = ${formatDuration(needed)})`,
      ['timeout'],
    );
});

export const verifyTiming = z.object({ verify: verifyTimingRules });

export const approval = z.object({
  approval: oneOf(['none', 'canary', 'each-wave'], 'none, canary or each-wave'),
});

/** A change ticket when the policy requires one, and an operator who is named. */
export function startedBy(run: RolloutContext) {
  return inOrder<RolloutPolicy>(
    z.custom<RolloutPolicy>().refine((p) => !p.requireTicket || Boolean(run.ticket?.trim()), {
      path: ['ticket'],
      message: 'requireTicket is set but no change ticket was given (--ticket)',
    }),
    z.custom().refine(() => run.operator === undefined || run.operator.trim() !== '', {
      path: ['operator'],
      message: 'must not be empty',
    }),
  );
}

// ------------------------------------------------------------------------------ error overrides, webhooks

const codePolicy = inOrder<Partial<CodePolicy>>(
  z.object({
    class: oneOf(['device', 'service', 'rollout']).optional(),
    persistence: oneOf(['transient', 'permanent']).optional(),
    action: oneOf(['retry', 'defer', 'skip', 'fail', 'halt']).optional(),
    initialInterval: duration().optional(),
    maximumInterval: duration().optional(),
  }),
  z.custom<Partial<CodePolicy>>().superRefine((row, ctx) => {
    const read = (d: CodePolicy['initialInterval']) =>
      d !== undefined ? readField(parseDuration, d) : undefined;
    const initial = read(row.initialInterval);
    const maximum = read(row.maximumInterval);
    if (initial === 0) report(ctx, 'must be longer than 0', ['initialInterval']);
    if (initial !== undefined && maximum !== undefined && maximum < initial)
      report(ctx, `${formatDuration(maximum)} is shorter than initialInterval (${formatDuration(initial)})`, [
        'maximumInterval',
      ]);
  }),
  z.object({
    backoffCoefficient: numberWhere((b) => b >= 1, 'must be at least 1').optional(),
    maximumAttempts: whole(0, 'must be a whole number, 0 (unlimited) or more').optional(),
  }),
);

/** Overrides of the error-code table: any code may be named; its values must make sense. */
export const errorOverrides = z.object({ errorOverrides: z.record(z.string(), codePolicy) });

/** A webhook by name only (the worker holds its URL), a name a variable can carry. */
const webhook = inOrder<WebhookTarget>(
  z.custom<WebhookTarget>().superRefine((h, ctx) => {
    for (const p of webhookProblems(h)) report(ctx, p.message, [p.field]);
  }),
  z.object({
    name: z
      .custom<unknown>()
      .refine((n) => typeof n === 'string' && WEBHOOK_NAME.test(n), {
        error: (i) => `${JSON.stringify(i.input)} must be ${WEBHOOK_NAME_RULE}`,
      })
      .optional(),
  }),
);

const webhookFormat = z.object({ format: oneOf(['json', 'chat'], 'json or chat') });

/** Webhooks, each listed once (names that give the same variable are the same webhook). */
const webhookList = z.custom<WebhookTarget[]>().superRefine((hooks, ctx) => {
  const first: Record<string, string> = {};
  hooks.forEach((h, i) => {
    relay(webhook, h, ctx, [i]);
    if (typeof h.name === 'string' && WEBHOOK_NAME.test(h.name)) {
      const earlier = first[webhookKey(h.name)];
      if (earlier !== undefined)
        report(ctx, `${h.name} is the same webhook as ${earlier}: list it once with all its events`, [
          i,
          'name',
        ]);
      else first[webhookKey(h.name)] = h.name;
    }
    relay(webhookFormat, h, ctx, [i]);
  });
});

export const webhooks = z.object({ webhooks: webhookList });
