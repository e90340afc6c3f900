import { ParentClosePolicy, WorkflowIdReusePolicy, executeChild, patched } from '@temporalio/workflow';
import { durationMs } from '../durations';
import type { PartHalted } from '../messages';
import { wavePartWorkflow, type WavePartInput, type WavePartResult } from '../part';
import { SA_ROLLOUT_ID } from '../search-attributes';
import { budgetPace, withReads } from '../../domain/api-budget';
import { addCounts, budgetRules, emptyBudget } from '../../domain/budget';
import { mergePartDevice } from '../../domain/device-status';
import { rolloutChildId } from '../../domain/ids';
import { releaseStep } from '../../domain/overlap';
import type { InventoryDevice, PriorRecord } from '../../domain/types';
import { sendToPart } from './forward';
import { notify } from './notifications';
import { absorb, addShare, endShare } from './shares';
import type { Rollout } from './state';

/**
 * The options of a rollout's part (a wave's slice or a compensation): abandoned on close, so an
 * abort never terminates devices in flight, and found by the rollout's search attribute.
 */
export function partChildOptions(r: Rollout, workflowId: string) {
  return {
    workflowId,
    taskQueue: r.input.taskQueue,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: [{ key: SA_ROLLOUT_ID, value: r.input.rolloutId }],
  };
}

/** How a part runs beside others: `slots` it starts with when the wave's parts overlap. */
export interface PartRun {
  priors?: Record<string, PriorRecord>;
  operatorRetry?: boolean;
  slots?: number;
}

/**
 * Runs `ids` (those still pending) as the part `name` of `wave` and merges what it reports: its
 * devices, its failure count, and an abort when the part closed without a result or aborted itself.
 * Returns the part's result, or nothing when no device was pending or the part closed without one.
 * With `run.slots` it runs beside the wave's other parts (see shares.ts).
 */
export async function runPart(
  r: Rollout,
  wave: number,
  name: string,
  ids: string[],
  zeroTolerance: boolean,
  run: PartRun = {},
): Promise<WavePartResult | undefined> {
  const { st } = r;
  const devices = ids
    .map((id) => r.inventoryById[id]!)
    .filter((d) => st.devices[d.smartAgId]?.outcome === 'pending');
  if (devices.length === 0) return undefined;
  const workflowId = rolloutChildId(r.input.rolloutId, name);
  r.activePart = workflowId;
  if (run.slots !== undefined) addShare(r, workflowId, run.slots);
  for (const d of devices) st.devices[d.smartAgId]!.outcome = 'in-progress';
  const result = await executeChild(wavePartWorkflow, {
    // The rollout decides about its parts: a part that closed without a result is handled below.
    ...partChildOptions(r, workflowId),
    args: [partInput(r, wave, devices, zeroTolerance, run)],
  }).catch((err: unknown) => partFailed(r, wave, name, workflowId, devices, err));
  if (run.slots !== undefined) {
    if (result) recordPart(r, wave, name, workflowId, result);
    endShare(r, workflowId);
    return result;
  }
  r.activePart = undefined;
  if (!result) return undefined;
  recordPart(r, wave, name, workflowId, result);
  return result;
}

function partInput(
  r: Rollout,
  wave: number,
  devices: InventoryDevice[],
  zeroTolerance: boolean,
  run: PartRun,
): WavePartInput {
  const { st, policy, input } = r;
  const { priors, operatorRetry, slots } = run;
  const pace = budgetPace(st.pace, policy.apiBudget);
  return {
    rolloutId: input.rolloutId,
    parentWorkflowId: r.workflowId,
    wave,
    part: st.currentPart,
    devices,
    // A policy without an API budget passes both through unchanged, as before the budget existed.
    devicePolicy: withReads(r.devicePolicy, policy.apiBudget, input.rolloutId),
    pace: slots !== undefined ? { ...pace, concurrency: slots } : pace,
    caps: policy.caps,
    budget: {
      ...budgetRules(policy.failureBudget, zeroTolerance),
      failedBefore: st.budget.failed,
      finishedBefore: st.budget.finished,
      consecutiveBefore: st.budget.consecutive,
      ...(slots !== undefined ? { epoch: st.budgetEpoch ?? 0 } : {}),
    },
    expectedUpgradeMs: durationMs(policy.expectedUpgradeTime, 15 * 60_000),
    offlineRetryDelayMs: durationMs(policy.offlineRetryDelay, 10 * 60_000),
    maxDeferrals: r.maxDeferrals,
    windows: policy.windows,
    freezes: policy.freezes,
    deadline: policy.deadline ? Date.parse(policy.deadline) : undefined,
    paused: st.paused,
    ...(st.aborted ? { aborted: { compensate: st.abortCompensate } } : {}),
    ...(priors && Object.keys(priors).length > 0 ? { priors } : {}),
    ...(operatorRetry ? { operatorRetry } : {}),
    ...(slots !== undefined ? { overlap: { step: releaseStep(st.pace.concurrency) } } : {}),
    excluded: Object.values(st.devices)
      .filter((d) => d.outcome === 'excluded')
      .map((d) => d.smartAgId),
    taskQueue: input.taskQueue,
  };
}

/**
 * The part was terminated or failed (someone acted on it directly): its devices say so, and the
 * rollout aborts, compensating what failed so far.
 */
