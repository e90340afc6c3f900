import type { Command } from 'commander';
import { parseDuration } from '../../config/duration';
import { connectTemporal, type TemporalTarget } from '../../temporal/connection';
import {
  looksLikeTemporalCloud,
  setupNamespace,
  DEFAULT_RETENTION_DAYS,
  type SetupResult,
} from '../../temporal/setup';
import { action, globalsOf, targetOf } from '../context';
import { CliError, ExitCode, type ExitCodeValue } from '../errors';

export interface SetupCommandOptions {
  target: TemporalTarget;
  /** Retention in days (when creating, or to apply to an existing namespace). */
  retentionDays?: number;
  /** `--cloud`: Temporal Cloud, whatever the address says. */
  cloud?: boolean;
  json: boolean;
  out: (text: string) => void;
}

/** `--retention`: a number of days (`30`) or a duration (`72h`, `7d`). */
export function parseRetention(value: string): number {
  const text = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 86_400_000 : parseDuration(text, '--retention');
  if (!(ms >= 3_600_000))
    throw new CliError(`--retention: ${JSON.stringify(value)} must be at least an hour`, ExitCode.badInput);
  return ms / 86_400_000;
}

/** The result as lines: one per step, then what must be done by hand. */
export function renderSetup(r: SetupResult): string {
  const lines = r.steps.map((s) => `${s.subject}: ${s.outcome}${s.detail ? ` (${s.detail})` : ''}`);
  const where = `namespace ${r.namespace} on ${r.address}${r.cloud ? ' (Temporal Cloud)' : ''}`;
  lines.push(r.ready ? `${where} is ready for sag-rollout` : `${where} is NOT ready for sag-rollout`);
  if (r.instructions.length > 0) lines.push('', 'still to do:', ...r.instructions.map((i) => `  - ${i}`));
  return `${lines.join('\n')}\n`;
}

/**
 * Prepares the namespace for sag-rollout (see {@link setupNamespace}) and prints what it did.
 * @returns 0 when the namespace is ready, 3 (refused) when something is missing that it could
 *   not create (or, on Temporal Cloud, may not), 1 when the server cannot be reached.
 */
export async function runSetup(o: SetupCommandOptions): Promise<ExitCodeValue> {
  const address = o.target.connectionOptions.address ?? 'localhost:7233';
  let connection;
  try {
    connection = await connectTemporal(o.target);
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${address}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
      ExitCode.internal,
      ['point --address / TEMPORAL_ADDRESS, or a TEMPORAL_PROFILE, at the cluster'],
    );
  }
  try {
    const result = await setupNamespace(connection, {
      namespace: o.target.namespace,
      address,
      retentionDays: o.retentionDays,
      cloud: o.cloud || looksLikeTemporalCloud(address, o.target.connectionOptions.apiKey),
    });
    o.out(o.json ? `${JSON.stringify(result, null, 2)}\n` : renderSetup(result));
    return result.ready ? ExitCode.ok : ExitCode.refused;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** `setup`: prepares the namespace for sag-rollout. */
export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'prepare the namespace: create it (with its retention) and register the search attributes; idempotent; on Temporal Cloud, list what must be created there',
    )
    .option(
      '--retention <days>',
      `workflow history retention, in days or as a duration (72h); used when creating the namespace (default ${DEFAULT_RETENTION_DAYS}) and applied to an existing one`,
      parseRetention,
    )
    .option(
      '--cloud',
      'Temporal Cloud: create nothing, check and print what must be created (also recognised from a *.tmprl.cloud address or an API key)',
    )
    .addHelpText(
      'after',
      `
The namespace is --namespace (or TEMPORAL_NAMESPACE, or the profile's, or default). Exit codes: 0 ready,
3 something is missing that setup could not (or, on Temporal Cloud, may not) create.`,
    )
    .action(
      action(async (o: { retention?: number; cloud?: boolean }, cmd: Command) => {
        const g = globalsOf(cmd);
        return runSetup({
          target: targetOf(g),
          retentionDays: o.retention,
          cloud: o.cloud,
          json: Boolean(g.json),
          out: (t) => process.stdout.write(t),
        });
      }),
    );
}
