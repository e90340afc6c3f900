import type { InventoryDevice } from '../../domain/types';
import { InputError } from '../common/errors';

/** The regions where the smartag service runs (its `DescribeRegions`). */
export const SMARTAG_REGIONS: readonly string[] = [
  'eu-central-1',
  'cn-shanghai-finance-1',
  'cn-shanghai',
  'cn-hongkong',
  'cn-hangzhou',
  'ap-southeast-5',
  'ap-southeast-3',
  'ap-southeast-2',
  'ap-southeast-1',
  'ap-northeast-1',
  'eu-west-1',
  'us-east-1',
  'cn-zhangjiakou-spe',
];

/** SAG instance IDs: `sag-` and lowercase letters and digits (`sag-0ovhf732a9j1234567`, `sag-0001`). */
export const SMARTAG_ID = /^sag-[a-z0-9]+$/;

/** Options of {@link parseInventory}. */
export interface InventoryOptions {
  /** The file name, used in every error (default `inventory`). */
  source?: string;
  /** Regions to accept instead of {@link SMARTAG_REGIONS}. */
  knownRegions?: string[];
}

/** One device as read, with where it was read, before the cross-row checks. */
interface Row {
  where: string;
  smartAgId?: string;
  regionId?: string;
  serialNumbers: string[];
  group?: string;
  tags: string[];
  /** Fields whose problem was already reported while reading. */
  reported?: Set<string>;
}

/**
 * Reads an inventory of SAG instances, in file order (the canary is taken from the top).
 *
 * CSV: a header row with the columns `SmartAGId` and `RegionId` and optionally `SerialNumber`
 * (several separated by `;`, or a quoted comma list), `group` and `tags` (`;`-separated), in
 * any order and any letter case; other columns are ignored. Fields may be quoted (`"a,b"`, `""`
 * for a quote); blank lines are skipped.
 *
 * JSON: an array of devices or `{ "devices": [...] }`, each with `SmartAGId` (or `smartAgId`),
 * `RegionId` (or `regionId`), and optionally `SerialNumber`/`serialNumbers` (a string or an
 * array), `group`, `tags` (an array or a `;`-separated string). Keys are matched ignoring case.
 *
 * `auto` picks JSON when the source name ends in `.json` or the text starts with `[` or `{`.
 *
 * Every problem is collected: a malformed SmartAGId, an unknown region, a duplicate SmartAGId
 * (naming both places), a serial number on two instances, a missing column, an empty inventory.
 *
 * @throws {InputError} listing every problem, each naming the file and the line (CSV) or the
 *   index and field (JSON).
 */
