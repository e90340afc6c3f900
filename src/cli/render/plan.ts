import { PLAN_OUTCOMES } from '../../../domain/plan-outcome';
import type { PlanResult } from '../../operator/dry-run';
import type { PlanWindow } from '../../operator/plan-window';
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
    `window: ${renderWindow(p.window)}`,
    `pace: ${paceLine(p)}`,
    `estimated duration: ${formatSpan(p.estimate.totalMs)} (${p.waves.length} waves${p.estimate.bakesMs > 0 ? `, bakes ${formatSpan(p.estimate.bakesMs)}` : ''}; not counting ${p.estimate.excludes.join(', ')})`,
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

/** The next window in its own time zone, and in UTC. */
function renderWindow(w: PlanWindow): string {
  if (w.state === 'always') return 'no change window restricts the start (always open)';
  if (w.state === 'none') return 'no change window opens within the horizon or before the deadline';
  const utc = (iso: string | undefined) => `${(iso ?? '').slice(0, 16).replace('T', ' ')} UTC`;
  const name = w.window ? ` (${w.window})` : '';
  const span = w.timeZone
    ? `${w.localStart} to ${w.localEnd} ${w.timeZone} (${utc(w.start)} to ${utc(w.end)})`
    : `${utc(w.start)} to ${utc(w.end)}`;
  return `${w.state === 'open' ? 'open now' : 'next opens'}${name}: ${span}`;
}

function paceLine(p: PlanResult): string {
  const bake = typeof p.policy.bake === 'number' ? formatSpan(p.policy.bake) : p.policy.bake;
  return [
    `${p.policy.concurrency} in flight${p.policy.maxPerMinute ? `, ${p.policy.maxPerMinute}/min` : ''}`,
    `expected upgrade time ${formatSpan(p.estimate.expectedUpgradeMs)}`,
    `bake ${bake}`,
    `approval ${p.policy.approval}`,
    `failure budget ${p.policy.maxFailurePercent}%`,
  ].join('; ');
}
