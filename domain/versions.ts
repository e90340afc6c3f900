import type { VersionType } from './types';

function compareNumberLists(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function numbers(s: string): number[] {
  return s
    .split(/[._-]/)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : NaN))
    .filter((n) => !Number.isNaN(n));
}

/**
 * Orders two versions: firmware as dotted numbers (`2.10.0.0` > `2.9.1.0`), DPI signature databases
 * (`20201117_1_0-0.0.1`) by date, then build numbers, then the dotted tail. Returns -1, 0 or 1.
 */
export function compareVersions(a: string | undefined, b: string | undefined, type: VersionType): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (type === 'Dpi') {
    const [headA = '', tailA = ''] = a.split('-', 2);
    const [headB = '', tailB = ''] = b.split('-', 2);
    const c = compareNumberLists(numbers(headA), numbers(headB));
    return c !== 0 ? c : compareNumberLists(numbers(tailA), numbers(tailB));
  }
  return compareNumberLists(numbers(a), numbers(b));
}

/**
 * The version a serial number reports for `type`: its DPI signature database or its firmware;
 * `''` when it reports none (or the serial number is unknown).
 */
export function serialVersion(
  s: { softwareVersion?: string; dpiVersion?: string } | undefined,
  type: VersionType,
): string {
  return (type === 'Dpi' ? s?.dpiVersion : s?.softwareVersion) ?? '';
}