export function parseInventory(
  text: string,
  format: 'csv' | 'json' | 'auto',
  opts: InventoryOptions = {},
): InventoryDevice[] {
  const source = opts.source ?? 'inventory';
  const regions = opts.knownRegions ?? SMARTAG_REGIONS;
  const body = text.replace(/^\uFEFF/, '');
  const kind = format === 'auto' ? detectFormat(body, source) : format;
  const problems: string[] = [];
  const rows = kind === 'json' ? readJson(body, source, problems) : readCsv(body, source, problems);

  const byId = new Map<string, string>();
  const bySerial = new Map<string, { id: string; where: string }>();
  const devices: InventoryDevice[] = [];
  for (const row of rows) {
    const { where } = row;
    let ok = true;
    if (row.smartAgId === undefined) {
      if (!row.reported?.has('smartagid')) problems.push(`${where}: SmartAGId is missing`);
      ok = false;
    } else if (!SMARTAG_ID.test(row.smartAgId)) {
      const hint = SMARTAG_ID.test(row.smartAgId.toLowerCase()) ? '; IDs are lowercase' : '';
      problems.push(
        `${where}: SmartAGId ${JSON.stringify(row.smartAgId)} is malformed (expected sag- and lowercase letters or digits, like sag-0ovhf732a9j1234567${hint})`,
      );
      ok = false;
    } else {
      const first = byId.get(row.smartAgId);
      if (first !== undefined) {
        problems.push(`${where}: SmartAGId ${row.smartAgId} is listed twice (also at ${first})`);
        ok = false;
      } else {
        byId.set(row.smartAgId, where);
      }
    }
    if (row.regionId === undefined) {
      if (!row.reported?.has('regionid')) problems.push(`${where}: RegionId is missing`);
      ok = false;
    } else if (!regions.includes(row.regionId)) {
      problems.push(
        `${where}: unknown region ${JSON.stringify(row.regionId)} (known: ${regions.join(', ')})`,
      );
      ok = false;
    }
    const seen = new Set<string>();
    for (const sn of row.serialNumbers) {
      if (seen.has(sn)) {
        problems.push(`${where}: serial number ${sn} is listed twice for the same instance`);
        ok = false;
        continue;
      }
      seen.add(sn);
      const other = bySerial.get(sn);
      if (other !== undefined && other.id !== row.smartAgId) {
        problems.push(
          `${where}: serial number ${sn} also belongs to ${other.id} (${other.where}); a device belongs to one instance`,
        );
        ok = false;
      } else if (row.smartAgId !== undefined) {
        bySerial.set(sn, { id: row.smartAgId, where });
      }
    }
    if (!ok || row.smartAgId === undefined || row.regionId === undefined) continue;
    const device: InventoryDevice = { smartAgId: row.smartAgId, regionId: row.regionId };
    if (row.serialNumbers.length > 0) device.serialNumbers = row.serialNumbers;
    if (row.group !== undefined) device.group = row.group;
    if (row.tags.length > 0) device.tags = row.tags;
    devices.push(device);
  }
  if (rows.length === 0 && problems.length === 0) problems.push(`${source}: the inventory lists no device`);
  if (problems.length > 0)
    throw new InputError(
      problems,
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the inventory:`,
    );
  return devices;
}

function detectFormat(text: string, source: string): 'csv' | 'json' {
  if (/\.json$/i.test(source)) return 'json';
  if (/\.csv$/i.test(source)) return 'csv';
  const first = text.trimStart()[0];
  return first === '[' || first === '{' ? 'json' : 'csv';
}

function splitList(value: string, separators: RegExp): string[] {
  return value
    .split(separators)
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function optionalText(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}

// ---------------------------------------------------------------------------------------- CSV

interface CsvRecord {
  line: number;
  fields: string[];
}

/** Splits CSV text into records (RFC 4180 quoting, CRLF or LF), each with its first line number. */
function csvRecords(text: string, source: string, problems: string[]): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  let line = 1;
  let recordLine = 1;
  const endField = (): void => {
    fields.push(wasQuoted ? field : field.trim());
    field = '';
    wasQuoted = false;
  };
  const endRecord = (): void => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      wasQuoted = true;
      field = '';
    } else if (c === ',') {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
    }
  }
  if (quoted) problems.push(`${source} line ${recordLine}: a quoted field is never closed`);
  else if (field !== '' || fields.length > 0) endRecord();
  return records;
}

const CSV_COLUMNS = {
  smartagid: 'SmartAGId',
  regionid: 'RegionId',
  serialnumber: 'SerialNumber',
  group: 'group',
  tags: 'tags',
} as const;
type ColumnKey = keyof typeof CSV_COLUMNS;
const COLUMN_ALIASES: Record<string, ColumnKey> = { serialnumbers: 'serialnumber' };

function readCsv(text: string, source: string, problems: string[]): Row[] {
  const records = csvRecords(text, source, problems);
  const header = records.shift();
  if (!header) return [];
  const columns = new Map<ColumnKey, number>();
  header.fields.forEach((name, index) => {
    const lower = name.trim().toLowerCase();
    const key = lower in CSV_COLUMNS ? (lower as ColumnKey) : COLUMN_ALIASES[lower];
    if (key === undefined) return;
    if (columns.has(key))
      problems.push(`${source} line ${header.line}: column ${CSV_COLUMNS[key]} appears twice`);
    else columns.set(key, index);
  });
  const missing = (['smartagid', 'regionid'] as const).filter((k) => !columns.has(k));
  if (missing.length > 0) {
    for (const k of missing) {
      problems.push(
        `${source} line ${header.line}: missing column ${CSV_COLUMNS[k]} (found: ${header.fields.join(', ') || 'nothing'})`,
      );
    }
    return [];
  }
  const rows: Row[] = [];
  for (const rec of records) {
    const where = `${source} line ${rec.line}`;
    if (rec.fields.length > header.fields.length) {
      problems.push(
        `${where}: ${rec.fields.length} fields but the header has ${header.fields.length} (quote values that contain commas)`,
      );
      continue;
    }
    const get = (k: ColumnKey): string | undefined => {
      const i = columns.get(k);
      return i === undefined ? undefined : optionalText(rec.fields[i]);
    };
    const group = get('group');
    rows.push({
      where,
      smartAgId: get('smartagid'),
      regionId: get('regionid'),
      serialNumbers: splitList(get('serialnumber') ?? '', /[;,]/),
      ...(group !== undefined ? { group } : {}),
      tags: splitList(get('tags') ?? '', /;/),
    });
  }
  return rows;
}

// --------------------------------------------------------------------------------------- JSON

function readJson(text: string, source: string, problems: string[]): Row[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    problems.push(`${source}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    return [];
  }
  let devices: unknown[];
  let prefix: string;
  if (Array.isArray(doc)) {
    devices = doc;
    prefix = '';
  } else if (doc !== null && typeof doc === 'object' && 'devices' in doc) {
    const inner = doc.devices;
    if (!Array.isArray(inner)) {
      problems.push(`${source} devices: must be an array of devices`);
      return [];
    }
    devices = inner;
    prefix = 'devices';
  } else {
    problems.push(`${source}: expected an array of devices or { "devices": [...] }`);
    return [];
  }
  const rows: Row[] = [];
  devices.forEach((item, index) => {
    const at = `${source} ${prefix}[${index}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${at}: each device must be an object`);
      return;
    }
    const fields = new Map<string, { key: string; value: unknown }>();
    const reported = new Set<string>();
    for (const [key, value] of Object.entries(item)) fields.set(key.toLowerCase(), { key, value });
    const text = (names: string[], label: string): string | undefined => {
      for (const n of names) {
        const f = fields.get(n);
        if (f === undefined || f.value === null) continue;
        if (typeof f.value !== 'string') {
          problems.push(`${at}.${f.key}: ${label} must be a string`);
          reported.add(n);
          return undefined;
        }
        return optionalText(f.value);
      }
      return undefined;
    };
    const list = (names: string[], label: string, separators: RegExp): string[] => {
      for (const n of names) {
        const f = fields.get(n);
        if (f === undefined || f.value === null) continue;
        if (typeof f.value === 'string') return splitList(f.value, separators);
        if (Array.isArray(f.value) && f.value.every((v): v is string => typeof v === 'string')) {
          return f.value.map((v) => v.trim()).filter((v) => v !== '');
        }
        problems.push(`${at}.${f.key}: ${label} must be a string or an array of strings`);
        return [];
      }
      return [];
    };
    const group = text(['group'], 'group');
    rows.push({
      where: at,
      smartAgId: text(['smartagid'], 'SmartAGId'),
      regionId: text(['regionid'], 'RegionId'),
      serialNumbers: list(['serialnumber', 'serialnumbers'], 'SerialNumber', /[;,]/),
      ...(group !== undefined ? { group } : {}),
      tags: list(['tags'], 'tags', /;/),
      reported,
    });
  });
  return rows;
}
