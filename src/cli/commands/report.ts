import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import {
  collectReport,
  renderReport,
  writeReportFiles,
  reportFileStem,
  type ReportFormat,
} from '../../audit/report';
import { CliError, ExitCode } from '../errors';
import { getRolloutStatus } from '../../operator/status';

export const REPORT_FORMATS = ['jsonl', 'csv', 'html'] as const;

/** What `report` did (`--json`). */
export interface ReportResult {
  rolloutId: string;
  /** Files written; empty when the report went to stdout. */
  files: string[];
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
