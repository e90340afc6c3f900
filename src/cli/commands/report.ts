import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  collectReport,
  renderReport,
  writeReportFiles,
  reportFileStem,
  type ReportFormat,
} from '../../audit/report';
import { getRolloutStatus } from '../../operator/status';
import { action, globalsOf, withClient } from '../context';
import { CliError, ExitCode } from '../errors';
import { out, outJson } from '../output';

export const REPORT_FORMATS = ['jsonl', 'csv', 'html'] as const;

/** What `report` did (`--json`). */
export interface ReportResult {
  rolloutId: string;
  /** Files written; empty when the report went to stdout. */
  files: string[];
}

/** `report`: a rollout's audit report as files, or one format on stdout. */
export function registerReport(program: Command): void {
  program
    .command('report <rolloutId>')
    .description(
      'write the audit report: JSON Lines, CSV and a self-contained HTML page (or one format with --format)',
    )
    .option(
      '--format <format>',
      'only this format: jsonl, csv (devices) or html; without --out it goes to stdout',
    )
    .option('--out <path>', 'a directory (or, with --format, a file) to write to (default: --reports-dir)')
    .option('--reports-dir <dir>', 'directory for the report files', 'reports')
    .action(
      action(
        async (rolloutId: string, o: { format?: string; out?: string; reportsDir: string }, cmd: Command) => {
          const g = globalsOf(cmd);
          const r = await withClient(cmd, ({ client }) =>
            buildReport(client, rolloutId, { format: o.format, out: o.out, dir: path.resolve(o.reportsDir) }),
          );
          if (r.text !== undefined) process.stdout.write(r.text);
          else if (g.json) outJson({ rolloutId: r.rolloutId, files: r.files });
          else out(r.files.map((f) => path.relative(process.cwd(), f) || f).join('\n'));
          return ExitCode.ok;
        },
      ),
    );
}

/**
 * Builds a rollout's audit report. With no format: every format, written into `dir`. With a
 * format: that one, into `out` (a file, or a directory) or, without `out`, returned as text.
 * @throws RolloutNotFoundError; NoWorkerError when no worker answers the rollout's queries.
 */
export async function buildReport(
  client: Client,
  rolloutId: string,
  opts: { format?: string; out?: string; dir: string },
): Promise<ReportResult & { text?: string }> {
  if (opts.format && !(REPORT_FORMATS as readonly string[]).includes(opts.format)) {
    throw new CliError(
      `--format: ${JSON.stringify(opts.format)} must be one of ${REPORT_FORMATS.join(', ')}`,
      ExitCode.badInput,
    );
  }
  // Fails early and clearly when the rollout does not exist or no worker can answer.
  await getRolloutStatus(client, rolloutId);
  if (!opts.format) {
    const files = await writeReportFiles(client, rolloutId, opts.out ?? opts.dir);
    return { rolloutId, files };
  }
  const format = opts.format as ReportFormat;
  const text = renderReport(await collectReport(client, rolloutId), format);
  if (!opts.out) return { rolloutId, files: [], text };
  const ext = format === 'csv' ? 'devices.csv' : format;
  const file = /\.[a-z]+$/i.test(opts.out)
    ? opts.out
    : path.join(opts.out, `${reportFileStem(rolloutId)}.${ext}`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return { rolloutId, files: [file] };
}
