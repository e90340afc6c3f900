import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  devicesQuery,
  partControlSignal,
  partHaltedSignal,
  partProgressQuery,
  partShareSignal,
} from '../messages';
import { takeWaiting, waiting } from '../../domain/schedule';
import { compensate } from './compensate';
import { nextStart, startDevice, Windows } from './scheduler';
import { PartState } from './state';
import type { WavePartInput, WavePartResult } from './types';

export type { PartBudget, WavePartInput, WavePartResult } from './types';
export { emptyCounts } from '../../domain/counts';

/**
 * Runs one slice of a wave (at most `maxPartSize` devices): a sliding window of device workflows
 * bounded by the rollout's concurrency, per-minute, per-region and per-group caps and the change
 * windows; offline devices go to the end of the slice; the failure budget is checked on every
 * result. On a breach it starts nothing more, lets upgrades in flight finish, compensates its own
 * devices and waits for the operator. It never continues-as-new, so it sees every child finish.
 */
export async function wavePartWorkflow(input: WavePartInput): Promise<WavePartResult> {
  // A cancellation of the part itself (from the Temporal UI or API) is an abort with compensation:
  // devices in flight finish, and the rollout learns of it from the result.
  const root = CancellationScope.current();
  return CancellationScope.nonCancellable(() => runPart(input, root));
}

async function runPart(input: WavePartInput, root: CancellationScope): Promise<WavePartResult> {
  const part = new PartState(input);
  setHandler(partControlSignal, (c) => part.control(c));
  setHandler(partProgressQuery, () => part.progress());
  root.cancelRequested.catch(() => {
    if (!patched('part-cancel-is-abort')) return;
    part.abortOnCancel();
  });
  setHandler(devicesQuery, (q) => part.devicesPage(q));
  const windows = new Windows(input);

  if (input.compensateOnly) {
    // Seeded from the rollout's record of each failed run; nothing is started.
    part.seedCompensation(input.compensateOnly);
    await compensate(part);
    part.state = 'done';
    return part.compensationResult();
  }

  for (;;) {
    const now = Date.now();
    if (input.overlap && part.halted && !part.haltAnnounced) announceHalt(part);
    if (part.aborted || part.halted) {
      if ((await stopOrResume(part)) === 'stop') break;
      continue;
    }
    if (part.paused) {
      part.state = 'paused';
      await condition(() => !part.paused || part.aborted);
      continue;
    }
    if (input.deadline !== undefined && now >= input.deadline) {
      for (const idx of takeWaiting(part.schedule)) {
        const s = part.statuses[idx]!;
        s.outcome = 'skipped';
        s.errorCode = 'DeadlinePassed';
      }
    }
    if (input.overlap) reportShare(part);
    if (waiting(part.schedule) === 0) {
      if (part.schedule.inFlight === 0) break;
      part.state = 'running';
      const seen = part.changes;
      await condition(() => part.changes !== seen);
      continue;
    }
    if (windows.windowed && now >= windows.until) await windows.refresh(now);
    const next = nextStart(part, windows, now);
    if (next.kind === 'start') {
      part.state = 'running';
      startDevice(part, next.idx, now);
      continue;
    }
    await waitForChange(part, windows, next.until, now);
  }
  part.state = 'done';
  return part.result();
}

/**
 * Nothing may start now: the wait for a change (a device finished, a control arrived), or until
 * `until` (a window opens, the per-minute cap frees up), never past the deadline. Not an async
 * function on purpose: the loop awaits the condition's own promise, so when a timer fires in the
 * same workflow task as a device's result, the order in which the loop and the result's handler
 * run (and so the order of the commands) does not depend on how the code is split into functions.
 */
