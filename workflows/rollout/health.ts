import { patched } from '@temporalio/workflow';
import { rolloutStep } from '../activity-options';
import { durationMs } from '../durations';
import { classify } from '../failures';
import {
  budgetRules,
  countRecheckFailures,
  evaluateBudget,
  shareBreachedBeforeRules,
} from '../../domain/budget';
import type { PlannedWave } from '../../domain/plan';
import { waveName } from './commands';
import { notify } from './notifications';
import type { Rollout } from './state';

type RecheckInput = Parameters<typeof rolloutStep.recheckHealth>[0];
type Unhealthy = Awaited<ReturnType<typeof rolloutStep.recheckHealth>>['unhealthy'];

/** The re-check of a wave's upgraded devices, each against the version it was taken to. */
export function recheckInput(r: Rollout, upgraded: string[]): RecheckInput {
  const { st, policy } = r;
  return {
    devices: upgraded.map((id) => ({
      smartAgId: id,
      regionId: st.devices[id]!.regionId,
      // Per-model targets differ: the version the device was taken to.
      targetVersion: st.devices[id]?.serials.find((s) => s.to)?.to ?? policy.targetVersion,
    })),
    versionType: policy.versionType,
  };
}

/**
 * A re-check that cannot run (Forbidden.RAM, credentials) must not fail the rollout: it halts and
 * says why, like any other rollout-class failure.
 */
export function recheckFailed(r: Rollout, wave: number, err: unknown): void {
  const { st, policy } = r;
  const f = classify(err, policy.errorOverrides);
  st.haltReason = `${f.code} in the health re-check after ${waveName(r, wave)}: ${f.policy.class === 'rollout' ? "the rollout's credentials or permissions are wrong" : f.message}`;
  r.audit('health-recheck-failed', { wave, reason: st.haltReason, detail: { code: f.code } });
  if (f.policy.class === 'rollout') st.haltCredentials = true;
  // A re-check that could not run breaches no budget (rollouts halted before this was recorded
  // keep the reading they had).
  if (patched('halt-budget-kind')) st.haltBudget = false;
  r.pauseForOperator();
  notify(r, 'halted', { reason: st.haltReason, wave });
}

/**
 * Devices that failed the re-check: each turns a success into a failure, in the same budget as
 * the wave's; a breach halts the rollout (or aborts it, when the policy says so).
 */
export function recheckUnhealthy(r: Rollout, w: PlannedWave, unhealthy: Unhealthy): void {
  const { st, policy } = r;
  for (const u of unhealthy) {
    const d = st.devices[u.smartAgId]!;
    d.outcome = 'failed';
    d.phase = 'verify';
    d.errorCode = 'HealthRecheckFailed';
    d.message = u.reason;
  }
  const fb = policy.failureBudget;
  const rules = budgetRules(fb, w.name === 'canary');
  const count = countRecheckFailures(st.budget, unhealthy.length);
  const last = unhealthy[unhealthy.length - 1]!;
  const verdict = evaluateBudget(count, rules, { smartAgId: last.smartAgId, code: 'HealthRecheckFailed' });
  // Before the canary's zero tolerance and the consecutive rule counted here, only the share did.
  const before = shareBreachedBeforeRules(st.budget, unhealthy.length, rules);
  const breached =
    verdict.breached === before || patched('recheck-by-budget-rules') ? verdict.breached : before;
  if (verdict.breached === before) st.budget.failed += unhealthy.length;
  else st.budget = count;
  r.audit('health-recheck-failed', { wave: w.index, detail: { devices: unhealthy.length } });
  if (!breached) return;
  st.haltReason = `health re-check after ${waveName(r, w.index)}: ${unhealthy.length} ${unhealthy.length === 1 ? 'device' : 'devices'} unhealthy${verdict.breached ? ` (${verdict.reason})` : ''}`;
  st.haltBudget = true;
  st.breaches = (st.breaches ?? 0) + 1;
  r.audit('halted', { wave: w.index, reason: st.haltReason, detail: { code: 'HealthRecheckFailed' } });
  if (fb.onBreach === 'abort' && patched('recheck-breach-aborts')) r.abortWithCompensation();
  else r.pauseForOperator();
  notify(r, 'halted', { reason: st.haltReason, wave: w.index });
}

/**
 * The policy's wave query after a wave's bake: its number held against the threshold. A breach,
 * or a query that gives no number, halts the rollout for an operator's decision.
 */
export async function waveQueryCheck(r: Rollout, w: PlannedWave): Promise<void> {
  const { st, policy } = r;
  const q = policy.health!.waveQuery!;
  const spec = {
    name: q.name,
    url: q.url,
    ...(q.jsonPath !== undefined ? { jsonPath: q.jsonPath } : {}),
    ...(q.max !== undefined ? { max: q.max } : {}),
    ...(q.min !== undefined ? { min: q.min } : {}),
    timeoutMs: durationMs(q.timeout, 10_000),
  };
  let why: string | undefined;
  try {
    const res = await rolloutStep.runWaveQuery({ spec });
    r.audit('wave-query', {
      wave: w.index,
      detail: {
        query: q.name,
        value: res.value ?? null,
        breach: res.breach ?? null,
        error: res.error ?? null,
      },
    });
    why = res.breach ?? (res.error !== undefined ? `${q.name} gave no number (${res.error})` : undefined);
  } catch (err) {
    why = `${q.name} could not be asked: ${classify(err, policy.errorOverrides).message}`;
  }
  if (why === undefined) return;
  const reason = `wave query after ${waveName(r, w.index)}: ${why}`;
  // Already halted by this wave (its health re-check): the query's breach joins that halt's reason
  // instead of replacing it, counting and announcing the halt twice.
  if (st.paused && st.haltReason && patched('wave-query-joins-halt')) {
    st.haltReason = `${st.haltReason}; ${reason}`;
    r.audit('wave-query-breached', { wave: w.index, reason });
    return;
  }
  st.haltReason = reason;
  // The operator's own measure, not the failure budget: the budget's count stands after a resume
  // (a rollout halted before this was recorded counted it a breach, and still does).
  if (patched('halt-budget-kind')) st.haltBudget = false;
  else st.breaches = (st.breaches ?? 0) + 1;
  r.audit('halted', { wave: w.index, reason: st.haltReason, detail: { code: 'WaveQueryBreached' } });
  r.pauseForOperator();
  notify(r, 'halted', { reason: st.haltReason, wave: w.index });
}
