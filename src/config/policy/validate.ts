import type {
  ChangeWindow,
  CodePolicy,
  DeviceSelector,
  InventoryDevice,
  RolloutPolicy,
} from '../../../domain/types';
import { formatDuration, parseDuration } from '../../common/duration';
import { ProblemList } from '../../common/errors';
import { parseInstant } from '../../common/instant';
import { checkFeasible } from '../../windows/instants';
import { parseCron } from '../../windows/cron';
import { isKnownTimeZone } from '../../windows/zone';
import { SMARTAG_ID, SMARTAG_REGIONS } from '../inventory';
import { WEBHOOK_NAME, webhookKey } from '../webhooks';
import { WEBHOOK_NAME_RULE, webhookProblems } from './schema';

/** Device firmware versions: `2.4.1.0`, `2.0.1`. */
export const FIRMWARE_VERSION = /^\d+(\.\d+){1,3}$/;
/** DPI signature database versions: `20201117_1_0-0.0.1`. */
export const DPI_VERSION = /^\d{8}_\d+_\d+-\d+(\.\d+)*$/;
/** The largest wave part one child workflow runs (Temporal history and pending-child limits). */
export const MAX_PART_SIZE = 1000;

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
