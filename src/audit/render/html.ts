import type { AuditEntry, RolloutPolicy } from '../../../domain/types';
import { windowZoneOf } from '../../../domain/window-zone';
import { wallText } from '../../windows';
import type { ReportCall, ReportData, ReportDevice } from '../types';
import { duration, finishedAt, iso, isoMs, spanText, waveNames } from './format';
import { REPORT_CSS } from './html-css';
import { badge, card, escapeHtml, outcomeBadges, outcomeBar, span, table } from './html-elements';
import { healthSection } from './html-health';

/** Above this many calls the HTML page lists only upgrade calls and failed calls; JSONL and CSV list all. */
export const HTML_CALL_LIMIT = 5000;

/** Audit kinds the timeline lists as gates, approvals and operator actions. */
const TIMELINE_KINDS = new Set([
  'started',
  'gate-waiting',
  'approve',
  'approve-refused',
  'promote',
  'pause',
  'resume',
  'halted',
  'abort',
  'exclude',
  'retry-failed',
  'health-recheck-failed',
  'wave-query',
  'wave-done',
  'completed',
  'aborted',
]);

/** An audit entry's details as `key=value, ...`, empty values left out. */
function detailText(a: AuditEntry): string {
  const parts = Object.entries(a.detail ?? {})
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${String(v)}`);
  return parts.join(', ');
}

/** The summary's cards: target, state, who, when, budget, follow-ups and the policy's pace. */
function summaryCards(data: ReportData): string[] {
  const p = data.progress;
  const end = finishedAt(data);
  const fb = p.failureBudget;
  const none = (text: string) => span('mut', text);
  const cards = [
    card('Target', `${escapeHtml(p.targetVersion)} ${span('mut', `(${p.versionType})`)}`),
    card(
      'State',
      badge(`s-${p.state}`, p.state) +
        (data.workflowStatus ? ` ${span('mut', `workflow ${data.workflowStatus.toLowerCase()}`)}` : ''),
    ),
    card('Started by', escapeHtml(p.operator)),
    card('Change ticket', p.ticket ? escapeHtml(p.ticket) : none('none')),
    card('Started', escapeHtml(iso(p.startedAt))),
    card('Finished', end ? escapeHtml(iso(end)) : none('not yet')),
    card('Duration', escapeHtml(duration((end ?? data.generatedAt) - p.startedAt))),
    card('Devices', escapeHtml(p.total)),
    card(
      'Failure budget',
      `${escapeHtml(fb.failed)}/${escapeHtml(fb.finished)} failed, limit ${escapeHtml(fb.limitPercent)}% (min ${escapeHtml(fb.minFailures)})${fb.breached ? ' <span class="err">breached</span>' : ''}`,
    ),
    card('API calls recorded', escapeHtml(data.calls.length)),
  ];
  if (data.followUpOf) cards.push(card('Follow-up of', span('mono', data.followUpOf)));
  if (data.followUps?.length)
    cards.push(card('Follow-ups', `<span class="mono">${data.followUps.map(escapeHtml).join(', ')}</span>`));
  const policy = data.policy;
  if (policy) {
    const differ = policy.approverMustDiffer ? ' (approver must differ)' : '';
    const perMinute = policy.maxPerMinute ? `, ${policy.maxPerMinute}/min` : '';
    cards.push(card('Approval', escapeHtml(`${policy.approval}${differ}`)));
    cards.push(card('Pace', escapeHtml(`${policy.concurrency} in flight${perMinute}`)));
  }
  return cards;
}

function summarySection(data: ReportData): string {
  const p = data.progress;
  const halt = p.haltReason ? `<p class="err">Halted: ${escapeHtml(p.haltReason)}</p>` : '';
  const warnings = data.warnings.length
    ? `<div class="warn"><strong>Incomplete:</strong><ul>${data.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>`
    : '';
  return `<section id="summary"><h2>Summary</h2><div class="grid">${summaryCards(data).join('')}</div>
<div class="counts" id="counts">${outcomeBadges(p.counts).join(' ')}</div>${outcomeBar(p.counts, p.total)}${halt}${warnings}</section>`;
}

/** The policy as setting/value rows (plain text, escaped by the caller). */
function policyRows(data: ReportData & { policy: RolloutPolicy }): [string, string][] {
  const { policy } = data;
  const rows: [string, string][] = [];
  const add = (k: string, v: string) => rows.push([k, v]);
  const c = policy.canary;
  add(
    'Canary',
    c.devices?.length
      ? c.devices.join(', ')
      : c.group
        ? `group ${c.group}`
        : c.percent !== undefined
          ? `${c.percent}%`
          : `${c.count ?? 1} device(s)`,
  );
  add(
    'Waves',
    policy.waves.sizes?.length
      ? `sizes ${policy.waves.sizes.join(', ')}`
      : `cumulative ${(policy.waves.cumulativePercents ?? [100]).join('%, ')}%`,
  );
  const fb = policy.failureBudget;
  add(
    'Failure budget',
    `> ${fb.maxFailurePercent}% with at least ${fb.minFailures} failures${fb.maxConsecutiveFailures ? `, or ${fb.maxConsecutiveFailures} in a row` : ''}; on breach ${fb.onBreach}`,
  );
  add('Bake', spanText(policy.bake));
  add('Health re-check', policy.healthRecheck ? 'yes' : 'no');
  const yesNo = (b: boolean) => (b ? 'yes' : 'no');
  add(
    'Compensation',
    `repair HA pairs: ${yesNo(policy.compensation.repairHaPairs)}; request previous version: ${yesNo(policy.compensation.requestPreviousVersion)}`,
  );
  add('Auto-upgrade policy after', policy.autoUpgradeAfter);
  for (const w of policy.windows) {
    add(
      `Window${w.name ? ` ${w.name}` : ''}`,
      w.kind === 'recurring'
        ? `${w.cron} for ${spanText(w.duration)} (${w.timeZone})`
        : `${w.start} – ${w.end}`,
    );
  }
  // While the rollout runs, the window as it stands, beside the windows that make it.
  if (data.progress.window && policy.windows.length > 0 && data.workflowStatus === 'RUNNING')
    add('Change window now', windowText(data.progress.window, windowZone(data)));
  if (policy.windows.length === 0) add('Change windows', 'none (always open)');
  for (const f of policy.freezes) add('Freeze', `${f.start} – ${f.end}${f.reason ? ` (${f.reason})` : ''}`);
  if (policy.deadline) add('Deadline', policy.deadline);
  return rows;
}

function policySection(data: ReportData): string {
  if (!data.policy) return '';
  const rows = policyRows({ ...data, policy: data.policy }).map((r) => r.map(escapeHtml));
  return `<section id="policy"><h2>Plan and policy</h2>${table(['Setting', 'Value'], rows)}</section>`;
}

/** A wave as a timeline row: its numbers, outcomes and a bar placed on the rollout's time span. */
function waveRow(w: ReportData['waves'][number], end: number, pct: (t: number) => number): string[] {
  let bar = '';
  if (w.startedAt) {
    const wEnd = w.finishedAt ?? end;
    bar += `<span style="left:${pct(w.startedAt).toFixed(2)}%;width:${Math.max(0.5, pct(wEnd) - pct(w.startedAt)).toFixed(2)}%"></span>`;
  }
  if (w.bakeUntil && w.startedAt) {
    bar += `<span class="bake" style="left:${pct(Math.min(w.bakeUntil, end) - 1).toFixed(2)}%;width:0.8%" title="bake until ${escapeHtml(iso(w.bakeUntil))}"></span>`;
  }
  return [
    escapeHtml(w.index),
    escapeHtml(w.name),
    escapeHtml(w.size),
    badge(`s-${w.state}`, w.state),
    span('nowrap', iso(w.startedAt)),
    span('nowrap', iso(w.finishedAt)),
    escapeHtml(w.startedAt ? duration((w.finishedAt ?? end) - w.startedAt) : ''),
    outcomeBadges(w.counts).join(' '),
    `<div class="tl">${bar}</div>`,
  ];
}

/**
 * The zone the policy's change windows are written in, when they share one other than UTC: the
 * report shows a window's instants also as wall time there.
 */
function windowZone(data: ReportData): string | undefined {
  const zone = data.policy && windowZoneOf(data.policy.windows).windowZone;
  return zone === 'UTC' ? undefined : zone;
}

/** `2026-11-29T18:00:00Z (2026-11-30 02:00 Asia/Shanghai)`: an instant in UTC and, given a zone, as wall time there. */
function windowInstant(ms: number, zone: string | undefined): string {
  if (!zone) return iso(ms);
  try {
    return `${iso(ms)} (${wallText(zone, ms)} ${zone})`;
  } catch {
    // A zone the runtime's ICU does not know: UTC alone.
    return iso(ms);
  }
}

/** The change window as it stands: open or closed, when it closes, when it opens next. */
function windowText(w: NonNullable<ReportData['progress']['window']>, zone: string | undefined): string {
  return `${w.open ? 'open' : 'closed'}${w.closesAt ? `, closes ${windowInstant(w.closesAt, zone)}` : ''}${w.nextOpensAt ? `, next opens ${windowInstant(w.nextOpensAt, zone)}` : ''}`;
}

/** What the rollout waits on now and the state of its change window, as paragraphs. */
function gateAndWindow(data: ReportData): string {
  const p = data.progress;
  const zone = windowZone(data);
  const until = (g: NonNullable<typeof p.gate>, t: number) =>
    g.kind === 'window' ? windowInstant(t, zone) : iso(t);
  const gate = p.gate
    ? `<p>Waiting now: <strong>${escapeHtml(p.gate.kind)}</strong> before ${escapeHtml(p.waves[p.gate.wave]?.name ?? `wave ${p.gate.wave}`)}${p.gate.until ? ` until ${escapeHtml(until(p.gate, p.gate.until))}` : ''}${p.gate.detail ? ` — ${escapeHtml(p.gate.detail)}` : ''}</p>`
    : '';
  const win = p.window ? `<p>Change window: ${escapeHtml(windowText(p.window, zone))}</p>` : '';
  return gate + win;
}

function timelineSection(data: ReportData): string {
  const p = data.progress;
  const end = finishedAt(data) ?? data.generatedAt;
  const spanMs = Math.max(1, end - p.startedAt);
  const pct = (t: number) => Math.min(100, Math.max(0, ((t - p.startedAt) / spanMs) * 100));
  const waveRows = data.waves.map((w) => waveRow(w, end, pct));
  const events = data.audit
    .filter((a) => TIMELINE_KINDS.has(a.kind))
    .map((a) => [
      span('nowrap', iso(a.at)),
      escapeHtml(a.kind),
      escapeHtml(a.wave ?? ''),
      escapeHtml(a.by ?? ''),
      escapeHtml([a.reason, detailText(a)].filter(Boolean).join(' — ')),
    ]);
  return `<section id="timeline"><h2>Timeline</h2>
${table(['#', 'Wave', 'Devices', 'State', 'Started', 'Finished', 'Took', 'Outcomes', `${iso(p.startedAt)} → ${iso(end)}`], waveRows, [0, 2])}
${gateAndWindow(data)}
<h3 style="font-size:14px;margin:16px 0 6px">Gates, approvals and operator actions</h3>
${table(['Time', 'Event', 'Wave', 'By', 'Detail'], events)}</section>`;
}

function serialCell(d: ReportDevice, pick: 'from' | 'to' | 'serialNumber'): string {
  return d.serials.map((s) => `<div class="mono">${escapeHtml(s[pick] ?? '')}</div>`).join('');
}

function deviceRow(d: ReportDevice, waveName: Record<number, string>): string[] {
  return [
    span('mono', d.smartAgId),
    escapeHtml(d.regionId),
    escapeHtml(waveName[d.wave] ?? d.wave),
    badge(`o-${d.outcome}`, d.outcome),
    serialCell(d, 'serialNumber'),
    serialCell(d, 'from'),
    serialCell(d, 'to'),
    escapeHtml(d.phase ?? ''),
    d.errorCode ? span(d.outcome === 'skipped' ? 'mut' : 'err', d.errorCode) : '',
    escapeHtml(d.message ?? ''),
    // The compensation summary already names not-reversible serial numbers with their RequestIds.
    escapeHtml(
      d.compensation ??
        (d.notReversible ?? [])
          .map((n) => `not-reversible:${n.serialNumber}:${n.code}:${n.requestId ?? '-'}`)
          .join(' '),
    ),
    (d.requestIds ?? []).map((r) => `<div class="mono nowrap">${escapeHtml(r)}</div>`).join(''),
    runsCell(d),
  ];
}

/** Every device-workflow run of the device, oldest first: a retried device shows each attempt. */
function runsCell(d: ReportDevice): string {
  return [...d.runs]
    .sort((a, b) => a.startedAt - b.startedAt)
    .map(
      (r) =>
        `<div class="nowrap">${escapeHtml(`${r.mode} ${r.outcome ?? r.status.toLowerCase()}${r.errorCode ? ` ${r.errorCode}` : ''}`)}</div>`,
    )
    .join('');
}

function devicesSection(data: ReportData): string {
  const waveName = waveNames(data);
  const rows = data.devices.map((d) => deviceRow(d, waveName));
  return `<section id="devices"><h2>Devices (${data.devices.length})</h2>
${table(['SmartAGId', 'Region', 'Wave', 'Outcome', 'Serial number', 'From', 'To', 'Phase', 'Code', 'Message', 'Compensation', 'Upgrade RequestIds', 'Runs'], rows)}</section>`;
}

function failuresSection(data: ReportData): string {
  if (data.failures.length === 0)
    return `<section id="failures"><h2>Failures by code</h2><p class="mut">No device failed.</p></section>`;
  const rows = data.failures.map((f) => [
    span('err', f.code),
    escapeHtml(f.count),
    escapeHtml(f.phases.join(', ')),
    `<span class="mono">${escapeHtml(f.devices.slice(0, 50).join(', '))}${f.devices.length > 50 ? ` and ${f.devices.length - 50} more` : ''}</span>`,
  ]);
  return `<section id="failures"><h2>Failures by code</h2>${table(['Code', 'Devices', 'Phase', 'Which'], rows, [1])}</section>`;
}

function auditSection(data: ReportData): string {
  const rows = data.audit.map((a) => [
    escapeHtml(a.seq),
    span('nowrap', iso(a.at)),
    a.kind.endsWith('-refused') ? span('err', a.kind) : escapeHtml(a.kind),
    escapeHtml(a.by ?? ''),
    escapeHtml(a.reason ?? ''),
    escapeHtml(a.wave ?? ''),
    escapeHtml(a.smartAgId ?? ''),
    escapeHtml(detailText(a)),
  ]);
  return `<section id="audit"><h2>Audit log (${data.audit.length})</h2>${table(['#', 'Time', 'Kind', 'By', 'Reason', 'Wave', 'SmartAGId', 'Detail'], rows, [0])}</section>`;
}

function callRow(c: ReportCall): string[] {
  return [
    span('nowrap mono', isoMs(c.t)),
    escapeHtml(c.action),
    span('mono', c.smartAgId ?? ''),
    span('mono', c.serialNumber ?? ''),
    span('mono', c.requestId ?? ''),
    c.code
      ? `<span class="err">${escapeHtml(c.code)}${c.httpStatus ? ` (HTTP ${escapeHtml(c.httpStatus)})` : ''}</span>`
      : 'OK',
    escapeHtml(c.ms),
  ];
}

function callsSection(data: ReportData): string {
  let calls: ReportCall[] = data.calls;
  let note = '';
  if (calls.length > HTML_CALL_LIMIT) {
    calls = calls.filter((c) => c.action === 'UpdateSmartAccessGatewayVersion' || c.code);
    note = `<p class="mut">${data.calls.length} calls in all; this page lists the ${calls.length} upgrade calls and failed calls. The JSON Lines and CSV reports list every call.</p>`;
  }
  return `<section id="calls"><h2>API calls (${data.calls.length})</h2>${note}${table(['Time (UTC)', 'Action', 'SmartAGId', 'Serial number', 'RequestId', 'Result', 'ms'], calls.map(callRow), [6])}</section>`;
}

/**
 * One self-contained HTML page: inline CSS, no scripts, no external assets. Sections: summary,
 * plan and policy, timeline of waves and gates, devices, health analysis, failures by code, audit
 * log, API calls.
 * Every text is escaped.
 */
export function renderHtml(data: ReportData): string {
  const p = data.progress;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`Rollout ${data.rolloutId} — ${p.targetVersion}`)}</title>
<style>${REPORT_CSS}</style></head>
<body>
<header><h1>Rollout ${escapeHtml(data.rolloutId)} ${badge(`s-${p.state}`, p.state)}</h1>
<div class="sub">Smart Access Gateway ${escapeHtml(p.versionType === 'Dpi' ? 'DPI signature database' : 'firmware')} to ${escapeHtml(p.targetVersion)} · started by ${escapeHtml(p.operator)}${p.ticket ? ` · ticket ${escapeHtml(p.ticket)}` : ''} · workflow <span class="mono">${escapeHtml(data.workflowId)}</span></div></header>
<main>
${summarySection(data)}
${policySection(data)}
${timelineSection(data)}
${devicesSection(data)}
${healthSection(data)}
${failuresSection(data)}
${auditSection(data)}
${callsSection(data)}
<footer>Generated ${escapeHtml(iso(data.generatedAt))} by sag-rollout from the rollout's Temporal histories. Times are UTC.</footer>
</main></body></html>
`;
}
