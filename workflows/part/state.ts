import { patched } from '@temporalio/workflow';
import type { DevicesPage, DevicesPageQuery, PartControl, PartProgress } from '../messages';
import { addCounts, countDevice, emptyBudget, evaluateBudget, type BudgetCount } from '../../domain/budget';
import { seededResult } from '../../domain/compensation';
import { countOutcomes } from '../../domain/counts';
import { interruptedEnd, priorOf, statusOutcome, undoOf } from '../../domain/device-status';
import { resolveCodePolicy } from '../../domain/error-policy';
import {
  defer,
  dequeue,
  waiting,
  newSchedule,
  requeueFirst,
  unschedule,
  type Pace,
  type Schedule,
} from '../../domain/schedule';
import type { DeviceStatus, DeviceUpgradeResult, InventoryDevice, PriorRecord } from '../../domain/types';
import { windowZoneOf } from '../../domain/window-zone';
import { spareSlots } from '../../domain/overlap';
import { heldMessage } from './held';
import type { WavePartInput, WavePartResult } from './types';

/**
 * The state of a wave part: its devices' statuses and results, the schedule of those still to
 * start, the operator's controls as they arrive, and the failure budget as devices finish. The
 * part's main loop waits on `changes`, which every transition that may unblock it bumps.
 */
export class PartState {
  readonly devices: InventoryDevice[];
  readonly statuses: DeviceStatus[];
  readonly results: Record<string, DeviceUpgradeResult> = {};
  readonly schedule: Schedule;
  readonly pace: Pace;
  /** How often each device was put back because it was offline. */
  private readonly deferrals: Record<string, number> = {};
  /** What interrupted or re-run devices' earlier runs left open, passed to their next run. */
  readonly priors: Record<string, PriorRecord>;
  paused: boolean;
  aborted: boolean;
  compensateOnAbort: boolean;
  halted: WavePartResult['halted'];
  /** The operator resumed the part after it halted. */
  resumed = false;
  /** This part's failures since it started, or since a resume after a breach. */
  count: BudgetCount;
  /** What the rollout counted before this part (nothing after a resume after a breach). */
  private base: { failed: number; finished: number };
  state: PartProgress['state'] = 'running';
  nextWindowAt: number | undefined;
  /** Bumped by every change the main loop may wait on. */
  changes = 0;
  private lastSeq = -1;
  /** Overlapping parts: the part has nothing left to start and gave slots back. */
  draining = false;
  /** Overlapping parts: the rollout heard of this part's halt (a resume before that is not for it). */
  haltReported = false;
  /** Overlapping parts: the count last reported to the rollout. */
  reported = { failed: 0, finished: 0 };
  /** Overlapping parts: the rollout was told this part decided a halt. */
  haltAnnounced = false;
  /**
   * Overlapping parts: paused because another part decided a halt. Its failures still count, but
   * decide no halt of their own: that breach is decided, and the resume starts the count afresh.
   */
  private pausedForHalt = false;
  private lastShareSeq = -1;
  /** Overlapping parts: how often the rollout's budget started afresh (see `PartShareControl`). */
  epoch: number;

  constructor(readonly input: WavePartInput) {
    this.devices = input.devices;
    this.pace = { ...input.pace };
    this.statuses = input.devices.map((d) => ({
      smartAgId: d.smartAgId,
      regionId: d.regionId,
      wave: input.wave,
      outcome: input.excluded.includes(d.smartAgId) ? 'excluded' : 'pending',
      serials: [],
    }));
    this.schedule = newSchedule(
      input.devices.map((_, i) => i).filter((i) => this.statuses[i]!.outcome === 'pending'),
    );
    this.paused = input.paused;
    this.aborted = input.aborted !== undefined;
    this.compensateOnAbort = input.aborted?.compensate ?? true;
    this.priors = { ...input.priors };
    this.count = { failed: 0, finished: 0, consecutive: input.budget.consecutiveBefore };
    this.base = { failed: input.budget.failedBefore, finished: input.budget.finishedBefore };
    this.epoch = input.budget.epoch ?? 0;
  }

