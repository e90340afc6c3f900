import type { RolloutPolicy } from '../../../domain/types';
import { parseDuration } from '../../common/duration';
import { InputError, ProblemList } from '../../common/errors';

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
