/**
 * The demo rollout of `dev --demo`: canary, an approval given after a short pause (Enter approves
 * at once on a terminal), growing waves, the budget breach in wave 2 with its compensated batch, a
 * resume after showing it, then the summary, the report files and the Temporal UI address.
 */

import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { RolloutResult } from '../../workflows/rollout';
import { sendControl } from '../operator/control';
import { rolloutWorkflowId } from '../operator/ids';
import { startRollout } from '../operator/start';
import type { RolloutStatus } from '../operator/status';
import { buildDemoFleet, demoPolicy, inventoryOf } from './demo-fleet';
import { ExitCode, type ExitCodeValue } from './errors';
import { canPrompt, info, out } from './output';
import { renderRolloutText } from './render/rollout-text';
import { clock, formatSpan } from './render/table';
import { watchRollout } from './watch';

export interface DemoArgs {
  inventory: ReturnType<typeof inventoryOf>;
  taskQueue: string;
  uiUrl: string | undefined;
  namespace: string;
  pauseMs: number;
  design: ReturnType<typeof buildDemoFleet>['design'];
  startedAt: number;
  json: boolean;
}

/** Runs the demo rollout to its end. @returns 0 when it completed, 5 otherwise. */
export async function runDemo(client: Client, a: DemoArgs): Promise<ExitCodeValue> {
  const policy = demoPolicy();
  const rolloutId = `demo-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const live = Boolean(process.stdout.isTTY) && !a.json;
  const write = (t: string) => process.stdout.write(t);
  const r = await startRollout(client, {
    rolloutId,
    inventory: a.inventory,
    policy,
    operator: 'demo-operator',
    ticket: 'CHG-DEMO',
    taskQueue: a.taskQueue,
  });
  info(
    `demo: started rollout ${r.rolloutId}: ${r.devices} simulated devices to ${policy.targetVersion} in waves ${r.waves.map((w) => `${w.name} (${w.size})`).join(', ')}\n` +
      `demo: designed trouble: ${a.design.reverts.length} devices come back on the old version, ${a.design.linkDown.length} comes back on the target with its link down, one HA pair is split, ${a.design.offline.length} are offline, ${a.design.unbound.length} have no CCN`,
  );
  const pilot = new DemoPilot(client, rolloutId, a.pauseMs, live ? undefined : write);
  const final = await watchRollout(client, rolloutId, {
    intervalMs: 700,
    mode: a.json ? 'json' : live ? 'live' : 'lines',
    write,
    onStatus: (s) => pilot.onStatus(s),
    footer: () => pilot.footer(),
  });
  const result = (await client.workflow
    .getHandle(rolloutWorkflowId(rolloutId))
    .result()
    .catch(() => undefined)) as RolloutResult | undefined;
  const files = result?.reportFiles ?? [];
  const ui = a.uiUrl
    ? `${a.uiUrl}/namespaces/${a.namespace}/workflows/${encodeURIComponent(rolloutWorkflowId(rolloutId))}`
    : undefined;
  if (a.json) {
    out(
      JSON.stringify({
        rolloutId,
        state: final.state,
        counts: final.counts,
        reportFiles: files,
        temporalUi: ui,
      }),
    );
  } else {
    printSummary(final, { rolloutId, files, ui, startedAt: a.startedAt });
  }
  return final.state === 'completed' ? ExitCode.ok : ExitCode.halted;
}

function printSummary(
  final: RolloutStatus,
  o: { rolloutId: string; files: string[]; ui: string | undefined; startedAt: number },
): void {
  out(`\n${renderRolloutText(final)}\n`);
  out(`demo finished in ${formatSpan(Date.now() - o.startedAt)}: rollout ${o.rolloutId} ${final.state}`);
  const html = o.files.find((f) => f.endsWith('.html'));
  out(
    `report:      ${o.files.length ? o.files.map((f) => path.relative(process.cwd(), f)).join(', ') : '(not written)'}`,
  );
  if (html) out(`             open ${path.relative(process.cwd(), html)} in a browser`);
  out(`Temporal UI: ${o.ui ?? '(headless)'}`);
  out('             (the history stays in .data/: `npx sag-rollout dev` serves the UI again)');
}

/**
 * Acts on the demo rollout as an operator would: approves the canary's gate after a pause and
 * resumes after the budget breach once its batch is compensated. Its notes show under the live
 * view, or as lines of their own off a terminal.
 */
class DemoPilot {
  private readonly notes: string[] = [];
  private approving = false;
  private resuming = false;
  private latest: RolloutStatus | undefined;

  constructor(
    private readonly client: Client,
    private readonly rolloutId: string,
    private readonly pauseMs: number,
    /** Where notes go as lines when there is no live view. */
    private readonly lines: ((t: string) => void) | undefined,
  ) {}

  footer(): string[] {
    return this.notes.slice(-4);
  }

  onStatus(s: RolloutStatus): void {
    this.latest = s;
    // A gate is acted on once; a status read that started before the answer may still show it.
    if (s.state !== 'waiting-approval') this.approving = false;
    if (s.state !== 'paused') this.resuming = false;
    if (s.state === 'waiting-approval' && !this.approving) {
      this.approving = true;
      this.note(
        `the canary passed; approving wave-1 in ${Math.round(this.pauseMs / 1000)} s${canPrompt() ? ' (Enter approves now)' : ''}`,
      );
      this.act(() => this.approve());
    }
    if (s.state === 'paused' && s.haltReason && !this.resuming) {
      this.resuming = true;
      this.note(
        `halted: ${s.haltReason}; the failed batch is compensated; resuming in ${Math.round(this.pauseMs / 1000)} s`,
      );
      this.act(() => this.resume());
    }
  }

  private async approve(): Promise<void> {
    await waitOrEnter(this.pauseMs);
    const res = await sendControl(this.client, this.rolloutId, 'approve', {
      by: 'demo-approver',
      reason: 'demo: canary looks healthy',
    });
    this.note(`approve: ${res.result?.message ?? 'sent'}`);
  }

  private async resume(): Promise<void> {
    await new Promise((res) => setTimeout(res, this.pauseMs));
    // Resume once the halted part has compensated its batch, so the compensated devices show first.
    for (let i = 0; i < 60 && !this.compensated(); i++) {
      await new Promise((res) => setTimeout(res, 500));
    }
    const res = await sendControl(this.client, this.rolloutId, 'resume', {
      by: 'demo-operator',
      reason: 'demo: breach reviewed, compensation done',
    });
    this.note(`resume: ${res.result?.message ?? 'sent'}`);
  }

  private compensated(): boolean {
    const s = this.latest;
    return s?.part?.state === 'halted' && s.counts.compensated > 0 && s.counts['in-progress'] === 0;
  }

  private note(t: string): void {
    this.notes.push(`${clock()} ${t}`);
    this.lines?.(`${clock()} demo: ${t}\n`);
  }

  private act(what: () => Promise<void>): void {
    void what().catch((err: unknown) => {
      this.note(`control failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}

/** Waits `ms`, or less when the operator presses Enter on a terminal. */
function waitOrEnter(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      if (canPrompt()) {
        process.stdin.off('data', done);
        process.stdin.pause();
      }
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (canPrompt()) {
      process.stdin.on('data', done);
      process.stdin.resume();
    }
  });
}