  /** A control forwarded by the rollout; a repeated or stale one (by `seq`) changes nothing. */
  control(c: PartControl & { seq: number }): void {
    // Shares are numbered apart: a newer share must not make an older pause or abort look stale.
    if (c.kind === 'share') {
      if (c.seq <= this.lastShareSeq) return;
      this.lastShareSeq = c.seq;
    } else if (c.seq <= this.lastSeq) {
      // An exclusion overtaken by a later control (a resume sent right after it) still applies: it
      // only takes out devices not started yet, so applying it late is never wrong.
      if (c.kind !== 'exclude' || !patched('late-exclude-applies')) return;
    } else {
      this.lastSeq = c.seq;
    }
    this.apply(c);
    this.changes++;
  }

  /** A cancellation of the part itself is an abort with compensation. */
  abortOnCancel(): void {
    this.aborted = true;
    this.compensateOnAbort = true;
    this.changes++;
  }

  private apply(c: PartControl): void {
    switch (c.kind) {
      case 'pause':
        this.paused = true;
        if (c.forHalt) this.pausedForHalt = true;
        break;
      case 'resume':
        this.paused = false;
        this.pausedForHalt = false;
        if (!this.input.overlap) {
          if (this.halted) this.resumed = true;
          break;
        }
        // Overlapping parts follow the rollout's decision: its budget started afresh (after a
        // breach, whichever part's), and every part's count with it. A halt the rollout has not
        // heard of yet is not resumed: it is reported, and waits for a resume of its own.
        if (c.fresh) this.freshBudget(c.epoch);
        if (this.halted && this.haltReported) this.resumed = true;
        break;
      case 'share':
        if (c.epoch === this.epoch && c.others) {
          this.base = { ...c.others };
          // While another part's halt is under way its breach is decided: no second halt on it.
          if (!c.halting) this.checkBudget('a device of another part', undefined);
        }
        // A draining part is only ever given less (the operator lowered the concurrency), and
        // keeps a slot while devices of its own wait to start (it is given none back later).
        if (c.concurrency !== undefined && !this.draining) this.pace.concurrency = c.concurrency;
        else if (c.concurrency !== undefined && c.concurrency < this.pace.concurrency)
          this.pace.concurrency = Math.max(c.concurrency, waiting(this.schedule) > 0 ? 1 : 0);
        break;
      case 'abort':
        this.aborted = true;
        this.compensateOnAbort = c.compensate;
        break;
      case 'exclude':
        for (const id of c.smartAgIds) {
          const idx = this.devices.findIndex((d) => d.smartAgId === id);
          if (idx < 0 || this.statuses[idx]!.outcome !== 'pending') continue;
          // A device pending with an earlier run's record (interrupted by a credential halt, or
          // resumed or retried) that left an upgrade that may still flash or a pinned auto-upgrade
          // policy has started: it stays in, so that run is verified and its policies restored.
          if (leftOpen(this.priors[id]) && patched('exclude-keeps-open-runs')) continue;
          this.statuses[idx]!.outcome = 'excluded';
          unschedule(this.schedule, idx);
        }
        break;
      case 'pace':
        if (c.concurrency) this.pace.concurrency = c.concurrency;
        if (c.maxPerMinute !== undefined)
          this.pace.maxPerMinute = c.maxPerMinute > 0 ? c.maxPerMinute : undefined;
        break;
    }
  }

  progress(): PartProgress {
    return {
      wave: this.input.wave,
      part: this.input.part,
      total: this.devices.length,
      started: this.schedule.started,
      inFlight: this.schedule.inFlight,
      counts: countOutcomes(this.statuses),
      state: this.state,
      nextWindowAt: this.nextWindowAt,
      ...windowZoneOf(this.input.windows),
      failed: this.count.failed,
      finished: this.count.finished,
      consecutive: this.count.consecutive,
      budget: this.shownBudget(),
      ...(this.halted
        ? {
            halted: { reason: this.halted.reason, ...(this.halted.credentials ? { credentials: true } : {}) },
          }
        : {}),
    };
  }

  /**
   * The rollout's failure budget as this part counts it, the very count each halt decision
   * evaluates: what the rollout counted before the part (nothing after a resume after a breach)
   * plus the part's own devices as they finish.
   */
  budget(): BudgetCount {
    return addCounts(this.base, this.count);
  }

