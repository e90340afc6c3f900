import { CancellationScope, getExternalWorkflowHandle, patched, sleep } from '@temporalio/workflow';
import { partControlSignal, type PartControl } from '../messages';
import type { Rollout } from './state';

/** The parts a control goes to: every running part with `overlapParts`, else the active one. */
function runningParts(r: Rollout): string[] {
  if (r.shares.size > 0) return [...r.shares.keys()];
  return r.activePart ? [r.activePart] : [];
}

function isRunning(r: Rollout, workflowId: string): boolean {
  return r.activePart === workflowId || r.shares.has(workflowId);
}

/** Sends `c` to the running parts (or to `only`), numbered by the rollout's control sequence. */
async function forward(r: Rollout, c: PartControl, only?: string[]): Promise<void> {
  const targets = only ?? runningParts(r);
  if (targets.length === 0) return;
  r.st.controlSeq += 1;
  const seq = r.st.controlSeq;
  if (targets.length === 1) return deliver(r, targets[0]!, c, seq);
  await Promise.all(targets.map((t) => deliver(r, t, c, seq)));
}

/**
 * A signal that does not arrive (the part's start is still under way) is sent again while that
 * part runs, so a pause or an abort is never lost; a part that starts after an abort is told so
 * in its input.
 */
async function deliver(r: Rollout, target: string, c: PartControl, seq: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await getExternalWorkflowHandle(target).signal(partControlSignal, { ...c, seq });
      return;
    } catch {
      if (!isRunning(r, target) || !patched('forward-until-delivered')) return;
      await sleep(Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
      if (!isRunning(r, target)) return;
    }
  }
}

/**
 * Forwards a control to the running parts (or to `only`) without awaiting it, in a scope of its
 * own: handlers run in the root scope, which a Temporal cancellation marks cancelled, and the
 * forwarding must outlive that.
 */
export function sendToPart(r: Rollout, c: PartControl, only?: string[]): void {
  CancellationScope.nonCancellable(() => forward(r, c, only)).catch(() => undefined);
}
