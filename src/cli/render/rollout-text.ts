import type { RolloutStatus } from '../../operator/status';
import { etaText, gateText } from './progress';
import { formatSpan, renderTable } from './table';

/**
 * The failure budget in words: the count the halt decision evaluates, and, when devices failed
 * outside it, why they are not counted.
 */
export function budgetText(s: Pick<RolloutStatus, 'failureBudget' | 'counts'>): string {
  const fb = s.failureBudget;
  const failing = s.counts.failed + s.counts.unconfirmed;
  const note =
    failing <= fb.failed
      ? ''
      : fb.breached
        ? '; the count that decided the halt: devices that finished after it are not in it'
        : `; counts failures since the start or the last resume, not those of the rollout's credentials or permissions`;
  return `${fb.failed}/${fb.finished} failed (${fb.percent.toFixed(1)}%, limit ${fb.limitPercent}%)${fb.breached ? ' BREACHED' : ''}${note}`;
}

/** The human-readable `status` (no `--watch`): summary, waves, and every device not upgraded. */
export function renderRolloutText(s: RolloutStatus, opts: { allDevices?: boolean } = {}): string {
  const c = s.counts;
  const lines = [
    `rollout   ${s.rolloutId}`,
    `state     ${s.state}${s.closed ? ' (closed)' : ''}`,
    `target    ${s.targetVersion} (${s.versionType})`,
    `operator  ${s.operator}${s.ticket ? `, ticket ${s.ticket}` : ''}`,
    `started   ${new Date(s.startedAt).toISOString()} (${formatSpan((s.finishedAt ?? Date.now()) - s.startedAt)} ${s.closed ? 'run time' : 'ago'})${etaText(s)}`,
    `devices   ${s.total}: ${c.upgraded} upgraded, ${c.skipped} skipped, ${c.failed} failed, ${c.unconfirmed} unconfirmed, ${c.compensated} compensated, ${c.excluded} excluded, ${c['in-progress']} in progress, ${c.pending} pending`,
    `budget    ${budgetText(s)}`,
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
