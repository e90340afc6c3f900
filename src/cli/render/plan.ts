import { PLAN_OUTCOMES } from '../../../domain/plan-outcome';
import type { PlanResult } from '../../operator/dry-run';
import { estimateText, paceText, windowText } from './plan-lines';
import { formatSpan, renderTable } from './table';

/**
 * The human-readable plan: counts by outcome and code first, the waves with their sizes and
 * estimates, the next window, the pace and the estimated duration; the per-device table only
 * when `devices` is asked for.
 */
export function renderPlanText(p: PlanResult, opts: { devices?: boolean } = {}): string {
  const lines = [
    `plan: ${p.total} ${p.total === 1 ? 'device' : 'devices'} to ${p.targetVersion} (${p.versionType}) in ${p.waves.length} ${p.waves.length === 1 ? 'wave' : 'waves'}`,
    ...summaryLines(p),
    '',
    renderTable(
      ['WAVE', 'DEVICES', 'UPGRADE', 'SKIP', 'FAIL', 'OTHER', 'EST.'],
      p.waves.map((w) => [
        w.name,
        w.size,
        w.upgrade,
        w.skip,
        w.fail,
        w.defer + w.unknown,
        formatSpan(w.estimatedMs),
      ]),
    ),
    '',
    `window: ${windowText(p.window)}`,
    `pace: ${paceText(p.policy, p.estimate.expectedUpgradeMs)}; failure budget ${p.policy.maxFailurePercent}%`,
    `estimated duration: ${estimateText(p.estimate, p.waves.length)}`,
  ];
  const listed = p.devices.filter((d) => d.outcome !== 'upgrade' || opts.devices);
  if (opts.devices && p.devices.length > 0) {
    lines.push(
      '',
      renderTable(
        ['DEVICE', 'REGION', 'WAVE', 'WOULD', 'CODE', 'REASON'],
        listed.map((d) => [d.smartAgId, d.regionId, d.wave, d.outcome, d.code, d.reason]),
      ),
    );
  } else if (listed.length > 0) {
    lines.push(
      '',
      `(the ${listed.length} ${listed.length === 1 ? 'device' : 'devices'} not upgraded, one by one: --devices, or --json)`,
    );
  }
  lines.push('', `(${p.apiCalls} read-only API calls; nothing was started or changed)`);
  return lines.join('\n');
}

/** One line per outcome that occurs: its count and its codes with theirs. */
function summaryLines(p: PlanResult): string[] {
  const label: Record<string, string> = {
    upgrade: 'would be upgraded',
    skip: 'would be skipped',
    defer: 'would be deferred (offline: retried later, failed if still offline)',
    fail: 'would fail',
    unknown: 'unknown (a transient error the rollout would retry)',
  };
  const width = String(p.total).length;
  return PLAN_OUTCOMES.filter((o) => p.counts[o] > 0 || o === 'upgrade').map((o) => {
    const codes = p.byCode.filter((c) => c.outcome === o && c.code !== '');
    const detail = codes.length > 0 ? `: ${codes.map((c) => `${c.code} ${c.count}`).join(', ')}` : '';
    return `  ${String(p.counts[o]).padStart(width)} ${label[o]}${detail}`;
  });
}