function waitForChange(
  part: PartState,
  windows: Windows,
  until: number | undefined,
  now: number,
): Promise<unknown> {
  const { input } = part;
  const { inFlight } = part.schedule;
  const seen = part.changes;
  if (until !== undefined) {
    part.state = inFlight === 0 && windows.windowed ? 'waiting-window' : 'running';
    const end = input.deadline !== undefined ? Math.min(until, input.deadline) : until;
    return condition(() => part.changes !== seen, Math.max(1, end - now));
  }
  if (windows.windowed && inFlight === 0 && patched('part-wait-without-window')) {
    // No window opens within the computed horizon: wait for the deadline (which skips the rest)
    // or for the horizon to move on, instead of waiting for a change that never comes.
    part.state = 'waiting-window';
    const end = Math.min(windows.until, input.deadline ?? Number.POSITIVE_INFINITY);
    return condition(() => part.changes !== seen, Math.max(1, end - now));
  }
  return condition(() => part.changes !== seen);
}

/**
 * The part is aborted or halted: once the upgrades in flight finished, an aborted part settles and
 * compensates and stops; a halted one compensates (unless its credentials failed), tells the
 * rollout, and waits for a resume (it goes on) or an abort (it stops).
 */
async function stopOrResume(part: PartState): Promise<'stop' | 'go on'> {
  part.state = part.aborted ? 'draining' : 'halted';
  if (part.schedule.inFlight > 0) {
    await condition(() => part.schedule.inFlight === 0);
    return 'go on';
  }
  if (part.aborted) {
    part.settleInterrupted();
    if (part.compensateOnAbort) await compensate(part);
    return 'stop';
  }
  if (!part.resumed) {
    // Credentials that stopped working are no failure of the batch, and compensation could not
    // reach Alibaba with them anyway.
    if (!part.halted?.credentials) await compensate(part);
    part.state = 'halted';
    await reportHalt(part);
    await condition(() => part.resumed || part.aborted);
    if (part.aborted) {
      // Aborted while halted on credentials: the interrupted devices end here, compensated.
      if (part.halted?.credentials) {
        part.settleInterrupted();
        if (part.compensateOnAbort) await compensate(part);
      }
      return 'stop';
    }
  }
  part.resume();
  return 'go on';
}

/**
 * Overlapping parts: the slots this part no longer needs go back to the rollout for the wave's
 * next part, and the part's own budget count goes with them and after each failure, so the other
 * parts decide on it too.
 */
function reportShare(part: PartState): void {
  const released = part.releaseSpare() > 0;
  if (!released && !part.countsToReport()) return;
  sendShare(part, false);
}

/**
 * Overlapping parts: the part decided a halt. The rollout hears it at once, with the count, and
 * stops the other parts; the halt itself is reported once this part's devices in flight finished.
 */
function announceHalt(part: PartState): void {
  part.haltAnnounced = true;
  sendShare(part, true);
}

function sendShare(part: PartState, halting: boolean): void {
  const { epoch, ...own } = part.own();
  part.reported = { failed: own.failed, finished: own.finished };
  void getExternalWorkflowHandle(part.input.parentWorkflowId)
    .signal(partShareSignal, {
      workflowId: workflowInfo().workflowId,
      ...(part.draining ? { draining: true } : {}),
      ...(halting ? { halting: true } : {}),
      holds: part.pace.concurrency,
      own,
      epoch,
    })
    .catch(() => undefined);
}

/** Tells the rollout the part halted, once its in-flight devices finished and it compensated. */
async function reportHalt(part: PartState): Promise<void> {
  const { halted, input } = part;
  if (!halted) return;
  part.haltReported = true;
  await getExternalWorkflowHandle(input.parentWorkflowId)
    .signal(partHaltedSignal, {
      wave: input.wave,
      part: input.part,
      reason: halted.reason,
      code: halted.code,
      ...(halted.credentials ? { credentials: true } : {}),
      // Every device, pending ones too: the rollout shows what the part shows while it is halted.
      devices: part.statuses,
      // The count that decided the halt: the rollout shows this figure beside the reason.
      budget: part.shownBudget(),
      ...(input.overlap ? { workflowId: workflowInfo().workflowId, own: part.own() } : {}),
    })
    .catch(() => undefined);
}
