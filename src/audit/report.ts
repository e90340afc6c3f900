import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { collectReport, type CollectOptions } from './collect';
import { callsCsvLines, jsonlLines, renderReport } from './render';

export { readRollout, type RolloutSnapshot } from './read';
export { collectReport, groupFailures, type CollectOptions } from './collect';
export {
  renderReport,
  renderJsonl,
  jsonlLines,
  renderDevicesCsv,
  renderCallsCsv,
  callsCsvLines,
  renderHtml,
  escapeHtml,
  csvCell,
  HTML_CALL_LIMIT,
} from './render';
export type {
  ReportData,
  ReportFormat,
  ReportCall,
  ReportDevice,
  ReportWave,
  DeviceRun,
  FailureGroup,
} from './types';

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
export async function writeReportFiles(
  client: Client,
  rolloutId: string,
  dir: string,
  options: CollectOptions = {},
): Promise<string[]> {
  const data = await collectReport(client, rolloutId, options);
  mkdirSync(dir, { recursive: true });
  const stem = path.join(dir, reportFileStem(rolloutId));
  // The two long files are written a line at a time, the others one at a time: at 10,000 devices
  // the four together are ~60 MB of text.
  const files = [`${stem}.jsonl`, `${stem}.devices.csv`, `${stem}.calls.csv`, `${stem}.html`];
  writeLines(files[0]!, jsonlLines(data), '\n');
  writeFileSync(files[1]!, renderReport(data, 'csv'));
  writeLines(files[2]!, callsCsvLines(data), '\r\n');
  writeFileSync(files[3]!, renderReport(data, 'html'));
  return files;
}

/** Writes each line followed by `eol`, in chunks of about 1 MB. */
function writeLines(file: string, lines: Iterable<string>, eol: string): void {
  const fd = openSync(file, 'w');
  try {
    let chunk: string[] = [];
    let size = 0;
    for (const line of lines) {
      chunk.push(line, eol);
      size += line.length + eol.length;
      if (size >= 1 << 20) {
        writeSync(fd, chunk.join(''));
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length > 0) writeSync(fd, chunk.join(''));
  } finally {
    closeSync(fd);
  }
}
