import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { collectReport, type CollectOptions } from './collect';
import { renderCallsCsv, renderReport } from './render';

export { readRollout, type RolloutSnapshot } from './read';
export { collectReport, groupFailures, type CollectOptions } from './collect';
export { renderReport, renderJsonl, renderDevicesCsv, renderCallsCsv, renderHtml, escapeHtml, csvCell, HTML_CALL_LIMIT } from './render';
export type { ReportData, ReportFormat, ReportCall, ReportDevice, ReportWave, DeviceRun, FailureGroup } from './types';

/** The file-name stem of a rollout's report files (IDs may hold characters a file name may not). */
export function reportFileStem(rolloutId: string): string {
  return rolloutId.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Collects the rollout's report and writes it into `dir` in every format: `<id>.jsonl`,
 * `<id>.devices.csv`, `<id>.calls.csv` and `<id>.html`. Returns the paths written. The worker's
 * `exportReport` activity calls this when a rollout closes, so the audit outlives the namespace's
 * history retention.
 * @throws what {@link collectReport} throws, and file-system errors.
 */
export async function writeReportFiles(client: Client, rolloutId: string, dir: string, options: CollectOptions = {}): Promise<string[]> {
  const data = await collectReport(client, rolloutId, options);
  mkdirSync(dir, { recursive: true });
  const stem = path.join(dir, reportFileStem(rolloutId));
  // One rendering at a time: at 10,000 devices the four together are ~60 MB of text.
  const files: [string, () => string][] = [
    [`${stem}.jsonl`, () => renderReport(data, 'jsonl')],
    [`${stem}.devices.csv`, () => renderReport(data, 'csv')],
    [`${stem}.calls.csv`, () => renderCallsCsv(data)],
    [`${stem}.html`, () => renderReport(data, 'html')],
  ];
  for (const [file, render] of files) writeFileSync(file, render());
  return files.map(([file]) => file);
}