  /**
   * The budget as every screen shows it: while the part is halted on its budget, the count that
   * decided the halt (the figure its reason quotes), not the devices in flight that finished since.
   */
  shownBudget(): BudgetCount {
    return this.halted?.budget ?? this.budget();
  }

  devicesPage(q: DevicesPageQuery): DevicesPage {
    const list = q.outcome ? this.statuses.filter((s) => s.outcome === q.outcome) : this.statuses;
    const offset = q.offset ?? 0;
    return { total: list.length, offset, devices: list.slice(offset, offset + (q.limit ?? 1000)) };
  }

  /** Records a device run's result: put back, interrupted, or counted in the failure budget. */
  record(idx: number, r: DeviceUpgradeResult): void {
    const s = this.statuses[idx]!;
    this.results[s.smartAgId] = r;
    s.serials = r.serials;
    s.phase = r.phase;
    s.errorCode = r.errorCode;
    s.message = r.message;
    s.requestIds = r.requestIds.length > 0 ? r.requestIds : undefined;
    if (r.health) s.health = r.health;
    if (r.outcome === 'deferred' && this.deferAgain(idx, s)) return;
    if (r.outcome === 'interrupted') return this.interrupt(idx, s, r);
    s.outcome = statusOutcome(r.outcome);
    if (s.outcome === 'failed' || s.outcome === 'unconfirmed') s.undo = undoOf(r);
    if (s.outcome === 'upgraded') {
      this.count = countDevice(this.count, false);
    } else if (s.outcome === 'failed' || s.outcome === 'unconfirmed') {
      this.count = countDevice(this.count, true);
      if (
        r.errorClass === 'rollout' ||
        (r.errorCode &&
          resolveCodePolicy(r.errorCode, this.input.devicePolicy.errorOverrides).action === 'halt')
      ) {
        this.halt(
          `${r.errorCode ?? 'error'} on ${s.smartAgId}: the rollout's credentials or permissions are wrong`,
          r.errorCode,
        );
        return;
      }
      this.checkBudget(s.smartAgId, r.errorCode);
    }
  }

  /** An offline device goes to the end of the part, as often as `maxDeferrals` allows. */
  private deferAgain(idx: number, s: DeviceStatus): boolean {
    this.deferrals[s.smartAgId] = (this.deferrals[s.smartAgId] ?? 0) + 1;
    if (this.deferrals[s.smartAgId]! > this.input.maxDeferrals) return false;
    s.outcome = 'pending';
    defer(this.schedule, idx, Date.now() + this.input.offlineRetryDelayMs);
    return true;
  }

  /**
   * The credentials or permissions failed, not the device: it goes back to the front of the
   * queue, counts nowhere, and its next run picks up what this one left open.
   */
  private interrupt(idx: number, s: DeviceStatus, r: DeviceUpgradeResult): void {
    s.outcome = 'pending';
    this.priors[s.smartAgId] = priorOf(r);
    requeueFirst(this.schedule, idx);
    this.halt(
      `${r.errorCode ?? 'error'} on ${s.smartAgId}: the rollout's credentials or permissions are wrong`,
      r.errorCode,
      true,
    );
  }

  /**
   * A device workflow that could not run: held by another rollout (named by `holder` when it
   * could be read), or failed as a workflow.
   */
  childFailed(idx: number, heldElsewhere: boolean, workflowId: string, err: unknown, holder?: string): void {
    const s = this.statuses[idx]!;
    if (heldElsewhere) {
      // Another rollout holds this device's upgrade lock: report it, never touch it.
      s.outcome = 'skipped';
      s.errorCode = 'HeldByAnotherRollout';
      s.message = heldMessage(workflowId, holder);
    } else {
      s.outcome = 'failed';
      s.errorCode = 'DeviceWorkflowFailed';
      s.message = err instanceof Error ? err.message : String(err);
      this.count = countDevice(this.count, true);
      this.checkBudget(s.smartAgId, s.errorCode);
    }
  }

