import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { rolloutStep } from '../activity-options';
import { needsApproval } from '../../domain/commands';
import { pendingStatus, retryable, retryPrior } from '../../domain/device-status';
import { nextSlice, partName, retryPartName, splitParts, type PlannedWave } from '../../domain/plan';
import type { PriorRecord, RolloutInput } from '../../domain/types';
import { closedWaveState } from '../../domain/wave-state';
import { compensateFailed } from './compensation';
import { recheckFailed, recheckInput, recheckUnhealthy, waveQueryCheck } from './health';
import { notify, notifyClosing } from './notifications';
import { pausedGate } from './gates';
import { runOverlapped } from './overlap';
import { runPart } from './parts';
import type { Rollout, RolloutResult } from './state';

/**
 * Continue-as-new carries the input and the whole state in one payload, which the server refuses
 * over 2 MiB (PayloadsTooLarge, and the workflow task fails for ever). Above this size the run
 * goes on instead and its history grows past the 4 MiB suggestion: a 10,000-device rollout ends
 * near 6 MB, under the 10 MiB warning.
 */
const CARRY_LIMIT_BYTES = 1536 * 1024;

/**
 * The rollout from where its state stands to its close: each wave after its approval gate, in
 * slices of at most `maxPartSize` devices with operators' retries after each, then its bake and
 * health re-check; after the last wave (or an abort) the compensation of failed devices, the
 * closing events and the report.
 *
 * One function on purpose: every await of the run is here or in a function it awaits, in the
 * order the workflow's history records, so a history replays through it command for command.
 */
export async function runWaves(r: Rollout, bakeMs: number): Promise<RolloutResult> {
  const { st, policy, input } = r;
  for (; st.currentWave < st.plan.length && !st.aborted; st.currentWave++, st.currentPart = 0) {
    const w = st.plan[st.currentWave]!;
    if (needsApproval(w.index, policy.approval) && !st.approvals[String(w.index)]) {
      r.audit('gate-waiting', { wave: w.index });
      await gateWait(r, 'approval', w.index);
      if (st.aborted) break;
    }
    waveStarted(r, w);
    // Each pass runs the next slice of the wave's still-pending devices, so a run that continued
    // as new picks up exactly where the previous one stopped. `currentPart` counts parts for names.
    const single = w.devices.length <= policy.maxPartSize;
    if (policy.overlapParts) {
      // The wave's parts overlap: continue-as-new only once all of them ended.
      await runOverlapped(r, w, single);
      await runRetries(r, w.index);
      if (!st.aborted) await continueIfSuggested(r);
    } else
      for (;;) {
        await pausedGate(r);
        if (st.aborted) break;
        const slice = nextSlice(st.devices, w.devices, policy.maxPartSize);
        if (!slice) break;
        st.currentPart++;
        await runPart(r, w.index, partName(w.index, st.currentPart, single), slice, w.name === 'canary');
        await runRetries(r, w.index);
        // A part that returns with devices still pending was aborted; never loop on it.
        if (slice.every((id) => st.devices[id]?.outcome === 'pending')) break;
        await continueIfSuggested(r);
      }
    if (st.aborted) break;
    if (bakeMs > 0 && w.index < st.plan.length - 1)
      await gateWait(r, 'bake', w.index, startBake(r, w, bakeMs));
    if (policy.healthRecheck && !st.aborted) {
      const upgraded = w.devices.filter((id) => st.devices[id]?.outcome === 'upgraded');
      let recheck: Awaited<ReturnType<typeof rolloutStep.recheckHealth>> | undefined;
      if (upgraded.length > 0) {
        try {
          recheck = await rolloutStep.recheckHealth(recheckInput(r, upgraded));
        } catch (err) {
          recheckFailed(r, w.index, err);
        }
      }
      if (recheck && recheck.unhealthy.length > 0) recheckUnhealthy(r, w, recheck.unhealthy);
    }
    // The operator's own measure of the wave (absent from rollouts started before it existed).
    if (policy.health?.waveQuery && !st.aborted && patched('wave-query')) await waveQueryCheck(r, w);
    waveDone(r, w);
    await pausedGate(r);
  }

  await runRetries(r, st.currentWave - 1);
  // An abort compensates every failed device so far, whatever state the rollout was in.
  if (st.aborted && st.abortCompensate && patched('abort-compensates-all')) {
    r.setState('aborting');
    await compensateFailed(r);
  }
  st.finishedAt = Date.now();
  const closing = st.aborted ? 'aborted' : 'completed';
  // Waves cut short by the abort, and those it never reached, say so (no command changes).
  for (const w of st.waves) w.state = closedWaveState(w.state, closing);
  r.setState(closing);
  r.audit(st.aborted ? 'aborted' : 'completed');
  await notifyClosing(r, st.aborted ? 'aborted' : 'completed', { devices: Object.keys(st.devices).length });
  let reportFiles: string[] | undefined;
  try {
    reportFiles = (await rolloutStep.exportReport({ rolloutId: input.rolloutId, workflowId: r.workflowId }))
      .files;
  } catch {
    r.audit('report-export-failed');
  }
  await condition(allHandlersFinished);
  return r.result(reportFiles);
}

