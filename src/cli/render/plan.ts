import type { PlanResult } from '../../operator/dry-run';
import { formatSpan, renderTable } from './table';

/** The human-readable plan: waves, then every device that would be skipped or fail preflight. */
export function renderPlanText(p: PlanResult): string {
  const bake = typeof p.policy.bake === 'number' ? formatSpan(p.policy.bake) : p.policy.bake;
  const lines = [
    `plan: ${p.total} devices to ${p.targetVersion} (${p.versionType}) in ${p.waves.length} waves; ${p.upgrade} would be upgraded, ${p.skipped.length} skipped, ${p.failing.length} fail preflight`,
    `pace: ${p.policy.concurrency} in flight${p.policy.maxPerMinute ? `, ${p.policy.maxPerMinute}/min` : ''}; bake ${bake}; approval ${p.policy.approval}; failure budget ${p.policy.maxFailurePercent}%`,
    '',
    renderTable(
      ['WAVE', 'DEVICES', 'UPGRADE', 'SKIP', 'FAIL', 'FIRST DEVICES'],
      p.waves.map((w) => [
        w.name,
        w.size,
        w.upgrade,
        w.skip,
        w.fail,
        w.devices.slice(0, 3).join(', ') + (w.devices.length > 3 ? ', …' : ''),
      ]),
    ),
  ];
  const ex = [...p.skipped, ...p.failing];
  if (ex.length > 0) {
    lines.push(
      '',
      renderTable(
        ['DEVICE', 'REGION', 'WAVE', 'WOULD', 'CODE', 'REASON'],
        ex.map((e) => [e.smartAgId, e.regionId, e.wave, e.decision, e.code, e.reason]),
      ),
    );
  }
  lines.push('', `(${p.apiCalls} read-only API calls; nothing was started or changed)`);
  return lines.join('\n');
}
