import type { RolloutStatus } from '../../operator/status';
import { gateText } from './progress';
import { clock, formatSpan, renderTable } from './table';

/** The human-readable `status` (no `--watch`): summary, waves, and every device not upgraded. */
export function renderRolloutText(s: RolloutStatus, opts: { allDevices?: boolean } = {}): string {
  const c = s.counts;
  const lines = [
    `rollout   ${s.rolloutId}`,
    `state     ${s.state}${s.closed ? ' (closed)' : ''}`,
    `target    ${s.targetVersion} (${s.versionType})`,
    `operator  ${s.operator}${s.ticket ? `, ticket ${s.ticket}` : ''}`,
    `started   ${new Date(s.startedAt).toISOString()} (${formatSpan((s.finishedAt ?? Date.now()) - s.startedAt)} ${s.closed ? 'run time' : 'ago'})${s.eta && !s.closed ? `, eta ${clock(s.eta)}` : ''}`,
    `devices   ${s.total}: ${c.upgraded} upgraded, ${c.skipped} skipped, ${c.failed} failed, ${c.compensated} compensated, ${c.excluded} excluded, ${c['in-progress']} in progress, ${c.pending} pending`,
    `budget    ${s.failureBudget.failed}/${s.failureBudget.finished} failed (${s.failureBudget.percent.toFixed(1)}%, limit ${s.failureBudget.limitPercent}%)${s.failureBudget.breached ? ' BREACHED' : ''}`,
  ];
  const gate = gateText(s);
  if (gate) lines.push(`waiting   ${gate}`);
  if (s.haltReason) lines.push(`halted    ${s.haltReason}`);
  if (s.followUpOf) lines.push(`follow-up of: ${s.followUpOf}`);
  if (s.followUps?.length)
    lines.push(
      `follow-ups: ${s.followUps.map((f) => `${f.rolloutId}${f.state ? ` (${f.state})` : ''}`).join(', ')}`,
    );
  lines.push(
    '',
    renderTable(
      [
        'WAVE',
        'STATE',
        'SIZE',
        'UPGRADED',
        'SKIPPED',
        'FAILED',
        'COMPENSATED',
        'EXCLUDED',
        'IN-FLIGHT',
        'PENDING',
      ],
      s.waves.map((w) => [
        w.name,
        w.state,
        w.size,
        w.counts.upgraded,
        w.counts.skipped,
        w.counts.failed,
        w.counts.compensated,
        w.counts.excluded,
        w.counts['in-progress'],
        w.counts.pending,
      ]),
    ),
  );
  const shown = s.devices.filter(
    (d) => opts.allDevices || (d.outcome !== 'upgraded' && d.outcome !== 'pending'),
  );
  if (shown.length > 0) {
    lines.push(
      '',
      renderTable(
        ['DEVICE', 'WAVE', 'OUTCOME', 'PHASE', 'CODE', 'VERSIONS', 'DETAIL'],
        shown.map((d) => [
          d.smartAgId,
          s.waves[d.wave]?.name ?? String(d.wave),
          d.outcome,
          d.phase,
          d.errorCode,
          d.serials.map((v) => `${v.serialNumber}:${v.from || '?'}→${v.to ?? '-'}`).join(' '),
          d.compensation ?? d.message,
        ]),
      ),
    );
  }
  return lines.join('\n');
}
