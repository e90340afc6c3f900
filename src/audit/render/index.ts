/**
 * The report renderers: JSON Lines, the device and call CSVs, and the HTML page. Each format has
 * its module; this one picks a renderer by format.
 */
import type { ReportData, ReportFormat } from '../types';
import { renderDevicesCsv } from './csv';
import { renderHtml } from './html';
import { renderJsonl } from './jsonl';

export { jsonlLines, renderJsonl } from './jsonl';
export {
  csvCell,
  callsCsvLines,
  renderCallsCsv,
  renderDevicesCsv,
  CALL_CSV_COLUMNS,
  DEVICE_CSV_COLUMNS,
} from './csv';
export { renderHtml, HTML_CALL_LIMIT } from './html';
export { escapeHtml } from './html-elements';

/**
 * Renders a report. `csv` is the per-device table (see {@link renderCallsCsv} for the calls,
 * which {@link writeReportFiles} writes as a second file).
 */
export function renderReport(data: ReportData, format: ReportFormat): string {
  switch (format) {
    case 'jsonl':
      return renderJsonl(data);
    case 'csv':
      return renderDevicesCsv(data);
    case 'html':
      return renderHtml(data);
  }
}
