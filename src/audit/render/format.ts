import type { ReportData } from '../types';

/** ISO-8601 UTC, second precision; empty for undefined. */
export function iso(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** ISO-8601 UTC with milliseconds, for API calls. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** A policy duration as written (`10m`), or as a span when it was recorded in ms (`10m 0s`). */
export function spanText(d: string | number): string {
  return typeof d === 'number' ? duration(d) || '0s' : d;
}

/** `42s`, `3m 5s` or `2h 10m`; empty when unknown or negative. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** A value as a table cell's text: numbers and booleans printed, objects as JSON; empty for undefined and null. */
export function plainText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** When the rollout closed: the last audit entry of a closed rollout. */
export function finishedAt(data: ReportData): number | undefined {
  if (data.progress.finishedAt) return data.progress.finishedAt;
  const closing = [...data.audit].reverse().find((a) => a.kind === 'completed' || a.kind === 'aborted');
  return closing?.at;
}

/** Wave names by wave index. */
export function waveNames(data: ReportData): Record<number, string> {
  const names: Record<number, string> = {};
  for (const w of data.waves) names[w.index] = w.name;
  return names;
}