  /**
   * When the rollout is aborted while devices wait to be inspected again after a credential halt:
   * each ends where its interrupted run left it (see `interruptedEnd`).
   */
  settleInterrupted(): void {
    for (const [idx, s] of this.statuses.entries()) {
      const r = this.results[s.smartAgId];
      if (s.outcome !== 'pending' || r?.outcome !== 'interrupted') continue;
      dequeue(this.schedule, idx);
      Object.assign(s, interruptedEnd(r));
    }
  }

  private checkBudget(smartAgId: string, code: string | undefined): void {
    if (this.halted || this.pausedForHalt) return;
    const verdict = evaluateBudget(this.budget(), this.input.budget, { smartAgId, code });
    if (verdict.breached) this.halt(verdict.reason, code);
  }

  private halt(reason: string, code?: string, credentials?: boolean): void {
    if (this.halted) return;
    this.halted = credentials ? { reason, code, credentials } : { reason, code, budget: this.budget() };
  }

  /**
   * Resumed after a halt: a fresh failure budget after a breach; a credential halt was no breach,
   * so the count goes on.
   */
  resume(): void {
    // Overlapping parts started afresh when the resume arrived, if the rollout did.
    if (!this.input.overlap && !this.halted?.credentials) this.freshBudget();
    this.halted = undefined;
    this.resumed = false;
    this.haltReported = false;
    this.haltAnnounced = false;
  }

  /** The failure budget starts afresh (in the rollout's budget epoch `epoch`, overlapping parts). */
  private freshBudget(epoch?: number): void {
    this.count = emptyBudget();
    this.base = { failed: 0, finished: 0 };
    this.reported = { failed: 0, finished: 0 };
    if (epoch !== undefined) this.epoch = epoch;
  }

  /**
   * Overlapping parts: the slots this part gives back now (see `spareSlots`), taken off its own
   * concurrency; 0 when it keeps them all.
   */
  releaseSpare(): number {
    const step = this.input.overlap?.step;
    if (!step) return 0;
    const spare = spareSlots(this.schedule, this.pace.concurrency, step);
    if (spare === 0) return 0;
    this.draining = true;
    this.pace.concurrency -= spare;
    return spare;
  }

  /** The part's own count with its budget epoch, as the rollout adds overlapping parts up. */
  own(): BudgetCount & { epoch: number } {
    return { ...this.count, epoch: this.epoch };
  }

  /**
   * Overlapping parts: a failure since the last report, or a step's worth of finished devices,
   * which the other parts must hear of.
   */
  countsToReport(): boolean {
    const step = this.input.overlap?.step ?? 1;
    return this.count.failed !== this.reported.failed || this.count.finished - this.reported.finished >= step;
  }

  /** A compensation-only part: its devices as the rollout recorded their failed runs; nothing starts. */
  seedCompensation(seeds: NonNullable<WavePartInput['compensateOnly']>): void {
    for (const [idx, d] of this.devices.entries()) {
      const u = seeds[d.smartAgId];
      if (!u) continue;
      this.statuses[idx]!.outcome = u.outcome;
      this.statuses[idx]!.serials = u.serials;
      this.results[d.smartAgId] = seededResult(d.smartAgId, u);
    }
    this.schedule.queue.length = 0;
  }

  result(): WavePartResult {
    return {
      wave: this.input.wave,
      part: this.input.part,
      devices: this.statuses,
      halted: this.halted,
      aborted: this.aborted,
      failed: this.count.failed,
      finished: this.count.finished,
      consecutive: this.count.consecutive,
      budget: this.shownBudget(),
      ...(this.input.overlap ? { epoch: this.epoch } : {}),
    };
  }

  /** What a compensation-only part returns: it counts nothing in the failure budget. */
  compensationResult(): WavePartResult {
    return {
      wave: this.input.wave,
      part: this.input.part,
      devices: this.statuses,
      aborted: false,
      failed: 0,
      finished: 0,
      consecutive: 0,
    };
  }
}

/** Whether an earlier run left something a later run must finish: a send, or a pinned policy. */
function leftOpen(prior: PriorRecord | undefined): boolean {
  return prior !== undefined && (prior.openSends.length > 0 || (prior.pinned?.length ?? 0) > 0);
}
