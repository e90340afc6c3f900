/** Flags several commands share, declared once so their names and help read the same everywhere. */

import type { Command } from 'commander';
import { parseDuration } from '../config/duration';
import { CliError, ExitCode } from './errors';

/** Parses a duration flag (`30s`, `10m`) into milliseconds, longer than 0. */
export function durationFlag(flag: string): (v: string) => number {
  return (v: string): number => {
    const ms = parseDuration(v, flag);
    if (ms <= 0) throw new CliError(`${flag}: must be longer than 0`, ExitCode.badInput);
    return ms;
  };
}

/** `--signature v2|v3`: how the smartag calls of `dev` and `worker` are signed. */
export function signatureOption(cmd: Command): Command {
  return cmd.option(
    '--signature <version>',
    'how smartag calls are signed: v2 (@alicloud/pop-core, HMAC-SHA1) or v3 (@alicloud/openapi-client, ACS3-HMAC-SHA256); default SAG_SIGNATURE or v2',
  );
}

/**
 * `--interval`: the poll interval of `--watch` (start, status, retry-failed), in ms. A bare number
 * is seconds (`2`); a duration names its unit (`500ms`, `2s`). At least 100 ms.
 */
function parseInterval(v: string): number {
  const ms = /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) * 1000 : parseDuration(v, '--interval');
  if (!(ms >= 100))
    throw new CliError(
      `--interval: ${v} is shorter than 100ms (a bare number is seconds)`,
      ExitCode.badInput,
    );
  return ms;
}

/** `--interval`: the poll interval of `--watch` (start, status, retry-failed). */
export function intervalOption(cmd: Command): Command {
  return cmd.option(
    '--interval <seconds|duration>',
    'with --watch: poll interval in seconds (2) or as a duration (500ms, 2s); default 1s',
    parseInterval,
    1000,
  );
}

/** --inventory / discovery flags shared by plan, start and iam-policy. */
export function fleetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--inventory <file>',
      'the fleet: a CSV (SmartAGId,RegionId[,SerialNumber,group,tags]) or JSON file',
    )
    .option(
      '--discover-region <region>',
      'or discover the fleet in this region through DescribeSmartAccessGateways (needs credentials)',
    )
    .option(
      '--discover-version-below <version>',
      'with --discover-region: only instances whose firmware is older than this',
    );
}

/** The fleet flags and the policy flags of plan and start. */
export function policyOptions(cmd: Command): Command {
  return fleetOptions(cmd)
    .option('--policy <file>', 'rollout policy file (YAML or JSON); the flags below override it')
    .option(
      '--target-version <version>',
      'the VersionCode to roll out (e.g. 2.4.0.0, or 20201117_1_0-0.0.1 for Dpi)',
    )
    .option('--version-type <type>', 'Device (firmware) or Dpi (signature database)')
    .option('--canary <n|p%>', 'canary size: N devices or P% of the inventory, from the top')
    .option(
      '--waves <list>',
      'cumulative shares after the canary, e.g. 10%,50%,100%; or fixed sizes, e.g. 100,200,rest',
    )
    .option('--concurrency <n>', 'devices in flight at once')
    .option('--max-per-minute <n>', 'devices started per minute')
    .option('--max-failures <p%>', 'failure budget: share of finished devices that may fail, e.g. 5%')
    .option('--bake <duration>', 'wait after each wave before the next (30s, 10m, 2h)')
    .option('--require-approval <when>', 'approval gate: none, canary or each-wave')
    .option('--verify-timeout <duration>', 'how long a device may take to come back on the target version');
}

/** Flags of every control: who, why, the idempotency key, and `--yes`. */
export function controlOptions(cmd: Command): Command {
  return cmd
    .option('--reason <text>', 'why (kept in the audit trail)')
    .option('--operator <name>', 'who sends it (default: the OS user)')
    .option(
      '--request-id <id>',
      'idempotency key: repeating a command with the same key changes nothing (default: a fresh UUID)',
    )
    .option('-y, --yes', 'do not ask for confirmation');
}

/** `--no-wait` of pause and abort. */
export function noWaitOption(cmd: Command): Command {
  return cmd.option('--no-wait', 'send the Signal and return, without waiting for the rollout to answer');
}
