import type { AuditEntry, DeviceStatusOutcome } from '../../domain/types';
import type { ReportCall, ReportData, ReportDevice, ReportFormat } from './types';

/** Above this many calls the HTML page lists only upgrade calls and failed calls; JSONL and CSV list all. */
export const HTML_CALL_LIMIT = 5000;

/** ISO-8601 UTC, second precision; empty for undefined. */
function iso(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

// ---------------------------------------------------------------- JSON Lines

/**
 * JSON Lines, a record at a time without its line break: each with a `type`: `summary` (first),
 * then `wave`, `audit`, `device` and `call` records. Instants are ms since epoch, as in the
 * workflows.
 */
export function* jsonlLines(data: ReportData): Generator<string> {
  const { progress } = data;
  yield JSON.stringify({
    type: 'summary',
    rolloutId: data.rolloutId,
    workflowId: data.workflowId,
    generatedAt: data.generatedAt,
    workflowStatus: data.workflowStatus,
    state: progress.state,
    targetVersion: progress.targetVersion,
    versionType: progress.versionType,
    operator: progress.operator,
    ticket: progress.ticket,
    startedAt: progress.startedAt,
    finishedAt: finishedAt(data),
    total: progress.total,
    counts: progress.counts,
    failureBudget: progress.failureBudget,
    haltReason: progress.haltReason,
    calls: data.calls.length,
    failures: data.failures,
    policy: data.policy,
    followUpOf: data.followUpOf,
    followUps: data.followUps,
    warnings: data.warnings,
  });
  for (const w of data.waves) yield JSON.stringify({ type: 'wave', ...w });
  for (const a of data.audit) yield JSON.stringify({ type: 'audit', ...a });
  for (const d of data.devices) yield JSON.stringify({ type: 'device', ...d });
  for (const c of data.calls) yield JSON.stringify({ type: 'call', ...c });
}

/** {@link jsonlLines} as one text, a line each. */
export function renderJsonl(data: ReportData): string {
  return `${[...jsonlLines(data)].join('\n')}\n`;
}

/** When the rollout closed: the last audit entry of a closed rollout. */
function finishedAt(data: ReportData): number | undefined {
  if (data.progress.finishedAt) return data.progress.finishedAt;
  const closing = [...data.audit].reverse().find((a) => a.kind === 'completed' || a.kind === 'aborted');
  return closing?.at;
}

// ---------------------------------------------------------------- CSV

/**
 * One CSV cell (RFC 4180). A text cell that a spreadsheet would run as a formula (`=`, `+`, `-`,
 * `@`, tab, CR) is prefixed with `'`: device names and messages come from outside.
 */
export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  let s =
    typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : JSON.stringify(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s) && !/^[-+]?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** Columns of the per-device CSV. */
export const DEVICE_CSV_COLUMNS = [
  'smartAgId',
  'regionId',
  'wave',
  'waveName',
  'outcome',
  'serialNumbers',
  'fromVersions',
  'toVersions',
  'phase',
  'errorCode',
  'message',
  'compensation',
  'notReversible',
  'upgradeRequestIds',
  'workflowRuns',
] as const;

/**
 * The per-device CSV: one row a device, every device once. An HA pair's serial numbers and their
 * versions are `;`-separated in the same order.
 */
export function renderDevicesCsv(data: ReportData): string {
  const waveName: Record<number, string> = {};
  for (const w of data.waves) waveName[w.index] = w.name;
  return csv(
    [...DEVICE_CSV_COLUMNS],
    data.devices.map((d) => [
      d.smartAgId,
      d.regionId,
      d.wave,
      waveName[d.wave] ?? '',
      d.outcome,
      d.serials.map((s) => s.serialNumber).join(';'),
      d.serials.map((s) => s.from).join(';'),
      d.serials.map((s) => s.to ?? '').join(';'),
      d.phase ?? '',
      d.errorCode ?? '',
      d.message ?? '',
      d.compensation ?? '',
      (d.notReversible ?? [])
        .map((n) => `${n.serialNumber}:${n.version}:${n.code}:${n.requestId ?? ''}`)
        .join(';'),
      (d.requestIds ?? []).join(';'),
      d.runs.map((r) => `${r.mode}:${r.runId}`).join(';'),
    ]),
  );
}

/** Columns of the calls CSV. */
export const CALL_CSV_COLUMNS = [
  'time',
  'ms',
  'action',
  'smartAgId',
  'serialNumber',
  'requestId',
  'code',
  'httpStatus',
  'workflowId',
  'runId',
] as const;

/** The API-call CSV, a line at a time without its line break: the header, then a row a call, oldest first. */
export function* callsCsvLines(data: ReportData): Generator<string> {
  yield CALL_CSV_COLUMNS.map(csvCell).join(',');
  for (const c of data.calls) {
    yield [
      isoMs(c.t),
      c.ms,
      c.action,
      c.smartAgId ?? '',
      c.serialNumber ?? '',
      c.requestId ?? '',
      c.code ?? '',
      c.httpStatus ?? '',
      c.workflowId,
      c.runId,
    ]
      .map(csvCell)
      .join(',');
  }
}

/** The API-call CSV: one row a call, oldest first. */
export function renderCallsCsv(data: ReportData): string {
  return `${[...callsCsvLines(data)].join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------- HTML

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(v: unknown): string {
  const s =
    v === undefined || v === null
      ? ''
      : typeof v === 'string'
        ? v
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : JSON.stringify(v);
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const OUTCOME_ORDER: DeviceStatusOutcome[] = [
  'upgraded',
  'skipped',
  'failed',
  'unconfirmed',
  'compensated',
  'excluded',
  'in-progress',
  'pending',
];

const CSS = `
:root{--fg:#1d2430;--mut:#5b6575;--line:#dfe3ea;--bg:#f6f7f9;--ok:#1f8a4c;--skip:#6b7280;--fail:#c62828;--unconf:#e0457b;--comp:#c26a00;--excl:#7b4fb3;--run:#1d6fd1;--pend:#9aa3b2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#fff}
header{background:#17202e;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:20px;font-weight:600}
header .sub{color:#b9c2d0;margin-top:4px}
main{padding:8px 28px 40px;max-width:1400px}
h2{font-size:16px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--bg);font-weight:600;position:sticky;top:0}
td.num,th.num{text-align:right}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;background:#fff}
.card .k{color:var(--mut);font-size:12px}
.card .v{font-size:15px;font-weight:600;word-break:break-word}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:var(--pend)}
.o-upgraded{background:var(--ok)}.o-skipped{background:var(--skip)}.o-failed{background:var(--fail)}.o-unconfirmed{background:var(--unconf)}.o-compensated{background:var(--comp)}
.o-excluded{background:var(--excl)}.o-in-progress{background:var(--run)}.o-pending{background:var(--pend)}
.s-completed,.s-done{background:var(--ok)}.s-baking,.s-pending{background:var(--pend)}.s-halted,.s-compensated{background:var(--comp)}.s-aborted,.s-failed{background:var(--fail)}.s-paused,.s-waiting-approval,.s-waiting-window{background:var(--comp)}.s-running{background:var(--run)}
.counts{display:flex;flex-wrap:wrap;gap:6px;margin-top:10px}
.bar{display:flex;height:12px;border-radius:6px;overflow:hidden;background:var(--bg);margin-top:10px}
.bar span{display:block;height:100%}
.tl{position:relative;height:22px;background:var(--bg);border-radius:4px;min-width:200px}
.tl span{position:absolute;top:3px;height:16px;border-radius:3px;background:var(--run)}
.tl span.bake{background:#9cc3f0}
.err{color:var(--fail);font-weight:600}
.mut{color:var(--mut)}
.warn{background:#fff4e5;border:1px solid #f0c27b;padding:8px 12px;border-radius:6px}
.nowrap{white-space:nowrap}
footer{color:var(--mut);font-size:12px;margin-top:30px}
`;

function badge(cls: string, text: string): string {
  return `<span class="badge ${escapeHtml(cls)}">${escapeHtml(text)}</span>`;
}

function card(k: string, v: string): string {
  return `<div class="card"><div class="k">${escapeHtml(k)}</div><div class="v">${v}</div></div>`;
}

function table(header: string[], rows: string[][], numeric: number[] = []): string {
  const th = header
    .map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${escapeHtml(h)}</th>`)
    .join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function detailText(a: AuditEntry): string {
  const parts = Object.entries(a.detail ?? {})
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${String(v)}`);
  return parts.join(', ');
}

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
  'wave-done',
  'completed',
  'aborted',
]);

function summarySection(data: ReportData): string {
  const p = data.progress;
  const end = finishedAt(data);
  const policy = data.policy;
  const cards = [
    card('Target', `${escapeHtml(p.targetVersion)} <span class="mut">(${escapeHtml(p.versionType)})</span>`),
    card(
      'State',
      badge(`s-${p.state}`, p.state) +
        (data.workflowStatus
          ? ` <span class="mut">workflow ${escapeHtml(data.workflowStatus.toLowerCase())}</span>`
          : ''),
    ),
    card('Started by', escapeHtml(p.operator)),
    card('Change ticket', p.ticket ? escapeHtml(p.ticket) : '<span class="mut">none</span>'),
    card('Started', escapeHtml(iso(p.startedAt))),
    card('Finished', end ? escapeHtml(iso(end)) : '<span class="mut">not yet</span>'),
    card('Duration', escapeHtml(duration((end ?? data.generatedAt) - p.startedAt))),
    card('Devices', escapeHtml(p.total)),
    card(
      'Failure budget',
      `${escapeHtml(p.failureBudget.failed)}/${escapeHtml(p.failureBudget.finished)} failed, limit ${escapeHtml(p.failureBudget.limitPercent)}% (min ${escapeHtml(p.failureBudget.minFailures)})${p.failureBudget.breached ? ' <span class="err">breached</span>' : ''}`,
    ),
    card('API calls recorded', escapeHtml(data.calls.length)),
  ];
  if (data.followUpOf)
    cards.push(card('Follow-up of', `<span class="mono">${escapeHtml(data.followUpOf)}</span>`));
  if (data.followUps?.length)
    cards.push(card('Follow-ups', `<span class="mono">${data.followUps.map(escapeHtml).join(', ')}</span>`));
  if (policy) {
    cards.push(
      card(
        'Approval',
        escapeHtml(`${policy.approval}${policy.approverMustDiffer ? ' (approver must differ)' : ''}`),
      ),
    );
    cards.push(
      card(
        'Pace',
        escapeHtml(
          `${policy.concurrency} in flight${policy.maxPerMinute ? `, ${policy.maxPerMinute}/min` : ''}`,
        ),
      ),
    );
  }
  const counts = OUTCOME_ORDER.filter((o) => p.counts[o] > 0).map((o) =>
    badge(`o-${o}`, `${o} ${p.counts[o]}`),
  );
  const bar = OUTCOME_ORDER.filter((o) => p.counts[o] > 0)
    .map(
      (o) =>
        `<span class="o-${o}" style="width:${((p.counts[o] / Math.max(1, p.total)) * 100).toFixed(2)}%" title="${escapeHtml(`${o}: ${p.counts[o]}`)}"></span>`,
    )
    .join('');
  const halt = p.haltReason ? `<p class="err">Halted: ${escapeHtml(p.haltReason)}</p>` : '';
  const warnings = data.warnings.length
    ? `<div class="warn"><strong>Incomplete:</strong><ul>${data.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>`
    : '';
  return `<section id="summary"><h2>Summary</h2><div class="grid">${cards.join('')}</div>
<div class="counts" id="counts">${counts.join(' ')}</div><div class="bar">${bar}</div>${halt}${warnings}</section>`;
}

function policySection(data: ReportData): string {
  const policy = data.policy;
  if (!policy) return '';
  const rows: string[][] = [];
  const add = (k: string, v: string) => rows.push([escapeHtml(k), escapeHtml(v)]);
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
  add('Bake', String(policy.bake));
  add('Health re-check', policy.healthRecheck ? 'yes' : 'no');
  add(
    'Compensation',
    `repair HA pairs: ${policy.compensation.repairHaPairs ? 'yes' : 'no'}; request previous version: ${policy.compensation.requestPreviousVersion ? 'yes' : 'no'}`,
  );
  add('Auto-upgrade policy after', policy.autoUpgradeAfter);
  for (const w of policy.windows) {
    add(
      `Window${w.name ? ` ${w.name}` : ''}`,
      w.kind === 'recurring'
        ? `${w.cron} for ${String(w.duration)} (${w.timeZone})`
        : `${w.start} – ${w.end}`,
    );
  }
  if (policy.windows.length === 0) add('Change windows', 'none (always open)');
  for (const f of policy.freezes) add('Freeze', `${f.start} – ${f.end}${f.reason ? ` (${f.reason})` : ''}`);
  if (policy.deadline) add('Deadline', policy.deadline);
  return `<section id="policy"><h2>Plan and policy</h2>${table(['Setting', 'Value'], rows)}</section>`;
}

function timelineSection(data: ReportData): string {
  const p = data.progress;
  const end = finishedAt(data) ?? data.generatedAt;
  const span = Math.max(1, end - p.startedAt);
  const pct = (t: number) => Math.min(100, Math.max(0, ((t - p.startedAt) / span) * 100));
  const waveRows = data.waves.map((w) => {
    let bar = '';
    if (w.startedAt) {
      const wEnd = w.finishedAt ?? end;
      bar += `<span style="left:${pct(w.startedAt).toFixed(2)}%;width:${Math.max(0.5, pct(wEnd) - pct(w.startedAt)).toFixed(2)}%"></span>`;
    }
    if (w.bakeUntil && w.startedAt) {
      bar += `<span class="bake" style="left:${pct(Math.min(w.bakeUntil, end) - 1).toFixed(2)}%;width:0.8%" title="bake until ${escapeHtml(iso(w.bakeUntil))}"></span>`;
    }
    const counts = OUTCOME_ORDER.filter((o) => w.counts[o] > 0)
      .map((o) => badge(`o-${o}`, `${o} ${w.counts[o]}`))
      .join(' ');
    return [
      escapeHtml(w.index),
      escapeHtml(w.name),
      escapeHtml(w.size),
      badge(`s-${w.state}`, w.state),
      `<span class="nowrap">${escapeHtml(iso(w.startedAt))}</span>`,
      `<span class="nowrap">${escapeHtml(iso(w.finishedAt))}</span>`,
      escapeHtml(w.startedAt ? duration((w.finishedAt ?? end) - w.startedAt) : ''),
      counts,
      `<div class="tl">${bar}</div>`,
    ];
  });
  const events = data.audit
    .filter((a) => TIMELINE_KINDS.has(a.kind))
    .map((a) => [
      `<span class="nowrap">${escapeHtml(iso(a.at))}</span>`,
      escapeHtml(a.kind),
      escapeHtml(a.wave ?? ''),
      escapeHtml(a.by ?? ''),
      escapeHtml([a.reason, detailText(a)].filter(Boolean).join(' — ')),
    ]);
  const gate = p.gate
    ? `<p>Waiting now: <strong>${escapeHtml(p.gate.kind)}</strong> before wave ${escapeHtml(p.gate.wave)}${p.gate.until ? ` until ${escapeHtml(iso(p.gate.until))}` : ''}${p.gate.detail ? ` — ${escapeHtml(p.gate.detail)}` : ''}</p>`
    : '';
  const win = p.window
    ? `<p>Change window: ${p.window.open ? 'open' : 'closed'}${p.window.closesAt ? `, closes ${escapeHtml(iso(p.window.closesAt))}` : ''}${p.window.nextOpensAt ? `, next opens ${escapeHtml(iso(p.window.nextOpensAt))}` : ''}</p>`
    : '';
  return `<section id="timeline"><h2>Timeline</h2>
${table(['#', 'Wave', 'Devices', 'State', 'Started', 'Finished', 'Took', 'Outcomes', `${iso(p.startedAt)} → ${iso(end)}`], waveRows, [0, 2])}
${gate}${win}
<h3 style="font-size:14px;margin:16px 0 6px">Gates, approvals and operator actions</h3>
${table(['Time', 'Event', 'Wave', 'By', 'Detail'], events)}</section>`;
}

function serialCell(d: ReportDevice, pick: 'from' | 'to' | 'serialNumber'): string {
  return d.serials.map((s) => `<div class="mono">${escapeHtml(s[pick] ?? '')}</div>`).join('');
}

function devicesSection(data: ReportData): string {
  const waveName: Record<number, string> = {};
  for (const w of data.waves) waveName[w.index] = w.name;
  const rows = data.devices.map((d) => [
    `<span class="mono">${escapeHtml(d.smartAgId)}</span>`,
    escapeHtml(d.regionId),
    escapeHtml(waveName[d.wave] ?? d.wave),
    badge(`o-${d.outcome}`, d.outcome),
    serialCell(d, 'serialNumber'),
    serialCell(d, 'from'),
    serialCell(d, 'to'),
    escapeHtml(d.phase ?? ''),
    d.errorCode
      ? `<span class="${d.outcome === 'skipped' ? 'mut' : 'err'}">${escapeHtml(d.errorCode)}</span>`
      : '',
    escapeHtml(d.message ?? ''),
    // The compensation summary already names not-reversible serial numbers with their RequestIds.
    escapeHtml(
      d.compensation ??
        (d.notReversible ?? [])
          .map((n) => `not-reversible:${n.serialNumber}:${n.code}:${n.requestId ?? '-'}`)
          .join(' '),
    ),
    (d.requestIds ?? []).map((r) => `<div class="mono nowrap">${escapeHtml(r)}</div>`).join(''),
  ]);
  return `<section id="devices"><h2>Devices (${data.devices.length})</h2>
${table(['SmartAGId', 'Region', 'Wave', 'Outcome', 'Serial number', 'From', 'To', 'Phase', 'Code', 'Message', 'Compensation', 'Upgrade RequestIds'], rows)}</section>`;
}

function failuresSection(data: ReportData): string {
  if (data.failures.length === 0)
    return `<section id="failures"><h2>Failures by code</h2><p class="mut">No device failed.</p></section>`;
  const rows = data.failures.map((f) => [
    `<span class="err">${escapeHtml(f.code)}</span>`,
    escapeHtml(f.count),
    escapeHtml(f.phases.join(', ')),
    `<span class="mono">${escapeHtml(f.devices.slice(0, 50).join(', '))}${f.devices.length > 50 ? ` and ${f.devices.length - 50} more` : ''}</span>`,
  ]);
  return `<section id="failures"><h2>Failures by code</h2>${table(['Code', 'Devices', 'Phase', 'Which'], rows, [1])}</section>`;
}

function auditSection(data: ReportData): string {
  const rows = data.audit.map((a) => [
    escapeHtml(a.seq),
    `<span class="nowrap">${escapeHtml(iso(a.at))}</span>`,
    a.kind.endsWith('-refused') ? `<span class="err">${escapeHtml(a.kind)}</span>` : escapeHtml(a.kind),
    escapeHtml(a.by ?? ''),
    escapeHtml(a.reason ?? ''),
    escapeHtml(a.wave ?? ''),
    escapeHtml(a.smartAgId ?? ''),
    escapeHtml(detailText(a)),
  ]);
  return `<section id="audit"><h2>Audit log (${data.audit.length})</h2>${table(['#', 'Time', 'Kind', 'By', 'Reason', 'Wave', 'SmartAGId', 'Detail'], rows, [0])}</section>`;
}

function callsSection(data: ReportData): string {
  let calls: ReportCall[] = data.calls;
  let note = '';
  if (calls.length > HTML_CALL_LIMIT) {
    calls = calls.filter((c) => c.action === 'UpdateSmartAccessGatewayVersion' || c.code);
    note = `<p class="mut">${data.calls.length} calls in all; this page lists the ${calls.length} upgrade calls and failed calls. The JSON Lines and CSV reports list every call.</p>`;
  }
  const rows = calls.map((c) => [
    `<span class="nowrap mono">${escapeHtml(isoMs(c.t))}</span>`,
    escapeHtml(c.action),
    `<span class="mono">${escapeHtml(c.smartAgId ?? '')}</span>`,
    `<span class="mono">${escapeHtml(c.serialNumber ?? '')}</span>`,
    `<span class="mono">${escapeHtml(c.requestId ?? '')}</span>`,
    c.code
      ? `<span class="err">${escapeHtml(c.code)}${c.httpStatus ? ` (HTTP ${escapeHtml(c.httpStatus)})` : ''}</span>`
      : 'OK',
    escapeHtml(c.ms),
  ]);
  return `<section id="calls"><h2>API calls (${data.calls.length})</h2>${note}${table(['Time (UTC)', 'Action', 'SmartAGId', 'Serial number', 'RequestId', 'Result', 'ms'], rows, [6])}</section>`;
}

/**
 * One self-contained HTML page: inline CSS, no scripts, no external assets. Sections: summary,
 * plan and policy, timeline of waves and gates, devices, failures by code, audit log, API calls.
 * Every text is escaped.
 */
export function renderHtml(data: ReportData): string {
  const p = data.progress;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`Rollout ${data.rolloutId} — ${p.targetVersion}`)}</title>
<style>${CSS}</style></head>
<body>
<header><h1>Rollout ${escapeHtml(data.rolloutId)} ${badge(`s-${p.state}`, p.state)}</h1>
<div class="sub">Smart Access Gateway ${escapeHtml(p.versionType === 'Dpi' ? 'DPI signature database' : 'firmware')} to ${escapeHtml(p.targetVersion)} · started by ${escapeHtml(p.operator)}${p.ticket ? ` · ticket ${escapeHtml(p.ticket)}` : ''} · workflow <span class="mono">${escapeHtml(data.workflowId)}</span></div></header>
<main>
${summarySection(data)}
${policySection(data)}
${timelineSection(data)}
${devicesSection(data)}
${failuresSection(data)}
${auditSection(data)}
${callsSection(data)}
<footer>Generated ${escapeHtml(iso(data.generatedAt))} by sag-rollout from the rollout's Temporal histories. Times are UTC.</footer>
</main></body></html>
`;
}

/**
 * Renders a report. `csv` is the per-device table (see {@link renderCallsCsv} for the calls,
 * which {@link writeReportFiles} writes as a second file).
 */
export function renderReport(data: ReportData, format: ReportFormat): string {
  switch (format) {
    case 'jsonl':
      return renderJsonl(data);
    case 'csv':
      return renderDevicesCsv(data);
    case 'html':
      return renderHtml(data);
  }
}
