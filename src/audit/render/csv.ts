import type { ReportCall, ReportData, ReportDevice } from '../types';
import { isoMs, plainText, waveNames } from './format';

/**
 * One CSV cell (RFC 4180). A text cell that a spreadsheet would run as a formula (`=`, `+`, `-`,
 * `@`, tab, CR) is prefixed with `'`: device names and messages come from outside.
 */
export function csvCell(v: unknown): string {
  let s = plainText(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s) && !/^[-+]?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line without its line break. */
function csvRow(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',');
}

/** Lines as one CSV text: CRLF after each, the last one included. */
function csvText(lines: Iterable<string>): string {
  return `${[...lines].join('\r\n')}\r\n`;
}

/** Columns of the per-device CSV. */
export const DEVICE_CSV_COLUMNS = [
  'smartAgId',
  'regionId',
  'wave',
  'waveName',
  'outcome',
  'serialNumbers',
  'fromVersions',
  'toVersions',
  'phase',
  'errorCode',
  'message',
  'compensation',
  'notReversible',
  'upgradeRequestIds',
  'workflowRuns',
] as const;

/** The cells of a device's row, in {@link DEVICE_CSV_COLUMNS} order. */
function deviceCells(d: ReportDevice, waveName: Record<number, string>): unknown[] {
  return [
    d.smartAgId,
    d.regionId,
    d.wave,
    waveName[d.wave] ?? '',
    d.outcome,
    d.serials.map((s) => s.serialNumber).join(';'),
    d.serials.map((s) => s.from).join(';'),
    d.serials.map((s) => s.to ?? '').join(';'),
    d.phase ?? '',
    d.errorCode ?? '',
    d.message ?? '',
    d.compensation ?? '',
    (d.notReversible ?? [])
      .map((n) => `${n.serialNumber}:${n.version}:${n.code}:${n.requestId ?? ''}`)
      .join(';'),
    (d.requestIds ?? []).join(';'),
    d.runs.map((r) => `${r.mode}:${r.runId}`).join(';'),
  ];
}

/**
 * The per-device CSV: one row a device, every device once. An HA pair's serial numbers and their
 * versions are `;`-separated in the same order.
 */
export function renderDevicesCsv(data: ReportData): string {
  const waveName = waveNames(data);
  return csvText([csvRow(DEVICE_CSV_COLUMNS), ...data.devices.map((d) => csvRow(deviceCells(d, waveName)))]);
}

/** Columns of the calls CSV. */
export const CALL_CSV_COLUMNS = [
  'time',
  'ms',
  'action',
  'smartAgId',
  'serialNumber',
  'requestId',
  'code',
  'httpStatus',
  'workflowId',
  'runId',
] as const;

/** The cells of a call's row, in {@link CALL_CSV_COLUMNS} order. */
function callCells(c: ReportCall): unknown[] {
  return [
    isoMs(c.t),
    c.ms,
    c.action,
    c.smartAgId ?? '',
    c.serialNumber ?? '',
    c.requestId ?? '',
    c.code ?? '',
    c.httpStatus ?? '',
    c.workflowId,
    c.runId,
  ];
}

/** The API-call CSV, a line at a time without its line break: the header, then a row a call, oldest first. */
export function* callsCsvLines(data: ReportData): Generator<string> {
  yield csvRow(CALL_CSV_COLUMNS);
  for (const c of data.calls) yield csvRow(callCells(c));
}

/** The API-call CSV: one row a call, oldest first. */
export function renderCallsCsv(data: ReportData): string {
  return csvText(callsCsvLines(data));
}