function waveStarted(r: Rollout, w: PlannedWave): void {
  const ws = r.st.waves[w.index]!;
  ws.state = 'running';
  ws.startedAt ??= Date.now();
}

/** Continues as new when Temporal suggests it and the state fits one payload (see `CARRY_LIMIT_BYTES`). */
async function continueIfSuggested(r: Rollout): Promise<void> {
  if (!workflowInfo().continueAsNewSuggested || JSON.stringify(r.continuation()).length >= CARRY_LIMIT_BYTES)
    return;
  await condition(allHandlersFinished);
  await continueAsNew<(input: RolloutInput) => Promise<RolloutResult>>(r.continuation());
}

/** The wave bakes until the instant returned. */
function startBake(r: Rollout, w: PlannedWave, bakeMs: number): number {
  const ws = r.st.waves[w.index]!;
  ws.state = 'baking';
  ws.bakeUntil = Date.now() + bakeMs;
  return ws.bakeUntil;
}

function waveDone(r: Rollout, w: PlannedWave): void {
  const ws = r.st.waves[w.index]!;
  ws.state = 'done';
  ws.finishedAt = Date.now();
  r.audit('wave-done', { wave: w.index });
  notify(r, 'wave-done', { wave: w.index, name: w.name });
}

/**
 * Waits at a gate before `wave`: for an operator's approval, or for the bake to end (`until`) or
 * be promoted past; an abort ends either wait.
 */
async function gateWait(r: Rollout, kind: 'approval' | 'bake', wave: number, until?: number): Promise<void> {
  const { st } = r;
  st.gate = { kind, wave, until };
  if (kind === 'approval') {
    r.setState('waiting-approval');
    notify(r, 'gate-waiting', { wave, name: st.plan[wave]?.name });
    await condition(() => st.approvals[String(wave)] !== undefined || st.aborted);
  } else {
    await condition(
      () => st.promoted[String(wave)] === true || st.aborted,
      Math.max(1, (until ?? 0) - Date.now()),
    );
  }
  st.gate = undefined;
  if (!st.aborted && !st.paused) r.setState('running');
}

/**
 * Runs the devices an operator's `retry-failed` queued, in parts of their own within `wave`; what
 * their failed runs left open goes to the next run.
 */
async function runRetries(r: Rollout, wave: number): Promise<void> {
  const { st } = r;
  while (st.retryQueue.length > 0 && !st.aborted) {
    const ids = st.retryQueue.splice(0, st.retryQueue.length);
    const priors = resetForRetry(r, ids);
    st.retryRuns += 1;
    for (const [k, chunk] of splitParts(ids, r.policy.maxPartSize).entries()) {
      await pausedGate(r);
      if (st.aborted) break;
      await runPart(r, wave, retryPartName(st.retryRuns, k), chunk, false, { priors, operatorRetry: true });
    }
  }
}

/**
 * Puts the failed devices among `ids` back to pending; returns what their runs left open (an
 * upgrade that may still be in progress is watched, not sent again).
 */
function resetForRetry(r: Rollout, ids: string[]): Record<string, PriorRecord> {
  const { st } = r;
  const priors: Record<string, PriorRecord> = {};
  for (const id of ids) {
    const d = st.devices[id];
    if (!d || !retryable(d)) continue;
    const prior = retryPrior(d);
    if (prior) priors[id] = prior;
    st.devices[id] = pendingStatus(d);
  }
  return priors;
}
