/** Exported devices written as an inventory file, in the forms `parseInventory` reads (src/config/inventory.ts). */

import type { RolloutExport } from '../../operator/export';

/**
 * CSV: `SmartAGId,RegionId,SerialNumber,group,tags,outcome,errorCode`; several serial numbers and
 * tags are `;`-separated. The inventory parser reads the first five columns and ignores the rest.
 */
export function renderInventoryCsv(e: RolloutExport): string {
  const rows = e.devices.map((d) =>
    [
      d.smartAgId,
      d.regionId,
      (d.serialNumbers ?? []).join(';'),
      d.group ?? '',
      (d.tags ?? []).join(';'),
      d.outcome,
      d.errorCode ?? '',
    ]
      .map(csvField)
      .join(','),
  );
  return [
    ['SmartAGId', 'RegionId', 'SerialNumber', 'group', 'tags', 'outcome', 'errorCode'].join(','),
    ...rows,
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/**
 * JSON: `{ "rolloutId", "outcomes", "devices": [ { "SmartAGId", "RegionId", "SerialNumber": [...],
 * "group", "tags": [...], "outcome", "errorCode" } ] }`; the parser reads `devices` and ignores the
 * other keys.
 */
export function renderInventoryJson(e: RolloutExport): string {
  const doc = {
    rolloutId: e.rolloutId,
    outcomes: e.outcomes,
    devices: e.devices.map((d) => ({
      SmartAGId: d.smartAgId,
      RegionId: d.regionId,
      ...(d.serialNumbers?.length ? { SerialNumber: d.serialNumbers } : {}),
      ...(d.group !== undefined ? { group: d.group } : {}),
      ...(d.tags?.length ? { tags: d.tags } : {}),
      outcome: d.outcome,
      ...(d.errorCode ? { errorCode: d.errorCode } : {}),
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
