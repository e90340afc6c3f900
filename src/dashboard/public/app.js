// The dashboard's front end: preact + htm, bundled with esbuild into the page (no CDN).
import { render } from 'preact';
import { useEffect, useMemo, useState, useCallback } from 'preact/hooks';
import { html } from 'htm/preact';
import { deviceWorkflowId } from '../../../domain/ids';
import { wallText } from '../../windows/zone';

const config = JSON.parse(document.getElementById('dashboard-config').textContent);

const STATES = [
  'running',
  'paused',
  'waiting-approval',
  'waiting-window',
  'aborting',
  'completed',
  'aborted',
  'failed',
];
const OUTCOMES = [
  'upgraded',
  'skipped',
  'failed',
  'unconfirmed',
  'compensated',
  'excluded',
  'in-progress',
  'pending',
];
const CLOSED = ['completed', 'aborted', 'failed'];

const enc = encodeURIComponent;

function fmtTime(ms) {
  if (!ms) return '';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A change window's instant as the wall clock of the window's own time zone shows it, then in UTC
 * (`2026-11-30 02:00 Asia/Shanghai (2026-11-29 18:00Z)`); UTC alone when the zone is unknown.
 */
function fmtWindowTime(ms, zone) {
  if (!ms) return '';
  if (!zone || zone === 'UTC') return fmtTime(ms);
  return `${wallText(zone, ms)} ${zone} (${fmtTime(ms).replace(/:\d{2}Z$/, 'Z')})`;
}

function fmtAgo(ms) {
  if (!ms) return '';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function navigate(path) {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

function Link({ href, children, ...rest }) {
  const onClick = (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

function Badge({ kind, value }) {
  return html`<span class=${`badge ${kind}-${value}`}>${value}</span>`;
}

function OutcomeBar({ counts, total }) {
  const t = Math.max(1, total);
  return html`<div class="bar" role="img" aria-label=${OUTCOMES.filter((o) => counts[o])
    .map((o) => `${o} ${counts[o]}`)
    .join(', ')}>
    ${OUTCOMES.filter((o) => counts[o] > 0 && o !== 'pending').map(
      (o) =>
        html`<span class=${`o-${o}`} style=${`width:${((counts[o] / t) * 100).toFixed(2)}%`} title=${`${o}: ${counts[o]}`}></span>`,
    )}
  </div>`;
}

// ------------------------------------------------------------------ list

function ListPage() {
  const [state, setState] = useState('');
  const [target, setTarget] = useState('');
  const [rows, setRows] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let stop = false;
    let timer;
    const load = async () => {
      try {
        const r = await fetch(`/api/rollouts?state=${enc(state)}&target=${enc(target)}`);
        const body = await r.json();
        if (!r.ok) throw new Error(body.error || r.statusText);
        if (!stop) {
          setRows(body.rollouts);
          setError('');
        }
      } catch (e) {
        if (!stop) setError(String(e.message || e));
      }
      if (!stop) timer = setTimeout(load, 3000);
    };
    load();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [state, target]);
  return html`<main>
    <h1>Rollouts</h1>
    <div class="filters">
      <label>State <select value=${state} onChange=${(e) => setState(e.target.value)} name="state">
        <option value="">any</option>
        ${STATES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select></label>
      <label>Target version <input name="target" value=${target} placeholder="e.g. 2.4.0.0" onInput=${(e) => setTarget(e.target.value.trim())} /></label>
    </div>
    ${error && html`<p class="error">${error}</p>`}
    ${
      rows === null
        ? html`<p class="muted">Loading…</p>`
        : rows.length === 0
          ? html`<p class="muted">No rollout matches.</p>`
          : html`
      <table class="rollouts">
        <thead><tr><th>Rollout</th><th>State</th><th>Target</th><th>Started</th><th>Closed</th><th>Workflow</th></tr></thead>
        <tbody>${rows.map(
          (r) => html`<tr>
          <td><${Link} href=${`/rollouts/${enc(r.rolloutId)}`} class="mono">${r.rolloutId}<//></td>
          <td>${r.state ? html`<${Badge} kind="s" value=${r.state} />` : ''}</td>
          <td class="mono">${r.targetVersion || ''}</td>
          <td title=${fmtTime(r.startedAt)}>${fmtAgo(r.startedAt)}</td>
          <td>${r.closedAt ? fmtTime(r.closedAt) : ''}</td>
          <td class="muted">${r.status.toLowerCase()}</td>
        </tr>`,
        )}</tbody>
      </table>`
    }
  </main>`;
}

// ------------------------------------------------------------------ one rollout

function useRollout(id) {
  const [view, setView] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    const es = new EventSource(`/api/rollouts/${enc(id)}/events`);
    es.addEventListener('view', (e) => {
      setView(JSON.parse(e.data));
      setProblem(null);
    });
    es.addEventListener('problem', (e) => setProblem(JSON.parse(e.data)));
    return () => es.close();
  }, [id]);
  return { view, problem };
}

function Confirm({ ask, onClose }) {
  if (!ask) return null;
  const onKey = (e) => {
    if (e.key === 'Escape') onClose(false);
  };
  return html`<div class="modal-back" onKeyDown=${onKey}>
    <div class="modal" role="dialog" aria-modal="true" aria-labelledby="confirm-title">
      <h2 id="confirm-title">${ask.title}</h2>
      <p>${ask.body}</p>
      <div class="actions">
        <button class="secondary" onClick=${() => onClose(false)}>Cancel</button>
        <button class=${ask.danger ? 'danger' : 'primary'} data-confirm onClick=${() => onClose(true)} autofocus>${ask.verb}</button>
      </div>
    </div>
  </div>`;
}

function workflowLink(id) {
  if (!config.temporalUiUrl) return null;
  return `${config.temporalUiUrl}/namespaces/${enc(config.namespace)}/workflows/${enc(deviceWorkflowId(id))}`;
}

function DeviceDetail({ d, onExclude, canExclude }) {
  if (!d) return html`<p class="muted">Click a device for its phase, code and versions.</p>`;
  const link = workflowLink(d.smartAgId);
  return html`<div class="detail" data-device=${d.smartAgId}>
    <h3 class="mono">${d.smartAgId} <${Badge} kind="o" value=${d.outcome} /></h3>
    <dl>
      <dt>Region</dt><dd>${d.regionId}</dd>
      <dt>Wave</dt><dd>${d.wave}</dd>
      ${d.phase && html`<dt>Phase</dt><dd>${d.phase}</dd>`}
      ${d.errorCode && html`<dt>Code</dt><dd class="err mono">${d.errorCode}</dd>`}
      ${d.message && html`<dt>Message</dt><dd>${d.message}</dd>`}
      ${d.compensation && html`<dt>Compensation</dt><dd>${d.compensation}</dd>`}
      ${d.serials && d.serials.length > 0 && html`<dt>Versions</dt><dd>${d.serials.map((s) => html`<div class="mono">${s.serialNumber}: ${s.from || '?'} → ${s.to || '…'}</div>`)}</dd>`}
      ${d.requestIds && d.requestIds.length > 0 && html`<dt>RequestIds</dt><dd>${d.requestIds.map((r) => html`<div class="mono">${r}</div>`)}</dd>`}
    </dl>
    <div class="actions">
      ${link && html`<a href=${link} target="_blank" rel="noopener noreferrer">Device workflow in Temporal UI ↗</a>`}
      ${canExclude && d.outcome === 'pending' && html`<button class="secondary" onClick=${() => onExclude(d.smartAgId)}>Exclude this device…</button>`}
    </div>
  </div>`;
}

/** A wave as the table names it (`canary`, `wave-1`), not by its index. */
function waveName(s, i) {
  return s.waves?.[i]?.name ?? `wave ${i}`;
}

/** Where a pause holds the rollout: in a wave that has started, before one that has not, after one done. */
function pausedText(s, wave, detail) {
  const state = s.waves?.[wave]?.state;
  const where =
    !state || state === 'pending' || state === 'waiting-approval'
      ? 'before'
      : state === 'done'
        ? 'after'
        : 'in';
  return `Paused ${where} ${waveName(s, wave)}${detail ? `: ${detail}` : ''}`;
}

function gateText(s) {
  const g = s.gate;
  // The part running now waits for its devices' change window (the rollout itself has no gate).
  if (!g && s.state === 'waiting-window')
    return `Waiting for a change window${s.part?.nextWindowAt ? ` (opens ${fmtWindowTime(s.part.nextWindowAt, s.part.windowZone)})` : ''}`;
  // Paused inside a part: the part holds its devices, the rollout has no gate of its own.
  if (!g && s.state === 'paused') return pausedText(s, s.currentWave);
  if (!g) return null;
  switch (g.kind) {
    case 'approval':
      return `${waveName(s, g.wave)} waits for approval`;
    case 'bake':
      return `Baking ${waveName(s, g.wave)}${g.until ? ` until ${fmtTime(g.until)}` : ''}`;
    case 'window':
      return `Waiting for a change window${g.until ? ` (opens ${fmtWindowTime(g.until, s.part?.windowZone)})` : ''}`;
    case 'freeze':
      return `Change freeze${g.until ? ` until ${fmtWindowTime(g.until, s.part?.windowZone)}` : ''}`;
    case 'pause':
      // The rollout meets a pause between a wave's parts and after a wave, not only before one.
      return pausedText(s, g.wave, g.detail);
    default:
      return g.kind;
  }
}

function RolloutPage({ id }) {
  const { view, problem } = useRollout(id);
  const [selected, setSelected] = useState(null);
  // An operator the server authenticated (a token or a trusted proxy) is who commands record: the
  // page shows that name and offers no other.
  const signedIn = Boolean(config.identity);
  const [name, setName] = useState(() =>
    signedIn ? config.operator : localStorage.getItem('sag-operator') || config.operator || '',
  );
  const [reason, setReason] = useState('');
  const [ask, setAsk] = useState(null);
  const [toast, setToast] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!signedIn) localStorage.setItem('sag-operator', name);
  }, [name]);

  const s = view && view.status;
  const devicesById = useMemo(() => {
    const m = {};
    if (s) for (const d of s.devices) m[d.smartAgId] = d;
    return m;
  }, [s]);

  const send = useCallback(
    async (command, extra = {}) => {
      setBusy(true);
      try {
        const r = await fetch(`/api/rollouts/${enc(id)}/commands`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ command, by: name, reason: reason || undefined, ...extra }),
        });
        const body = await r.json();
        if (!r.ok) throw new Error(body.error || r.statusText);
        const res = body.result;
        setToast({
          ok: !res || res.accepted,
          text: res
            ? `${command}: ${res.message}${res.duplicate ? ' (duplicate)' : ''}`
            : `${command} sent as a signal; applied when a worker runs`,
        });
      } catch (e) {
        setToast({ ok: false, text: `${command} failed: ${e.message || e}` });
      } finally {
        setBusy(false);
      }
    },
    [id, name, reason],
  );

  const confirmThen = (title, body, verb, command, extra, danger = false) => {
    if (!name.trim()) {
      setToast({ ok: false, text: 'Enter your name first: every command records who sent it.' });
      return;
    }
    setAsk({ title, body, verb, danger, run: () => send(command, extra) });
  };
  const onClose = (yes) => {
    const a = ask;
    setAsk(null);
    if (yes && a) a.run();
  };

  if (!view) {
    return html`<main><p><${Link} href="/">← Rollouts<//></p><h1 class="mono">${id}</h1>
      ${problem ? html`<p class="error">${problem.message}</p>` : html`<p class="muted">Loading…</p>`}</main>`;
  }
  const closed = s.closed || CLOSED.includes(s.state);
  const fb = s.failureBudget;
  const gate = gateText(s);
  const budgetPct = Math.min(100, fb.percent);
  const detail = selected ? devicesById[selected] : null;
  const failedCount = s.counts.failed + s.counts.compensated;

  return html`<main>
    <p><${Link} href="/">← Rollouts<//></p>
    <div class="title">
      <h1 class="mono">${s.rolloutId}</h1>
      <${Badge} kind="s" value=${s.state} />
    </div>
    <p class="sub">${s.versionType === 'Dpi' ? 'DPI signatures' : 'Firmware'} to <strong class="mono">${s.targetVersion}</strong> · started by <strong>${s.operator}</strong>${s.ticket ? html` · ticket <strong>${s.ticket}</strong>` : ''} · ${fmtTime(s.startedAt)}${s.eta && !closed ? ` · ETA ${fmtTime(s.eta)}` : ''}</p>
    ${problem && html`<p class="error">${problem.message}</p>`}
    ${
      gate &&
      html`<div class=${`gate gate-${s.gate?.kind ?? 'window'}`} id="gate"><strong>${gate}</strong>
      ${s.gate?.kind === 'approval' && !closed && html` <button class="primary" disabled=${busy} onClick=${() => confirmThen('Approve ' + waveName(s, s.gate.wave), `Let ${waveName(s, s.gate.wave)} of rollout ${s.rolloutId} start, approved by ${name}?`, 'Approve', 'approve', { wave: s.gate.wave })}>Approve ${waveName(s, s.gate.wave)}…</button>`}
    </div>`
    }
    ${s.haltReason && html`<div class="gate gate-halt"><strong>Halted:</strong> ${s.haltReason}</div>`}
    ${s.window && !s.window.open && html`<div class="gate gate-window">Change window closed${s.window.nextOpensAt ? `; next opens ${fmtWindowTime(s.window.nextOpensAt, s.part?.windowZone)}` : ''}</div>`}

    <section class="cards">
      <div class="card"><div class="k">Devices</div><div class="v">${s.total}</div></div>
      ${OUTCOMES.map((o) => html`<div class="card"><div class="k"><span class=${`dot o-${o}`}></span>${o}</div><div class="v" data-count=${o}>${s.counts[o]}</div></div>`)}
      <div class="card budget"><div class="k">Failure budget</div>
        <div class="v">${fb.failed}/${fb.finished} · ${fb.percent.toFixed(1)}% <span class="muted">of ${fb.limitPercent}% (min ${fb.minFailures})</span></div>
        <div class="meter"><span class=${fb.breached ? 'over' : ''} style=${`width:${fb.limitPercent > 0 ? Math.min(100, (budgetPct / fb.limitPercent) * 100) : fb.failed > 0 ? 100 : 0}%`}></span></div>
      </div>
    </section>

    <section class="controls" aria-label="Operator controls">
      ${
        signedIn
          ? html`<p class="signed-in" id="signed-in">Signed in as <strong>${name}</strong> <span class="mono">(${config.identity})</span></p>`
          : html`<label>Your name <input name="by" value=${name} onInput=${(e) => setName(e.target.value)} /></label>`
      }
      <label class="grow">Reason <input name="reason" value=${reason} placeholder="why (recorded in the audit log)" onInput=${(e) => setReason(e.target.value)} /></label>
      <div class="buttons">
        <button disabled=${closed || busy || s.state === 'paused'} onClick=${() => confirmThen('Pause', `Pause rollout ${s.rolloutId}? No new device starts; upgrades in flight finish.`, 'Pause', 'pause')}>Pause…</button>
        <button disabled=${closed || busy || s.state !== 'paused'} onClick=${() => confirmThen('Resume', `Resume rollout ${s.rolloutId}?`, 'Resume', 'resume')}>Resume…</button>
        <button disabled=${closed || busy || !(s.gate && s.gate.kind === 'approval')} onClick=${() => confirmThen('Approve ' + (s.gate ? waveName(s, s.gate.wave) : 'wave'), `Let the waiting wave of rollout ${s.rolloutId} start, approved by ${name}?`, 'Approve', 'approve', { wave: s.gate ? s.gate.wave : undefined })}>Approve…</button>
        <button disabled=${closed || busy || failedCount === 0} onClick=${() => confirmThen('Retry failed devices', `Queue the ${failedCount} failed devices of rollout ${s.rolloutId} for another attempt?`, 'Retry', 'retry-failed')}>Retry failed…</button>
        <button class="danger" disabled=${closed || busy} onClick=${() => confirmThen('Abort', `Abort rollout ${s.rolloutId}? Upgrades in flight finish, the batch in flight is compensated; nothing more starts.`, 'Abort rollout', 'abort', {}, true)}>Abort…</button>
      </div>
    </section>
    ${toast && html`<p class=${toast.ok ? 'toast ok' : 'toast bad'} role="status" id="toast">${toast.text}</p>`}

    <section>
      <h2>Waves</h2>
      <table class="waves">
        <thead><tr><th>#</th><th>Wave</th><th>State</th><th class="wide">Progress</th><th>Done</th><th>Started</th><th>Finished</th></tr></thead>
        <tbody>${s.waves.map((w) => {
          const done =
            w.counts.upgraded + w.counts.skipped + w.counts.failed + w.counts.compensated + w.counts.excluded;
          return html`<tr data-wave=${w.index} class=${w.index === s.currentWave && !closed ? 'current' : ''}>
            <td>${w.index}</td><td>${w.name}</td><td><${Badge} kind="s" value=${w.state} /></td>
            <td class="wide"><${OutcomeBar} counts=${w.counts} total=${w.size} /></td>
            <td class="num" data-done>${done}/${w.size}</td>
            <td>${fmtTime(w.startedAt)}</td><td>${fmtTime(w.finishedAt)}${w.bakeUntil && !w.finishedAt ? ` (bake until ${fmtTime(w.bakeUntil)})` : ''}</td>
          </tr>`;
        })}</tbody>
      </table>
    </section>

    <section class="split">
      <div>
        <h2>Devices</h2>
        <div class="legend">${OUTCOMES.map((o) => html`<span><span class=${`dot o-${o}`}></span>${o}</span>`)}</div>
        <div class="grid" role="list">
          ${s.devices.map(
            (
              d,
            ) => html`<button role="listitem" class=${`cell o-${d.outcome}${selected === d.smartAgId ? ' sel' : ''}`}
            data-id=${d.smartAgId} data-outcome=${d.outcome}
            title=${`${d.smartAgId}: ${d.outcome}${d.phase ? ` · ${d.phase}` : ''}${d.errorCode ? ` · ${d.errorCode}` : ''}`}
            onClick=${() => setSelected(d.smartAgId)}></button>`,
          )}
        </div>
      </div>
      <div class="side">
        <h2>Device</h2>
        <${DeviceDetail} d=${detail} canExclude=${!closed}
          onExclude=${(sid) => confirmThen('Exclude device', `Exclude ${sid} from rollout ${s.rolloutId}? It will not be upgraded.`, 'Exclude', 'exclude', { smartAgIds: [sid] })} />
      </div>
    </section>

    <section>
      <h2>Audit log</h2>
      <table class="audit">
        <thead><tr><th>#</th><th>Time</th><th>Kind</th><th>By</th><th>Reason</th><th>Wave</th><th>Detail</th></tr></thead>
        <tbody>${[...view.audit].reverse().map(
          (a) => html`<tr data-kind=${a.kind}>
          <td>${a.seq}</td><td class="nowrap">${fmtTime(a.at)}</td>
          <td class=${a.kind.endsWith('-refused') ? 'err' : ''}>${a.kind}</td><td>${a.by || ''}</td><td>${a.reason || ''}</td><td>${a.wave ?? ''}</td>
          <td class="muted">${Object.entries(a.detail || {})
            .filter(([, v]) => v !== null && v !== '')
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}</td>
        </tr>`,
        )}</tbody>
      </table>
    </section>
    <${Confirm} ask=${ask} onClose=${onClose} />
  </main>`;
}

function App() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  const m = /^\/rollouts\/([^/]+)$/.exec(path);
  return html`<header class="top"><${Link} href="/" class="brand">sag-rollout<//><span class="muted">Smart Access Gateway fleet upgrades</span></header>
    ${m ? html`<${RolloutPage} id=${decodeURIComponent(m[1])} key=${m[1]} />` : html`<${ListPage} />`}`;
}

render(html`<${App} />`, document.getElementById('app'));
