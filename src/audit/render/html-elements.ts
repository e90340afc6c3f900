import type { DeviceStatusOutcome, OutcomeCounts } from '../../../domain/types';
import { plainText } from './format';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(v: unknown): string {
  return plainText(v).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** `<span class="cls">text</span>`, the text escaped. */
export function span(cls: string, text: unknown): string {
  return `<span class="${cls}">${escapeHtml(text)}</span>`;
}

/** A coloured label; `cls` picks the colour (`o-<outcome>`, `s-<state>`). */
export function badge(cls: string, text: string): string {
  return `<span class="badge ${escapeHtml(cls)}">${escapeHtml(text)}</span>`;
}

/** A summary card: a caption and its value (`v` is HTML). */
export function card(k: string, v: string): string {
  return `<div class="card"><div class="k">${escapeHtml(k)}</div><div class="v">${v}</div></div>`;
}

/** A table; `rows` are HTML cells, the columns at the `numeric` indexes are right-aligned. */
export function table(header: string[], rows: string[][], numeric: number[] = []): string {
  const cls = (i: number) => (numeric.includes(i) ? ' class="num"' : '');
  const th = header.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The order outcomes are shown in, and the colours of the outcome bar follow. */
export const OUTCOME_ORDER: readonly DeviceStatusOutcome[] = [
  'upgraded',
  'skipped',
  'failed',
  'unconfirmed',
  'compensated',
  'excluded',
  'in-progress',
  'pending',
];

/** A badge per outcome that has devices (`upgraded 3`), in {@link OUTCOME_ORDER}. */
export function outcomeBadges(counts: OutcomeCounts): string[] {
  return OUTCOME_ORDER.filter((o) => counts[o] > 0).map((o) => badge(`o-${o}`, `${o} ${counts[o]}`));
}

/** The outcomes as one bar, each segment as wide as its share of `total`. */
export function outcomeBar(counts: OutcomeCounts, total: number): string {
  const segment = (o: DeviceStatusOutcome) =>
    `<span class="o-${o}" style="width:${((counts[o] / Math.max(1, total)) * 100).toFixed(2)}%" title="${escapeHtml(`${o}: ${counts[o]}`)}"></span>`;
  return `<div class="bar">${OUTCOME_ORDER.filter((o) => counts[o] > 0)
    .map(segment)
    .join('')}</div>`;
}
