import type { OutcomeCounts, WaveProgress } from '../../../domain/types';
import type { RolloutStatus } from '../../operator/status';
import { dateTimeIn, dateTimeZone, formatSpan } from './table';

const COLORS = { green: 32, red: 31, yellow: 33, cyan: 36, gray: 90, magenta: 35 } as const;

function paint(on: boolean, color: keyof typeof COLORS, text: string): string {
  return on ? `\u001b[${COLORS[color]}m${text}\u001b[0m` : text;
}

/** A bar of `width` cells: upgraded and skipped (green), failed and compensated (red), in progress (yellow). */
export function bar(c: OutcomeCounts, size: number, width: number, color: boolean): string {
  const total = Math.max(1, size);
  const cells = (n: number) => Math.round((n / total) * width);
  const ok = cells(c.upgraded + c.skipped + c.excluded);
  const bad = Math.min(width - ok, cells(c.failed + c.compensated));
  const busy = Math.min(width - ok - bad, cells(c['in-progress']));
  const rest = Math.max(0, width - ok - bad - busy);
  return (
    paint(color, 'green', '█'.repeat(ok)) +
    paint(color, 'red', '█'.repeat(bad)) +
    paint(color, 'yellow', '▒'.repeat(busy)) +
    paint(color, 'gray', '░'.repeat(rest))
  );
}

function waveLine(w: WaveProgress, width: number, color: boolean): string {
  const c = w.counts;
  const done = c.upgraded + c.skipped + c.failed + c.compensated + c.excluded;
  const detail = [
    `${c.upgraded} upgraded`,
    c.skipped ? `${c.skipped} skipped` : '',
    c.failed ? paint(color, 'red', `${c.failed} failed`) : '',
    c.compensated ? paint(color, 'magenta', `${c.compensated} compensated`) : '',
    c.excluded ? `${c.excluded} excluded` : '',
    c['in-progress'] ? `${c['in-progress']} in flight` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `  ${w.name.padEnd(8)} ${bar(c, w.size, width, color)} ${String(done).padStart(4)}/${String(w.size).padEnd(4)} ${w.state.padEnd(16)} ${detail}`;
}

/**
 * `, eta 2026-11-29 12:12 +08:00 (Asia/Shanghai)` while the rollout runs; while it waits (paused,
 * an approval, a window) no estimate holds, and it says so.
 */
export function etaText(s: RolloutStatus): string {
  if (s.closed) return '';
  if (s.eta !== undefined) return `, eta ${dateTimeZone(s.eta)}`;
  return s.state === 'running' ? '' : `, no eta while ${s.state}`;
}

/** What the rollout waits for, in words. */
export function gateText(s: RolloutStatus): string | undefined {
  const g = s.gate;
  if (s.state === 'waiting-window') {
    const at = s.part?.nextWindowAt;
    const zone = s.part?.windowZone;
    const local = at && zone && zone !== 'UTC' ? `${dateTimeIn(at, zone)}, ` : '';
    return `waiting for a change window${at ? ` (opens ${local}${dateTimeZone(at)}, ${new Date(at).toISOString()})` : ''}`;
  }
  if (!g) return undefined;
  const wave = s.waves[g.wave]?.name ?? `wave ${g.wave}`;
  switch (g.kind) {
    case 'approval':
      return `waiting for approval before ${wave}: sag-rollout approve ${s.rolloutId}`;
    case 'bake':
      return `baking ${wave}${g.until ? ` for ${formatSpan(g.until - Date.now())} more` : ''}`;
    case 'pause':
      return `paused${g.detail ? `: ${g.detail}` : ''} — sag-rollout resume ${s.rolloutId}`;
    default:
      return `${g.kind}${g.detail ? `: ${g.detail}` : ''}`;
  }
}

/**
 * The live view of `status --watch` on a terminal: a header, one progress bar per wave, the
 * gate or halt, the failure budget. Returns lines; the caller redraws them in place.
 */
export function renderProgress(s: RolloutStatus, opts: { width?: number; color?: boolean } = {}): string[] {
  const color = opts.color ?? true;
  const cols = opts.width ?? 100;
  const barWidth = Math.max(10, Math.min(40, cols - 70));
  const c = s.counts;
  const done = c.upgraded + c.skipped + c.failed + c.compensated + c.excluded;
  const stateColor =
    s.state === 'completed'
      ? 'green'
      : s.state === 'running'
        ? 'cyan'
        : s.state === 'aborted' || s.state === 'failed'
          ? 'red'
          : 'yellow';
  const lines = [
    `${paint(color, 'cyan', `rollout ${s.rolloutId}`)} → ${s.targetVersion} (${s.versionType})  ${paint(color, stateColor, s.state.toUpperCase())}  ${done}/${s.total} done  ` +
      `${formatSpan((s.finishedAt ?? Date.now()) - s.startedAt)} elapsed${etaText(s)}`,
    ...s.waves.map((w) => waveLine(w, barWidth, color)),
    `  total    ${bar(c, s.total, barWidth, color)} ${c.upgraded} upgraded, ${c.skipped} skipped, ${c.failed} failed, ${c.compensated} compensated, ${c.excluded} excluded, ${c['in-progress']} in flight`,
    `  failure budget: ${s.failureBudget.failed}/${s.failureBudget.finished} (${s.failureBudget.percent.toFixed(1)}% of ${s.failureBudget.limitPercent}% allowed)${s.failureBudget.breached ? paint(color, 'red', ' BREACHED') : ''}`,
  ];
  const gate = gateText(s);
  if (gate) lines.push(`  ${paint(color, 'yellow', gate)}`);
  if (s.haltReason && s.gate?.kind !== 'pause')
    lines.push(`  ${paint(color, 'red', `halted: ${s.haltReason}`)}`);
  return lines;
}
