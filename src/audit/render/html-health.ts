import type { HealthFinding } from '../../../domain/health';
import type { HealthPolicy } from '../../../domain/types';
import type { ReportData, ReportDevice } from '../types';
import { spanText } from './format';
import { badge, escapeHtml, span, table } from './html-elements';

/** The checks a policy's health analysis ran, as one line. */
function checksLine(h: HealthPolicy): string {
  const on = (['links', 'ha', 'controller', 'diagnosis'] as const).filter((k) => h[k]);
  const parts = [on.length ? on.join(', ') : 'no built-in check'];
  if (h.features.length) parts.push(`features of ${h.features.join(', ')}`);
  if (h.probes.length) parts.push(`probes ${h.probes.map((p) => p.name).join(', ')}`);
  if (h.grace !== undefined) parts.push(`grace ${spanText(h.grace)}`);
  if (h.waveQuery) parts.push(`wave query ${h.waveQuery.name}`);
  return parts.join(' · ');
}

function findingRow(d: ReportDevice, f: HealthFinding, regression: boolean): string[] {
  return [
    span('mono', d.smartAgId),
    badge(`o-${d.outcome}`, d.outcome),
    escapeHtml(f.check),
    span('mono', f.subject),
    escapeHtml(f.before || '(not read)'),
    escapeHtml(f.after),
    regression ? span('err', 'worse') : span('mut', 'no worse than before'),
  ];
}

/** One row per finding and per probe of every device the analysis said something about. */
function rowsOf(d: ReportDevice): string[][] {
  const h = d.health!;
  return [
    ...h.regressions.map((f) => findingRow(d, f, true)),
    ...h.notes.map((f) => findingRow(d, f, false)),
    ...h.probes.map((p) => [
      span('mono', d.smartAgId),
      badge(`o-${d.outcome}`, d.outcome),
      'probe',
      span('mono', p.name),
      '',
      escapeHtml(p.evidence),
      p.passed ? 'passed' : span('err', 'failed'),
    ]),
  ];
}

/**
 * The health analysis: which checks ran, how many devices were compared with their baseline, and
 * a before → after row for every regression, every note (broken before and no worse after) and
 * every probe. Devices that came back as healthy as they were are counted, not listed.
 */
export function healthSection(data: ReportData): string {
  const h = data.policy?.health;
  const head = '<section id="health"><h2>Health analysis</h2>';
  if (data.policy && !h)
    return `${head}<p class="mut">This rollout ran without the health analysis (started by an older build).</p></section>`;
  const analysed = data.devices.filter((d) => d.health);
  const worse = analysed.filter(
    (d) => d.health!.regressions.length || d.health!.probes.some((p) => !p.passed),
  );
  const listed = analysed.filter(
    (d) => d.health!.regressions.length || d.health!.notes.length || d.health!.probes.length,
  );
  const checks = h ? `<p>Checks: ${escapeHtml(checksLine(h))}</p>` : '';
  const summary = `<p>${escapeHtml(analysed.length)} devices compared with their baseline: ${escapeHtml(worse.length)} worse after the upgrade, ${escapeHtml(analysed.length - listed.length)} as healthy as before.</p>`;
  const rows = listed.flatMap(rowsOf);
  const body = rows.length
    ? table(['SmartAGId', 'Outcome', 'Check', 'Subject', 'Before', 'After', 'Verdict'], rows)
    : '<p class="mut">No device had anything to report.</p>';
  return `${head}${checks}${summary}${body}</section>`;
}
