import type { DeviceStatus } from '../../../domain/types';
import type { RolloutStatus } from '../../operator/status';
import { gateText } from './progress';
import { clock, plural } from './table';

function deviceLine(d: DeviceStatus): string {
  const versions = d.serials.map((s) => `${s.serialNumber} ${s.from || '?'}→${s.to ?? '-'}`).join(', ');
  switch (d.outcome) {
    case 'failed':
      return `device ${d.smartAgId} failed in ${d.phase ?? '?'}: ${d.errorCode ?? 'error'}${d.message ? ` (${d.message})` : ''}${d.compensation ? `; ${d.compensation}` : ''}`;
    case 'unconfirmed':
      return `device ${d.smartAgId} unconfirmed: ${d.message ?? 'an upgrade call was answered ambiguously and the device showed no sign of it'}`;
    case 'compensated':
      return `device ${d.smartAgId} compensated: ${d.compensation ?? ''}${d.errorCode ? ` (failed with ${d.errorCode})` : ''}`;
    case 'skipped':
      return `device ${d.smartAgId} skipped: ${d.errorCode ?? ''}${d.message ? ` (${d.message})` : ''}`;
    case 'excluded':
      return `device ${d.smartAgId} excluded${d.message ? `: ${d.message}` : ''}`;
    default:
      return `device ${d.smartAgId} ${d.outcome}${versions ? ` ${versions}` : ''}`;
  }
}

/**
 * Plain event lines for a non-terminal `status --watch`: what changed between two reads of a
 * rollout's status (state, gates, waves, each device that finished otherwise than upgraded, and
 * a progress line per wave whose counts moved). `prev` undefined describes the first read.
 */
export function statusEvents(
  prev: RolloutStatus | undefined,
  next: RolloutStatus,
  opts: { devices?: boolean } = {},
): string[] {
  const t = clock();
  const lines: string[] = [];
  // The halt reason goes with the first line that shows the rollout halted, whatever its state
  // (paused, aborting after a breach with onBreach abort, closed).
  const reason =
    next.haltReason && next.haltReason !== prev?.haltReason ? `: halted: ${next.haltReason}` : '';
  if (!prev) {
    lines.push(
      `${t} rollout ${next.rolloutId} → ${next.targetVersion} (${next.versionType}): ${next.state}, ${plural(next.total, 'device')} in ${plural(next.waves.length, 'wave')}${reason}`,
    );
  } else if (prev.state !== next.state || reason) {
    lines.push(`${t} rollout ${next.state}${reason}`);
  }
  const gate = gateText(next);
  if (gate && gate !== (prev ? gateText(prev) : undefined) && !gate.startsWith('baking'))
    lines.push(`${t} ${gate}`);
  for (const w of next.waves) {
    const before = prev?.waves[w.index];
    if (before && before.state !== w.state) lines.push(`${t} ${w.name} ${w.state}`);
    const c = w.counts;
    const b = before?.counts;
    if (before && b && JSON.stringify(b) !== JSON.stringify(c)) {
      const done = c.upgraded + c.skipped + c.failed + c.compensated + c.excluded;
      lines.push(
        `${t} ${w.name} ${done}/${w.size} done: ${c.upgraded} upgraded, ${c.skipped} skipped, ${c.failed} failed, ${c.unconfirmed} unconfirmed, ${c.compensated} compensated, ${c['in-progress']} in flight`,
      );
    }
  }
  // A rollout first seen closed gets its notable devices and its closing line at once.
  const firstSeenClosed = !prev && next.closed;
  if (prev || firstSeenClosed) {
    const before = new Map((prev?.devices ?? []).map((d) => [d.smartAgId, d.outcome]));
    for (const d of next.devices) {
      const was = before.get(d.smartAgId);
      if (was === d.outcome) continue;
      const notable = ['failed', 'unconfirmed', 'compensated', 'excluded'].includes(d.outcome);
      if (notable || (opts.devices && d.outcome !== 'in-progress')) {
        lines.push(`${t} ${deviceLine(d)}`);
      }
    }
  }
  if ((prev && !prev.closed && next.closed) || firstSeenClosed) {
    const c = next.counts;
    lines.push(
      `${t} rollout closed ${next.state}: ${c.upgraded} upgraded, ${c.skipped} skipped, ${c.failed} failed, ${c.unconfirmed} unconfirmed, ${c.compensated} compensated, ${c.excluded} excluded${next.haltReason ? `; halted: ${next.haltReason}` : ''}`,
    );
  }
  return lines;
}

export { deviceLine };
