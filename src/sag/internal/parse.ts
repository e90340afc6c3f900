/**
 * Defensive readers for smartag JSON as json-bigint hands it over: null-prototype objects,
 * BigNumber instances for large integers, numbers that arrive as strings (and the reverse), and
 * wrapped lists that arrive as a bare object when they hold one item.
 */

export type Json = Record<string, unknown>;

/** Thrown when a success body lacks what the typed shape needs; the client maps it to `InvalidResponse`. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property of a (possibly null-prototype) object. */
export function field(obj: unknown, key: string): unknown {
  return isJson(obj) && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function isBigNumberLike(value: unknown): value is { toString(): string } {
  return (
    isJson(value) &&
    typeof (value as { toNumber?: unknown }).toNumber === 'function' &&
    typeof (value as { isNaN?: unknown }).isNaN === 'function'
  );
}

/** A non-empty string; numbers and BigNumbers are rendered as strings. */
export function optString(obj: unknown, key: string): string | undefined {
  const value = field(obj, key);
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (isBigNumberLike(value)) return value.toString();
  return undefined;
}

export function reqString(obj: unknown, key: string, where: string): string {
  const value = optString(obj, key);
  if (value === undefined) throw new ShapeError(`${where}: missing ${key}`);
  return value;
}

/** A finite number from a number, a numeric string or a BigNumber. */
export function optNumber(obj: unknown, key: string): number | undefined {
  const value = field(obj, key);
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value.trim() !== '') n = Number(value);
  else if (isBigNumberLike(value)) n = Number(value.toString());
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/**
 * The items of an Alibaba wrapped list (`{Outer: {Inner: [...]}}`): an array, a single bare
 * object, or nothing at all. Non-object items are dropped.
 */
export function wrappedList(obj: unknown, outer: string, inner: string): Json[] {
  const wrapper = field(obj, outer);
  const items = Array.isArray(wrapper) ? wrapper : field(wrapper, inner);
  if (Array.isArray(items)) return items.filter(isJson);
  return isJson(items) ? [items] : [];
}

/** `"sn1,sn2"` (or an array) as a list of trimmed, non-empty serial numbers. */
export function splitSerials(value: unknown): string[] {
  const parts = Array.isArray(value)
    ? value.map((v) => (typeof v === 'string' ? v : ''))
    : typeof value === 'string'
      ? value.split(',')
      : [];
  return parts.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Picks a value from a closed set, or `undefined`. */
export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  return value !== undefined && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}
