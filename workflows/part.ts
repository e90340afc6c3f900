import {
  CancellationScope,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  patched,
  setHandler,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { rolloutStep } from './activity-options';
import { countDevice, evaluateBudget, type BudgetCount } from '../domain/budget';
import { deviceUpgradeWorkflow, deviceWorkflowId } from './device';
import { resolveCodePolicy } from '../domain/error-policy';
import {
  partControlSignal,
  partHaltedSignal,
  partProgressQuery,
  devicesQuery,
  type PartControl,
  type PartProgress,
  type DevicesPage,
} from './messages';
import { SA_ROLLOUT_ID, SA_SMART_AG_ID } from './search-attributes';
import type {
  ChangeWindow,
  DeviceStatus,
  DeviceUndo,
  DeviceUpgradePolicy,
  DeviceUpgradeResult,
  FreezePeriod,
  InventoryDevice,
  OutcomeCounts,
  PriorRecord,
  WindowInstant,
} from '../domain/types';

export interface PartBudget {
  limitPercent: number;
  minFailures: number;
  maxConsecutive: number;
  /** The canary tolerates no failure. */
  zeroTolerance: boolean;
  failedBefore: number;
  finishedBefore: number;
  consecutiveBefore: number;
}

export interface WavePartInput {
  rolloutId: string;
  parentWorkflowId: string;
  wave: number;
  part: number;
  devices: InventoryDevice[];
  devicePolicy: DeviceUpgradePolicy;
  pace: { concurrency: number; maxPerMinute?: number };
  caps?: { perRegion?: Record<string, number>; perGroup?: Record<string, number> };
  budget: PartBudget;
  expectedUpgradeMs: number;
  offlineRetryDelayMs: number;
  /** How often an offline device is put back at the end of the wave before it fails. */
  maxDeferrals: number;
  windows: ChangeWindow[];
  freezes: FreezePeriod[];
  /** No device starts after this instant (ms since epoch). */
  deadline?: number;
  paused: boolean;
  /** The rollout was aborted before this part started (a control signal could not reach it yet). */
  aborted?: { compensate: boolean };
  excluded: string[];
  taskQueue?: string;
  /**
   * Compensation only: nothing is started; these devices' failed runs are compensated (an abort
   * compensates the failed devices of every wave so far), keyed by SmartAGId.
   */
  compensateOnly?: Record<
    string,
    DeviceUndo & { serials: DeviceStatus['serials']; outcome: DeviceStatus['outcome'] }
  >;
  /** What earlier runs of these devices left open, by SmartAGId (a retry or a resume). */
  priors?: Record<string, PriorRecord>;
  /** The devices are retried at an operator's request (see `DeviceUpgradeInput.operatorRetry`). */
  operatorRetry?: boolean;
}

export interface WavePartResult {
  wave: number;
  part: number;
  devices: DeviceStatus[];
  halted?: { reason: string; code?: string; credentials?: boolean };
  aborted: boolean;
  failed: number;
  finished: number;
  consecutive: number;
}

const WINDOW_HORIZON_MS = 8 * 24 * 3600_000;

export function emptyCounts(): OutcomeCounts {
  return {
    pending: 0,
    'in-progress': 0,
    upgraded: 0,
    skipped: 0,
    failed: 0,
    excluded: 0,
    compensated: 0,
    unconfirmed: 0,
  };
}

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
  const { devices } = input;
  const pace = { ...input.pace };
  const statuses: DeviceStatus[] = devices.map((d) => ({
    smartAgId: d.smartAgId,
    regionId: d.regionId,
    wave: input.wave,
    outcome: input.excluded.includes(d.smartAgId) ? 'excluded' : 'pending',
    serials: [],
  }));
  const results: Record<string, DeviceUpgradeResult> = {};
  const queue: number[] = devices.map((_, i) => i).filter((i) => statuses[i]!.outcome === 'pending');
  const deferred: { idx: number; notBefore: number }[] = [];
  const deferrals: Record<string, number> = {};
  const regionInFlight: Record<string, number> = {};
  const groupInFlight: Record<string, number> = {};
  const recentStarts: number[] = [];
  let inFlight = 0;
  let started = 0;
  let changes = 0;
  let paused = input.paused;
  let aborted = input.aborted !== undefined;
  let compensateOnAbort = input.aborted?.compensate ?? true;
  let halted: WavePartResult['halted'];
  /** What interrupted or re-run devices' earlier runs left open, passed to their next run. */
  const priors: Record<string, PriorRecord> = { ...input.priors };
  let resumed = false;
  let failed = 0;
  let finished = 0;
  let consecutive = input.budget.consecutiveBefore;
  let budgetBase = { failed: input.budget.failedBefore, finished: input.budget.finishedBefore };
  let state: PartProgress['state'] = 'running';
  let nextWindowAt: number | undefined;
  const lastSeq = { value: -1 };

  setHandler(partControlSignal, (c) => {
    if (c.seq <= lastSeq.value) return;
    lastSeq.value = c.seq;
    apply(c);
    changes++;
  });
  setHandler(partProgressQuery, () => progress());
  root.cancelRequested.catch(() => {
    if (!patched('part-cancel-is-abort')) return;
    aborted = true;
    compensateOnAbort = true;
    changes++;
  });
  setHandler(devicesQuery, (q): DevicesPage => {
    const list = q.outcome ? statuses.filter((s) => s.outcome === q.outcome) : statuses;
    const offset = q.offset ?? 0;
    return { total: list.length, offset, devices: list.slice(offset, offset + (q.limit ?? 1000)) };
  });

  function apply(c: PartControl): void {
    switch (c.kind) {
      case 'pause':
        paused = true;
        break;
      case 'resume':
        paused = false;
        if (halted) resumed = true;
        break;
      case 'abort':
        aborted = true;
        compensateOnAbort = c.compensate;
        break;
      case 'exclude':
        for (const id of c.smartAgIds) {
          const idx = devices.findIndex((d) => d.smartAgId === id);
          if (idx < 0 || statuses[idx]!.outcome !== 'pending') continue;
          statuses[idx]!.outcome = 'excluded';
          removeFrom(queue, idx);
          const di = deferred.findIndex((x) => x.idx === idx);
          if (di >= 0) deferred.splice(di, 1);
        }
        break;
      case 'pace':
        if (c.concurrency) pace.concurrency = c.concurrency;
        if (c.maxPerMinute !== undefined) pace.maxPerMinute = c.maxPerMinute > 0 ? c.maxPerMinute : undefined;
        break;
    }
  }

  function progress(): PartProgress {
    const counts = emptyCounts();
    for (const s of statuses) counts[s.outcome]++;
    return {
      wave: input.wave,
      part: input.part,
      total: devices.length,
      started,
      inFlight,
      counts,
      state,
      nextWindowAt,
      failed,
      finished,
      consecutive,
    };
  }

  // Window instants come from an activity (time-zone rules live in the runtime's ICU data, which
  // changes with Node upgrades); recorded in history, replay never recomputes them.
  const windowed = input.windows.length > 0 || input.freezes.length > 0;
  let windowsUntil = 0;
  let profiles: Record<string, WindowInstant[]> = {};
  let profileOf: Record<string, string> = {};
  async function refreshWindows(now: number): Promise<void> {
    const r = await rolloutStep.computeWindows({
      windows: input.windows,
      freezes: input.freezes,
      fromMs: now,
      untilMs: now + WINDOW_HORIZON_MS,
      devices: devices.map((d) => ({
        smartAgId: d.smartAgId,
        regionId: d.regionId,
        group: d.group,
        tags: d.tags,
      })),
    });
    profiles = r.profiles;
    profileOf = r.deviceProfile;
    windowsUntil = now + WINDOW_HORIZON_MS / 2;
  }

  /** 0 when the device may start now, else the instant its window next opens with room enough. */
  function windowWait(idx: number, now: number): number {
    if (!windowed) return 0;
    const d = devices[idx]!;
    const needed = input.expectedUpgradeMs * ((d.serialNumbers?.length ?? 1) > 1 ? 2 : 1);
    const instants = profiles[profileOf[d.smartAgId] ?? ''] ?? [];
    for (const w of instants) {
      if (w.end - Math.max(now, w.start) < needed) continue;
      return w.start <= now ? 0 : w.start;
    }
    return Number.POSITIVE_INFINITY;
  }

  function pickNext(now: number): { idx?: number; waitUntil?: number } {
    while (deferred.length > 0 && deferred[0]!.notBefore <= now) queue.push(deferred.shift()!.idx);
    if (inFlight >= pace.concurrency) return {};
    while (recentStarts.length > 0 && recentStarts[0]! <= now - 60_000) recentStarts.shift();
    if (pace.maxPerMinute && recentStarts.length >= pace.maxPerMinute)
      return { waitUntil: recentStarts[0]! + 60_000 };
    let earliest = deferred[0]?.notBefore ?? Number.POSITIVE_INFINITY;
    for (const idx of queue) {
      const d = devices[idx]!;
      const regionCap = input.caps?.perRegion?.[d.regionId];
      if (regionCap !== undefined && (regionInFlight[d.regionId] ?? 0) >= regionCap) continue;
      const groupCap = d.group ? input.caps?.perGroup?.[d.group] : undefined;
      if (groupCap !== undefined && (groupInFlight[d.group!] ?? 0) >= groupCap) continue;
      const wait = windowWait(idx, now);
      if (wait === 0) return { idx };
      earliest = Math.min(earliest, wait);
    }
    nextWindowAt = Number.isFinite(earliest) ? earliest : undefined;
    return Number.isFinite(earliest) ? { waitUntil: earliest } : {};
  }

  function record(idx: number, r: DeviceUpgradeResult): void {
    const s = statuses[idx]!;
    results[s.smartAgId] = r;
    s.serials = r.serials;
    s.phase = r.phase;
    s.errorCode = r.errorCode;
    s.message = r.message;
    s.requestIds = r.requestIds.length > 0 ? r.requestIds : undefined;
    if (r.outcome === 'deferred') {
      deferrals[s.smartAgId] = (deferrals[s.smartAgId] ?? 0) + 1;
      if (deferrals[s.smartAgId]! <= input.maxDeferrals) {
        s.outcome = 'pending';
        deferred.push({ idx, notBefore: Date.now() + input.offlineRetryDelayMs });
        deferred.sort((a, b) => a.notBefore - b.notBefore);
        return;
      }
    }
    if (r.outcome === 'interrupted') {
      // The credentials or permissions failed, not the device: it goes back to the front of the
      // queue, counts nowhere, and its next run picks up what this one left open.
      s.outcome = 'pending';
      priors[s.smartAgId] = {
        openSends: r.openSends ?? [],
        ...(r.policiesRestored ? {} : { pinned: r.pinned }),
      };
      queue.unshift(idx);
      halt(
        `${r.errorCode ?? 'error'} on ${s.smartAgId}: the rollout's credentials or permissions are wrong`,
        r.errorCode,
        true,
      );
      return;
    }
    s.outcome =
      r.outcome === 'upgraded'
        ? 'upgraded'
        : r.outcome === 'skipped'
          ? 'skipped'
          : r.outcome === 'unconfirmed'
            ? 'unconfirmed'
            : 'failed';
    if (s.outcome === 'failed' || s.outcome === 'unconfirmed') {
      s.undo = {
        pinned: r.pinned,
        policiesRestored: r.policiesRestored,
        upgradeCalls: r.upgradeCalls,
        ...(r.openSends ? { openSends: r.openSends } : {}),
      };
    }
    if (s.outcome === 'upgraded') {
      finished++;
      consecutive = 0;
    } else if (s.outcome === 'failed' || s.outcome === 'unconfirmed') {
      finished++;
      failed++;
      consecutive++;
      if (
        r.errorClass === 'rollout' ||
        (r.errorCode && resolveCodePolicy(r.errorCode, input.devicePolicy.errorOverrides).action === 'halt')
      ) {
        halt(
          `${r.errorCode ?? 'error'} on ${s.smartAgId}: the rollout's credentials or permissions are wrong`,
          r.errorCode,
        );
        return;
      }
      checkBudget(s.smartAgId, r.errorCode);
    }
  }

  /**
   * When the rollout is aborted while devices wait to be inspected again after a credential halt:
   * each ends where its interrupted run left it, `unconfirmed` when an upgrade it sent may still be
   * in progress, else `failed` with the credential code, and keeps what compensation needs.
   */
  function settleInterrupted(): void {
    for (const [idx, s] of statuses.entries()) {
      const r = results[s.smartAgId];
      if (s.outcome !== 'pending' || r?.outcome !== 'interrupted') continue;
      removeFrom(queue, idx);
      const open = (r.openSends ?? []).some((o) => !o.reverted);
      s.outcome = open ? 'unconfirmed' : 'failed';
      s.errorCode = r.errorCode;
      s.message = `interrupted by ${r.errorCode ?? 'a credential failure'}; the rollout was aborted before it was inspected again`;
      s.undo = {
        pinned: r.pinned,
        policiesRestored: r.policiesRestored,
        upgradeCalls: r.upgradeCalls,
        ...(r.openSends ? { openSends: r.openSends } : {}),
      };
    }
  }

  function checkBudget(smartAgId: string, code: string | undefined): void {
    if (halted) return;
    const count: BudgetCount = {
      failed: budgetBase.failed + failed,
      finished: budgetBase.finished + finished,
      consecutive,
    };
    const verdict = evaluateBudget(
      count,
      { ...input.budget, zeroTolerance: input.budget.zeroTolerance },
      { smartAgId, code },
    );
    if (verdict.breached) halt(verdict.reason, code);
  }

  function halt(reason: string, code?: string, credentials?: boolean): void {
    if (halted) return;
    halted = credentials ? { reason, code, credentials } : { reason, code };
  }

  /** Tells the rollout the part halted, once its in-flight devices finished and it compensated. */
  async function reportHalt(): Promise<void> {
    if (!halted) return;
    await getExternalWorkflowHandle(input.parentWorkflowId)
      .signal(partHaltedSignal, {
        wave: input.wave,
        part: input.part,
        reason: halted.reason,
        code: halted.code,
        ...(halted.credentials ? { credentials: true } : {}),
        // Every device, pending ones too: the rollout shows what the part shows while it is halted.
        devices: statuses,
      })
      .catch(() => undefined);
  }

  /**
   * A device's workflow: its upgrade lock `upgrade/<SmartAGId>`, abandoned on parent close so that
   * closing the rollout (abort) never terminates a device mid-upgrade.
   */
  function deviceChildOptions(d: InventoryDevice) {
    return {
      workflowId: deviceWorkflowId(d.smartAgId),
      taskQueue: input.taskQueue,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: SA_ROLLOUT_ID, value: input.rolloutId },
        { key: SA_SMART_AG_ID, value: d.smartAgId },
      ],
    };
  }

  function start(idx: number, now: number): void {
    const d = devices[idx]!;
    removeFrom(queue, idx);
    inFlight++;
    started++;
    recentStarts.push(now);
    regionInFlight[d.regionId] = (regionInFlight[d.regionId] ?? 0) + 1;
    if (d.group) groupInFlight[d.group] = (groupInFlight[d.group] ?? 0) + 1;
    statuses[idx]!.outcome = 'in-progress';
    void executeChild(deviceUpgradeWorkflow, {
      ...deviceChildOptions(d),
      args: [
        {
          rolloutId: input.rolloutId,
          device: d,
          policy: input.devicePolicy,
          mode: 'upgrade',
          ...(priors[d.smartAgId] ? { prior: priors[d.smartAgId] } : {}),
          ...(input.operatorRetry ? { operatorRetry: true } : {}),
        },
      ],
    })
      .then(
        (r) => record(idx, r),
        (err: unknown) => {
          const s = statuses[idx]!;
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            // Another rollout holds this device's upgrade lock: report it, never touch it.
            s.outcome = 'skipped';
            s.errorCode = 'HeldByAnotherRollout';
            s.message = `${deviceWorkflowId(d.smartAgId)} is running for another rollout`;
          } else {
            s.outcome = 'failed';
            s.errorCode = 'DeviceWorkflowFailed';
            s.message = err instanceof Error ? err.message : String(err);
            const c = countDevice({ failed, finished, consecutive }, true);
            ({ failed, finished, consecutive } = c);
            checkBudget(d.smartAgId, s.errorCode);
          }
        },
      )
      .finally(() => {
        inFlight--;
        regionInFlight[d.regionId] = (regionInFlight[d.regionId] ?? 1) - 1;
        if (d.group) groupInFlight[d.group] = (groupInFlight[d.group] ?? 1) - 1;
        changes++;
      });
  }

  async function compensate(): Promise<void> {
    state = 'compensating';
    const targets = statuses
      .map((s, idx) => ({ s, idx, r: results[s.smartAgId] }))
      .filter(({ s, r }) => {
        // Compensated once already (a part halted twice): not again.
        if (!r || (s.compensation !== undefined && patched('compensate-once'))) return false;
        const failedRun =
          r.outcome === 'failed' || r.outcome === 'unconfirmed' || r.outcome === 'interrupted';
        if (
          failedRun &&
          (r.upgradeCalls > 0 || (!r.policiesRestored && r.pinned.some((p) => p.upgradeType !== 'manual')))
        )
          return true;
        return r.outcome === 'upgraded' && input.devicePolicy.requestPreviousVersion && !input.compensateOnly;
      });
    let active = 0;
    let next = 0;
    const pending: Promise<void>[] = [];
    while (next < targets.length || active > 0) {
      if (next < targets.length && active < Math.max(1, pace.concurrency)) {
        const { s, idx, r } = targets[next++]!;
        const d = devices[idx]!;
        active++;
        pending.push(
          executeChild(deviceUpgradeWorkflow, {
            ...deviceChildOptions(d),
            args: [
              {
                rolloutId: input.rolloutId,
                device: d,
                policy: input.devicePolicy,
                mode: 'compensate',
                previous: r,
              },
            ],
          })
            .then(
              (c) => {
                const rep = c.compensation;
                const notRev =
                  rep?.notReversible.map(
                    (n) => `not-reversible:${n.serialNumber}:${n.code}:${n.requestId ?? '-'}`,
                  ) ?? [];
                // What it did; a failure is said once, in front (`compensation-failed:<code>`).
                const did = [...(rep?.actions ?? []).filter((a) => !a.startsWith('failed:')), ...notRev].join(
                  ' ',
                );
                // A device whose compensation could not do its work keeps its outcome and says why.
                const failedWith =
                  rep?.failed?.code ?? (c.outcome === 'failed' ? (c.errorCode ?? 'Unknown') : undefined);
                if (failedWith !== undefined && patched('compensation-outcome')) {
                  s.compensation = `compensation-failed:${failedWith}${did ? ` ${did}` : ''}`;
                } else {
                  // An unconfirmed device stays so: its upgrade may still be in progress.
                  if (s.outcome !== 'unconfirmed') s.outcome = 'compensated';
                  s.compensation = did || 'nothing-to-undo';
                }
                // The original `from` stays; `to` is where compensation left each serial number.
                if (c.serials.length > 0)
                  s.serials = s.serials.map((sv) => ({
                    ...sv,
                    to: versionAfter(c, sv.serialNumber) ?? sv.to,
                  }));
                s.requestIds = [...(s.requestIds ?? []), ...c.requestIds];
                results[s.smartAgId] = { ...r!, compensation: c.compensation };
              },
              (err: unknown) => {
                const code =
                  err instanceof WorkflowExecutionAlreadyStartedError
                    ? 'HeldByAnotherRollout'
                    : 'DeviceWorkflowFailed';
                s.compensation = `compensation-failed:${code}`;
                s.message = err instanceof Error ? err.message : String(err);
              },
            )
            .finally(() => {
              active--;
              changes++;
            }),
        );
        continue;
      }
      const seen = changes;
      await condition(() => changes !== seen);
    }
    await Promise.all(pending);
  }

  if (input.compensateOnly) {
    // Seeded from the rollout's record of each failed run; nothing is started.
    for (const [idx, d] of devices.entries()) {
      const u = input.compensateOnly[d.smartAgId];
      if (!u) continue;
      statuses[idx]!.outcome = u.outcome;
      statuses[idx]!.serials = u.serials;
      results[d.smartAgId] = {
        smartAgId: d.smartAgId,
        outcome: u.outcome === 'unconfirmed' ? 'unconfirmed' : 'failed',
        serials: u.serials,
        requestIds: [],
        pinned: u.pinned,
        policiesRestored: u.policiesRestored,
        upgradeCalls: u.upgradeCalls,
        apiCalls: 0,
        startedAt: 0,
        finishedAt: 0,
        ...(u.openSends ? { openSends: u.openSends } : {}),
      };
    }
    queue.length = 0;
    await compensate();
    state = 'done';
    return {
      wave: input.wave,
      part: input.part,
      devices: statuses,
      aborted: false,
      failed: 0,
      finished: 0,
      consecutive: 0,
    };
  }

  for (;;) {
    const now = Date.now();
    if (aborted || halted) {
      state = aborted ? 'draining' : 'halted';
      if (inFlight > 0) {
        await condition(() => inFlight === 0);
        continue;
      }
      if (aborted) {
        settleInterrupted();
        if (compensateOnAbort) await compensate();
        break;
      }
      if (!resumed) {
        // Credentials that stopped working are no failure of the batch, and compensation could not
        // reach Alibaba with them anyway.
        if (!halted?.credentials) await compensate();
        state = 'halted';
        await reportHalt();
        await condition(() => resumed || aborted);
        if (aborted) {
          // Aborted while halted on credentials: the interrupted devices end here, compensated.
          if (halted?.credentials) {
            settleInterrupted();
            if (compensateOnAbort) await compensate();
          }
          break;
        }
      }
      // Resumed after a budget breach: a fresh failure budget from here. A credential halt was no
      // breach: the count goes on.
      if (!halted?.credentials) {
        failed = 0;
        consecutive = 0;
        budgetBase = { failed: 0, finished: 0 };
        finished = 0;
      }
      halted = undefined;
      resumed = false;
      continue;
    }
    if (paused) {
      state = 'paused';
      await condition(() => !paused || aborted);
      continue;
    }
    if (input.deadline !== undefined && now >= input.deadline) {
      for (const idx of [...queue, ...deferred.map((x) => x.idx)]) {
        const s = statuses[idx]!;
        s.outcome = 'skipped';
        s.errorCode = 'DeadlinePassed';
      }
      queue.length = 0;
      deferred.length = 0;
    }
    if (queue.length === 0 && deferred.length === 0) {
      if (inFlight === 0) break;
      state = 'running';
      const seen = changes;
      await condition(() => changes !== seen);
      continue;
    }
    if (windowed && now >= windowsUntil) await refreshWindows(now);
    const next = pickNext(now);
    if (next.idx !== undefined) {
      state = 'running';
      start(next.idx, now);
      continue;
    }
    const seen = changes;
    if (next.waitUntil !== undefined) {
      state = inFlight === 0 && windowed ? 'waiting-window' : 'running';
      const until = input.deadline !== undefined ? Math.min(next.waitUntil, input.deadline) : next.waitUntil;
      await condition(() => changes !== seen, Math.max(1, until - now));
    } else if (windowed && inFlight === 0 && patched('part-wait-without-window')) {
      // No window opens within the computed horizon: wait for the deadline (which skips the rest)
      // or for the horizon to move on, instead of waiting for a change that never comes.
      state = 'waiting-window';
      const until = Math.min(windowsUntil, input.deadline ?? Number.POSITIVE_INFINITY);
      await condition(() => changes !== seen, Math.max(1, until - now));
    } else {
      await condition(() => changes !== seen);
    }
  }
  state = 'done';
  return {
    wave: input.wave,
    part: input.part,
    devices: statuses,
    halted,
    aborted,
    failed,
    finished,
    consecutive,
  };
}

function versionAfter(r: DeviceUpgradeResult, sn: string): string | undefined {
  const s = r.serials.find((x) => x.serialNumber === sn);
  return s?.to ?? s?.from;
}

function removeFrom(list: number[], value: number): void {
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
}