function partFailed(
  r: Rollout,
  wave: number,
  name: string,
  workflowId: string,
  devices: InventoryDevice[],
  err: unknown,
): undefined {
  if (!patched('part-failure-aborts')) throw err;
  for (const d of devices) {
    const s = r.st.devices[d.smartAgId]!;
    if (s.outcome !== 'in-progress') continue;
    s.outcome = 'failed';
    s.errorCode = 'PartFailed';
    s.message = `${workflowId} closed without a result: ${err instanceof Error ? err.message : String(err)}`;
  }
  r.audit('part-failed', {
    wave,
    reason: err instanceof Error ? err.message : String(err),
    detail: { part: name },
  });
  r.abortWithCompensation();
  r.setState('aborting');
  return undefined;
}

/** Merges a part's result: an abort of its own, its devices, its failure count. */
function recordPart(
  r: Rollout,
  wave: number,
  name: string,
  workflowId: string,
  result: WavePartResult,
): void {
  const { st } = r;
  // A part cancelled on its own aborted itself: the rollout aborts with it.
  if (result.aborted && !st.aborted && patched('part-abort-aborts')) {
    r.audit('abort', { by: 'temporal', reason: `${workflowId} was cancelled`, detail: { part: name } });
    r.abortWithCompensation();
    r.setState('aborting');
  }
  for (const d of result.devices) st.devices[d.smartAgId] = mergePartDevice(st.devices[d.smartAgId], d, wave);
  // An exclusion handed to this part that it returns still pending (the signal came too late).
  for (const [id, reason] of Object.entries(st.excludeAsked ?? {})) {
    const d = st.devices[id];
    if (d?.outcome !== 'pending') continue;
    d.outcome = 'excluded';
    d.message = reason;
  }
  st.excludeAsked = r.shares.size > 1 ? othersAsked(st.excludeAsked, result) : undefined;
  const share = r.shares.get(workflowId);
  if (share) {
    // Overlapping parts: the part's own count joins the others'.
    const own = { failed: result.failed, finished: result.finished, consecutive: result.consecutive };
    absorb(r, share, own, result.epoch ?? 0);
  } else if (result.budget) {
    // The part's own count, the one its halt decisions evaluated (a resume after a breach started
    // it afresh, as it did the rollout's).
    st.budget = { ...result.budget };
  } else if (result.halted && patched('budget-after-part-halt') && !result.halted.credentials) {
    // The part started its count afresh when it was resumed, as the rollout did.
    st.budget = { failed: result.failed, finished: result.finished, consecutive: result.consecutive };
  } else {
    st.budget = result.halted ? emptyBudget() : addCounts(st.budget, result);
  }
  r.audit('part-done', {
    wave,
    detail: {
      part: name,
      failed: result.failed,
      finished: result.finished,
      halted: result.halted?.reason ?? null,
    },
  });
}

/** The exclusions asked of parts other than the one that returned `result`. */
function othersAsked(
  asked: Record<string, string | undefined> | undefined,
  result: WavePartResult,
): Record<string, string | undefined> | undefined {
  if (!asked) return undefined;
  const mine = new Set(result.devices.map((d) => d.smartAgId));
  const rest = Object.entries(asked).filter(([id]) => !mine.has(id));
  return rest.length > 0 ? Object.fromEntries(rest) : undefined;
}

/**
 * A part halted (failure budget, or credentials that failed): its devices as it shows them, an
 * audit entry, then a pause for the operator, or an abort with compensation when the policy says
 * so for a breach.
 */
export function onPartHalted(r: Rollout, h: PartHalted): void {
  const { st, policy } = r;
  const share = h.workflowId ? r.shares.get(h.workflowId) : undefined;
  // Overlapping parts: a halt on the budget stays one while others halt (on credentials) before
  // the resume, so the resume starts the budget afresh.
  const breachBefore = share !== undefined && st.haltReason !== undefined && st.haltBudget === true;
  if (h.workflowId) r.halting.delete(h.workflowId);
  st.haltReason = h.reason;
  // Credentials or permissions that failed are no budget breach: the operator fixes them and resumes.
  if (!h.credentials) st.breaches = (st.breaches ?? 0) + 1;
  st.haltCredentials = h.credentials === true && !breachBefore ? true : undefined;
  st.haltBudget = h.credentials !== true || breachBefore;
  if (share) {
    // Overlapping parts: the halted part's own count joins the others'; the count that decided
    // the halt is shown beside its reason.
    if (h.own) {
      const { epoch, ...own } = h.own;
      absorb(r, share, own, epoch);
    }
    if (h.budget) st.haltCount = { ...h.budget };
  } else if (h.budget) {
    // The figure shown beside the reason is the count that decided it.
    st.budget = { ...h.budget };
  }
  for (const d of h.devices) {
    if (st.devices[d.smartAgId]?.outcome === 'excluded') continue;
    // A running overlapping part's devices not started yet stay its own, never another part's.
    if (share && d.outcome === 'pending') continue;
    st.devices[d.smartAgId] = { ...d, wave: st.devices[d.smartAgId]?.wave ?? h.wave };
  }
  r.audit('halted', {
    wave: h.wave,
    reason: h.reason,
    detail: { code: h.code ?? null, part: h.part, ...(h.credentials ? { credentials: true } : {}) },
  });
  if (policy.failureBudget.onBreach === 'abort' && !h.credentials) {
    r.abortWithCompensation();
    if (patched('aborting-state')) r.setState('aborting');
    sendToPart(r, { kind: 'abort', compensate: true });
  } else {
    r.pauseForOperator();
    // Overlapping parts: the others start nothing more either.
    if (r.shares.size > 1) sendToPart(r, { kind: 'pause', forHalt: true });
  }
  notify(r, 'halted', {
    reason: h.reason,
    wave: h.wave,
    name: st.plan[h.wave]?.name,
    ...(h.budget ? { budgetFailed: h.budget.failed, budgetFinished: h.budget.finished } : {}),
  });
}
