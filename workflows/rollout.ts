import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { rolloutStep } from './activity-options';
import { emptyBudget, evaluateBudget, type BudgetCount } from '../domain/budget';
import { resolveCodePolicy } from '../domain/error-policy';
import { classify } from './failures';
import { durationMs } from './durations';
import {
  abortSignal,
  abortUpdate,
  approveUpdate,
  auditQuery,
  devicesQuery,
  excludeUpdate,
  partControlSignal,
  partHaltedSignal,
  pauseSignal,
  pauseUpdate,
  progressQuery,
  promoteUpdate,
  resumeUpdate,
  retryFailedUpdate,
  setPaceUpdate,
  type AbortCommand,
  type CommandResult,
  type ExcludeCommand,
  type OperatorCommand,
  type PaceCommand,
  type PartControl,
} from './messages';
import { notificationWorkflow } from './notify';
import { emptyCounts, wavePartWorkflow, type WavePartInput, type WavePartResult } from './part';
import { planWaves, splitParts, type PlannedWave } from '../domain/plan';
import { SA_ROLLOUT_ID, SA_ROLLOUT_STATE, SA_TARGET_VERSION } from './search-attributes';
import type {
  AuditEntry,
  DeviceStatus,
  DeviceUpgradePolicy,
  PriorRecord,
  RolloutInput,
  RolloutProgress,
  RolloutState,
  WaveProgress,
} from '../domain/types';
import { rolloutChildId } from '../domain/ids';

/** Everything a rollout carries across continue-as-new. JSON-native. */
export interface RolloutCarried {
  plan: PlannedWave[];
  devices: Record<string, DeviceStatus>;
  waves: Omit<WaveProgress, 'counts'>[];
  currentWave: number;
  currentPart: number;
  retryRuns: number;
  state: RolloutState;
  haltReason?: string;
  paused: boolean;
  aborted: boolean;
  abortCompensate: boolean;
  approvals: Record<string, { by: string; at: number }>;
  promoted: Record<string, boolean>;
  retryQueue: string[];
  budget: { failed: number; finished: number; consecutive: number };
  pace: { concurrency: number; maxPerMinute?: number };
  seen: Record<string, CommandResult>;
  seenOrder: string[];
  audit: AuditEntry[];
  controlSeq: number;
  startedAt: number;
  finishedAt?: number;
  /** Failure-budget breaches so far (the budget starts afresh after each resume). */
  breaches?: number;
  /** The rollout is halted on credentials or permissions, not on its budget. */
  haltCredentials?: boolean;
  gate?: RolloutProgress['gate'];
}

export interface RolloutResult {
  rolloutId: string;
  state: RolloutState;
  total: number;
  counts: RolloutProgress['counts'];
  haltReason?: string;
  reportFiles?: string[];
}

const SEEN_LIMIT = 500;

/**
 * Continue-as-new carries the input and the whole state in one payload, which the server refuses
 * over 2 MiB (PayloadsTooLarge, and the workflow task fails for ever). Above this size the run
 * goes on instead and its history grows past the 4 MiB suggestion: a 10,000-device rollout ends
 * near 6 MB, under the 10 MiB warning.
 */
const CARRY_LIMIT_BYTES = 1536 * 1024;

/**
 * A fleet rollout: the canary, then growing waves, each run as child workflows of at most
 * `maxPartSize` devices, with bake times, health re-checks, approval gates, a failure budget,
 * compensation of a failed batch, change windows and operator controls. ID `rollout/<rolloutId>`.
 *
 * Abort is a state change, not a cancellation: devices in flight always finish.
 */
export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  // Everything runs in a scope that a cancellation does not reach: a cancel from the Temporal UI
  // or API becomes an abort with compensation (see `onCancel` below), so devices in flight
  // finish, failed devices are compensated and the report is written.
  const root = CancellationScope.current();
  return CancellationScope.nonCancellable(() => runRollout(input, root));
}

async function runRollout(input: RolloutInput, root: CancellationScope): Promise<RolloutResult> {
  const { policy } = input;
  const info = workflowInfo();
  const st: RolloutCarried = (input.carried as RolloutCarried | undefined) ?? initialState();
  if (policy.requireTicket && !input.ticket) {
    throw ApplicationFailure.nonRetryable(
      'the policy requires a change ticket and none was given',
      'TicketRequired',
    );
  }

  const devicePolicy: DeviceUpgradePolicy = {
    targetVersion: policy.targetVersion,
    targetsByModel: policy.targetsByModel,
    versionType: policy.versionType,
    allowBeta: policy.allowBeta,
    verifyTimeoutMs: durationMs(policy.verify.timeout, 30 * 60_000),
    pollIntervalMs: durationMs(policy.verify.pollInterval, 30_000),
    consecutivePolls: policy.verify.consecutivePolls,
    upgradeSettleMs: durationMs(policy.upgradeSettle, 15 * 60_000),
    noSignAfterSettle: policy.noSignAfterSettle,
    autoUpgradeAfter: policy.autoUpgradeAfter,
    repairHaPairs: policy.compensation.repairHaPairs,
    requestPreviousVersion: policy.compensation.requestPreviousVersion,
    errorOverrides: policy.errorOverrides,
  };
  let activePart: string | undefined;

  function initialState(): RolloutCarried {
    const plan = planWaves(input.inventory, policy);
    const waveOf: Record<string, number> = {};
    for (const w of plan) for (const id of w.devices) waveOf[id] = w.index;
    const devices: Record<string, DeviceStatus> = {};
    for (const d of input.inventory) {
      devices[d.smartAgId] = {
        smartAgId: d.smartAgId,
        regionId: d.regionId,
        wave: waveOf[d.smartAgId] ?? -1,
        outcome: 'pending',
        serials: [],
      };
    }
    return {
      plan,
      devices,
      waves: plan.map((w) => ({ index: w.index, name: w.name, size: w.devices.length, state: 'pending' })),
      currentWave: 0,
      currentPart: 0,
      retryRuns: 0,
      state: 'running',
      paused: false,
      aborted: false,
      abortCompensate: true,
      approvals: {},
      promoted: {},
      retryQueue: [],
      budget: { failed: 0, finished: 0, consecutive: 0 },
      pace: { concurrency: policy.concurrency, maxPerMinute: policy.maxPerMinute },
      seen: {},
      seenOrder: [],
      audit: [],
      controlSeq: 0,
      startedAt: Date.now(),
    };
  }

  function audit(kind: string, e: Omit<AuditEntry, 'seq' | 'at' | 'kind'> = {}): void {
    st.audit.push({ seq: st.audit.length + 1, at: Date.now(), kind, ...e });
  }

  function setState(s: RolloutState): void {
    if (st.state === s) return;
    st.state = s;
    upsertSearchAttributes([{ key: SA_ROLLOUT_STATE, value: s }]);
  }

  function counts(): RolloutProgress['counts'] {
    const c = emptyCounts();
    for (const d of Object.values(st.devices)) c[d.outcome]++;
    return c;
  }

  function progress(): RolloutProgress {
    const waves: WaveProgress[] = st.waves.map((w) => {
      const c = emptyCounts();
      for (const id of st.plan[w.index]?.devices ?? []) {
        const d = st.devices[id];
        if (d) c[d.outcome]++;
      }
      return { ...w, counts: c };
    });
    const c = counts();
    const done = c.upgraded + c.failed + c.skipped + c.compensated + c.excluded;
    const elapsed = Date.now() - st.startedAt;
    const total = Object.keys(st.devices).length;
    return {
      rolloutId: input.rolloutId,
      state: st.state,
      targetVersion: policy.targetVersion,
      versionType: policy.versionType,
      operator: input.operator,
      ticket: input.ticket,
      startedAt: st.startedAt,
      finishedAt: st.finishedAt,
      total,
      counts: c,
      currentWave: st.currentWave,
      waves,
      gate: st.gate,
      failureBudget: {
        failed: st.budget.failed,
        finished: st.budget.finished,
        percent: st.budget.finished > 0 ? (st.budget.failed / st.budget.finished) * 100 : 0,
        limitPercent: policy.failureBudget.maxFailurePercent,
        minFailures: policy.failureBudget.minFailures,
        consecutive: st.budget.consecutive,
        breached: st.haltReason !== undefined,
        breaches: st.breaches ?? 0,
      },
      pace: st.pace,
      haltReason: st.haltReason,
      eta: done > 0 && done < total ? Date.now() + (elapsed / done) * (total - done) : undefined,
      activePart,
    };
  }

  /**
   * Sends a control to the running part. A signal that does not arrive (the part's start is still
   * under way) is sent again while that part is the active one, so a pause or an abort is never
   * lost; a part that starts after an abort is told so in its input.
   */
  async function forward(c: PartControl): Promise<void> {
    if (!activePart) return;
    st.controlSeq += 1;
    const target = activePart;
    const seq = st.controlSeq;
    for (let attempt = 0; ; attempt++) {
      try {
        await getExternalWorkflowHandle(target).signal(partControlSignal, { ...c, seq });
        return;
      } catch {
        if (activePart !== target || !patched('forward-until-delivered')) return;
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
        if (activePart !== target) return;
      }
    }
  }

  /**
   * Forwards a control without awaiting it, in a scope of its own: handlers run in the root scope,
   * which a Temporal cancellation marks cancelled, and the forwarding must outlive that.
   */
  function sendToPart(c: PartControl): void {
    CancellationScope.nonCancellable(() => forward(c)).catch(() => undefined);
  }

  /** Runs an operator command once per requestId; refusals are answered and audited too. */
  function once(
    kind: string,
    cmd: OperatorCommand,
    run: () => { accepted: boolean; message: string; fwd?: PartControl },
  ): CommandResult {
    const prior = st.seen[cmd.requestId];
    if (prior) return { ...prior, duplicate: true };
    const r = run();
    audit(r.accepted ? kind : `${kind}-refused`, {
      by: cmd.by,
      reason: cmd.reason,
      detail: { message: r.message, requestId: cmd.requestId },
    });
    if (r.fwd) sendToPart(r.fwd);
    const result: CommandResult = {
      accepted: r.accepted,
      duplicate: false,
      state: st.state,
      message: r.message,
    };
    st.seen[cmd.requestId] = result;
    st.seenOrder.push(cmd.requestId);
    while (st.seenOrder.length > SEEN_LIMIT) delete st.seen[st.seenOrder.shift()!];
    return result;
  }

  const closed = () => st.state === 'completed' || st.state === 'aborted' || st.state === 'failed';

  const doPause = (cmd: OperatorCommand) =>
    once('pause', cmd, () => {
      if (closed() || st.aborted) return { accepted: false, message: `rollout is ${st.state}` };
      if (st.paused) return { accepted: true, message: 'already paused' };
      st.paused = true;
      setState('paused');
      return {
        accepted: true,
        message: 'paused: no new device starts; upgrades in flight finish',
        fwd: { kind: 'pause' },
      };
    });
  const doAbort = (cmd: AbortCommand) =>
    once('abort', cmd, () => {
      if (closed()) return { accepted: false, message: `rollout is ${st.state}` };
      if (st.aborted) return { accepted: true, message: 'already aborting' };
      st.aborted = true;
      st.abortCompensate = cmd.compensate ?? true;
      if (patched('aborting-state')) setState('aborting');
      return {
        accepted: true,
        message: `aborting${st.abortCompensate ? ' with compensation' : ''}: upgrades in flight finish first`,
        fwd: { kind: 'abort', compensate: st.abortCompensate },
      };
    });

  function recordStart(): void {
    upsertSearchAttributes([
      { key: SA_ROLLOUT_ID, value: input.rolloutId },
      { key: SA_TARGET_VERSION, value: policy.targetVersion },
      { key: SA_ROLLOUT_STATE, value: 'running' },
    ]);
    audit('started', {
      by: input.operator,
      detail: {
        ticket: input.ticket ?? null,
        target: policy.targetVersion,
        versionType: policy.versionType,
        devices: input.inventory.length,
        ...(input.followUpOf ? { followUpOf: input.followUpOf } : {}),
      },
    });
    notify('rollout-started', { devices: input.inventory.length, target: policy.targetVersion });
  }

  // The start is recorded before any handler exists: a command delivered with the first workflow
  // task (a pause sent right after start) runs as soon as its handler is set, and must find the
  // rollout started, not be overwritten by it.
  const startedFirst = !input.carried && patched('started-before-handlers');
  if (startedFirst) recordStart();

  setHandler(pauseSignal, (cmd) => void doPause(cmd));
  setHandler(abortSignal, (cmd) => void doAbort(cmd));
  setHandler(pauseUpdate, doPause, { validator: validateCommand });
  setHandler(abortUpdate, doAbort, { validator: validateCommand });
  setHandler(
    resumeUpdate,
    (cmd) =>
      once('resume', cmd, () => {
        if (closed() || st.aborted)
          return { accepted: false, message: `rollout is ${st.aborted ? 'aborting' : st.state}` };
        if (!st.paused) return { accepted: true, message: 'not paused' };
        st.paused = false;
        // A resume after a halt starts a fresh failure budget for the rest of the rollout.
        if (st.haltReason !== undefined && patched('resume-fresh-budget') && !st.haltCredentials)
          st.budget = emptyBudget();
        st.haltCredentials = undefined;
        st.haltReason = undefined;
        setState('running');
        return { accepted: true, message: 'resumed', fwd: { kind: 'resume' } };
      }),
    { validator: validateCommand },
  );
  setHandler(
    approveUpdate,
    (cmd) =>
      once('approve', cmd, () => {
        const gate = st.gate;
        if (!gate || gate.kind !== 'approval')
          return { accepted: false, message: 'no approval gate is waiting' };
        if (cmd.wave !== undefined && cmd.wave !== gate.wave)
          return {
            accepted: false,
            message: `the waiting gate is before wave ${gate.wave}, not ${cmd.wave}`,
          };
        if (policy.approverMustDiffer && cmd.by === input.operator) {
          return {
            accepted: false,
            message: `the approver must differ from the operator who started the rollout (${input.operator})`,
          };
        }
        st.approvals[String(gate.wave)] = { by: cmd.by, at: Date.now() };
        return { accepted: true, message: `wave ${gate.wave} approved by ${cmd.by}` };
      }),
    { validator: validateCommand },
  );
  setHandler(
    promoteUpdate,
    (cmd) =>
      once('promote', cmd, () => {
        const gate = st.gate;
        if (!gate || (gate.kind !== 'bake' && gate.kind !== 'approval'))
          return { accepted: false, message: 'no bake or gate is waiting' };
        if (gate.kind === 'approval' && policy.approverMustDiffer && cmd.by === input.operator) {
          return { accepted: false, message: 'promoting past an approval gate needs a different approver' };
        }
        st.promoted[String(gate.wave)] = true;
        if (gate.kind === 'approval') st.approvals[String(gate.wave)] = { by: cmd.by, at: Date.now() };
        return { accepted: true, message: `promoted past the ${gate.kind} before wave ${gate.wave}` };
      }),
    { validator: validateCommand },
  );
  setHandler(
    excludeUpdate,
    (cmd) =>
      once('exclude', cmd, () => {
        const done: string[] = [];
        const refused: string[] = [];
        for (const id of cmd.smartAgIds) {
          const d = st.devices[id];
          if (!d) refused.push(`${id} (not in this rollout)`);
          else if (d.outcome === 'excluded') done.push(id);
          else if (d.outcome !== 'pending') refused.push(`${id} (${d.outcome})`);
          else {
            d.outcome = 'excluded';
            d.message = cmd.reason;
            done.push(id);
          }
        }
        const msg = `excluded ${done.length}${refused.length ? `; refused: ${refused.join(', ')}` : ''}`;
        return {
          accepted: done.length > 0,
          message: msg,
          fwd: done.length ? { kind: 'exclude', smartAgIds: done } : undefined,
        };
      }),
    {
      validator: (cmd: ExcludeCommand) => {
        validateCommand(cmd);
        if (!Array.isArray(cmd.smartAgIds) || cmd.smartAgIds.length === 0)
          throw new Error('name at least one SmartAGId');
      },
    },
  );
  setHandler(
    retryFailedUpdate,
    (cmd) =>
      once('retry-failed', cmd, () => {
        if (closed() || st.aborted)
          return { accepted: false, message: `rollout is ${st.aborted ? 'aborting' : st.state}` };
        const failed = Object.values(st.devices).filter(
          (d) => d.outcome === 'failed' || d.outcome === 'compensated',
        );
        if (failed.length === 0) return { accepted: false, message: 'no failed devices' };
        for (const d of failed) {
          if (!st.retryQueue.includes(d.smartAgId)) st.retryQueue.push(d.smartAgId);
        }
        return { accepted: true, message: `${failed.length} failed devices queued for another attempt` };
      }),
    { validator: validateCommand },
  );
  setHandler(
    setPaceUpdate,
    (cmd) =>
      once('set-pace', cmd, () => {
        if (closed()) return { accepted: false, message: `rollout is ${st.state}` };
        if (cmd.concurrency !== undefined) st.pace.concurrency = cmd.concurrency;
        if (cmd.maxPerMinute !== undefined)
          st.pace.maxPerMinute = cmd.maxPerMinute > 0 ? cmd.maxPerMinute : undefined;
        return {
          accepted: true,
          message: `pace: ${st.pace.concurrency} in flight, ${st.pace.maxPerMinute ?? 'no'} per-minute cap`,
          fwd: { kind: 'pace', concurrency: cmd.concurrency, maxPerMinute: cmd.maxPerMinute },
        };
      }),
    {
      validator: (cmd: PaceCommand) => {
        validateCommand(cmd);
        if (cmd.concurrency !== undefined && !(Number.isInteger(cmd.concurrency) && cmd.concurrency >= 1))
          throw new Error('concurrency must be a whole number ≥ 1');
        if (cmd.maxPerMinute !== undefined && !(cmd.maxPerMinute >= 0))
          throw new Error('maxPerMinute must be ≥ 0');
      },
    },
  );
  setHandler(partHaltedSignal, (h) => {
    st.haltReason = h.reason;
    // Credentials or permissions that failed are no budget breach: the operator fixes them and resumes.
    if (!h.credentials) st.breaches = (st.breaches ?? 0) + 1;
    st.haltCredentials = h.credentials === true ? true : undefined;
    for (const d of h.devices) {
      if (st.devices[d.smartAgId]?.outcome !== 'excluded')
        st.devices[d.smartAgId] = { ...d, wave: st.devices[d.smartAgId]?.wave ?? h.wave };
    }
    audit('halted', {
      wave: h.wave,
      reason: h.reason,
      detail: { code: h.code ?? null, part: h.part, ...(h.credentials ? { credentials: true } : {}) },
    });
    if (policy.failureBudget.onBreach === 'abort' && !h.credentials) {
      st.aborted = true;
      st.abortCompensate = true;
      if (patched('aborting-state')) setState('aborting');
      sendToPart({ kind: 'abort', compensate: true });
    } else {
      st.paused = true;
      setState('paused');
    }
    notify('halted', { reason: h.reason, wave: h.wave });
  });
  setHandler(progressQuery, progress);
  setHandler(devicesQuery, (q) => {
    const all = Object.values(st.devices).filter((d) => !q.outcome || d.outcome === q.outcome);
    const offset = q.offset ?? 0;
    return { total: all.length, offset, devices: all.slice(offset, offset + (q.limit ?? 1000)) };
  });
  setHandler(auditQuery, (since) => st.audit.filter((e) => e.seq > (since ?? 0)));
  // A cancellation through Temporal is an abort with compensation, audited like an operator's.
  root.cancelRequested.catch(() => {
    if (!patched('cancel-is-abort')) return;
    doAbort({
      by: 'temporal',
      requestId: `temporal-cancel-${info.runId}`,
      reason: 'the workflow was cancelled through Temporal',
      compensate: true,
    });
  });

  function notify(event: string, detail: Record<string, string | number | boolean | undefined>): void {
    if (policy.webhooks.length === 0) return;
    // Delivery retries in its activity and never blocks the rollout.
    if (patched('notify-per-webhook')) {
      // One activity per webhook: one that fails or never answers is retried on its own, and
      // neither delays nor repeats the delivery to the others.
      const at = Date.now();
      for (const hook of policy.webhooks) {
        if (hook.events?.length && !hook.events.includes(event)) continue;
        void rolloutStep
          .notify({ webhooks: [hook], event, rolloutId: input.rolloutId, detail, at })
          .catch(() => undefined);
      }
      return;
    }
    void rolloutStep
      .notify({ webhooks: policy.webhooks, event, rolloutId: input.rolloutId, detail, at: Date.now() })
      .catch(() => undefined);
  }

  if (!input.carried && !startedFirst) recordStart();

  /**
   * Sends an event the rollout emits as it closes. Its deliveries run in a workflow of their own
   * that outlives this one, so a webhook that fails at first still gets every retry.
   */
  async function notifyClosing(
    event: string,
    detail: Record<string, string | number | boolean | undefined>,
  ): Promise<void> {
    if (policy.webhooks.length === 0) return;
    if (!patched('notify-closing-workflow')) return notify(event, detail);
    const webhooks = policy.webhooks.filter((hook) => !hook.events?.length || hook.events.includes(event));
    if (webhooks.length === 0) return;
    try {
      await startChild(notificationWorkflow, {
        workflowId: rolloutChildId(input.rolloutId, `notify-${event}`),
        taskQueue: input.taskQueue,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        args: [{ rolloutId: input.rolloutId, event, detail, at: Date.now(), webhooks }],
      });
    } catch {
      // The workflow ID is taken (a rollout ID reused while its last delivery still retries):
      // deliver from here, while this rollout is open.
      notify(event, detail);
    }
  }

  // Windows that never open (before the deadline) are refused before any device starts, also for
  // rollouts started without the CLI's own check.
  const windowed = policy.windows.length > 0 || policy.freezes.length > 0 || policy.deadline !== undefined;
  if (!input.carried && windowed && patched('rollout-window-feasibility')) {
    try {
      await rolloutStep.checkWindowsFeasible({ policy, nowMs: Date.now() });
    } catch (err) {
      const cause =
        err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
      if (cause?.type !== 'ImpossibleWindow') throw err;
      st.finishedAt = Date.now();
      setState('failed');
      audit('refused', { by: input.operator, reason: cause.message });
      throw ApplicationFailure.nonRetryable(cause.message, 'ImpossibleWindow');
    }
  }

  // An offline device goes back to the end of its wave as often as its row in the error-code table
  // retries it (`SmartAccessGatewayNotOnline`, `maximumAttempts` counts the first try).
  const offlineRow = resolveCodePolicy('SmartAccessGatewayNotOnline', policy.errorOverrides);
  const maxDeferrals = patched('deferrals-from-code-table')
    ? Math.max(0, (offlineRow.maximumAttempts ?? 2) - 1)
    : 1;

  const inventoryById: Record<string, RolloutInput['inventory'][number]> = {};
  for (const d of input.inventory) inventoryById[d.smartAgId] = d;

  async function runPart(
    wave: number,
    name: string,
    ids: string[],
    zeroTolerance: boolean,
    priors?: Record<string, PriorRecord>,
    operatorRetry = false,
  ): Promise<WavePartResult | undefined> {
    const devices = ids
      .map((id) => inventoryById[id]!)
      .filter((d) => st.devices[d.smartAgId]?.outcome === 'pending');
    if (devices.length === 0) return undefined;
    const workflowId = rolloutChildId(input.rolloutId, name);
    activePart = workflowId;
    for (const d of devices) st.devices[d.smartAgId]!.outcome = 'in-progress';
    const fb = policy.failureBudget;
    const r = await executeChild(wavePartWorkflow, {
      workflowId,
      // The rollout decides about its parts: a part that closed without a result is handled below.
      taskQueue: input.taskQueue,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [{ key: SA_ROLLOUT_ID, value: input.rolloutId }],
      args: [
        {
          rolloutId: input.rolloutId,
          parentWorkflowId: info.workflowId,
          wave,
          part: st.currentPart,
          devices,
          devicePolicy,
          pace: st.pace,
          caps: policy.caps,
          budget: {
            limitPercent: fb.maxFailurePercent,
            minFailures: fb.minFailures,
            maxConsecutive: fb.maxConsecutiveFailures,
            zeroTolerance,
            failedBefore: st.budget.failed,
            finishedBefore: st.budget.finished,
            consecutiveBefore: st.budget.consecutive,
          },
          expectedUpgradeMs: durationMs(policy.expectedUpgradeTime, 15 * 60_000),
          offlineRetryDelayMs: durationMs(policy.offlineRetryDelay, 10 * 60_000),
          maxDeferrals,
          windows: policy.windows,
          freezes: policy.freezes,
          deadline: policy.deadline ? Date.parse(policy.deadline) : undefined,
          paused: st.paused,
          ...(st.aborted ? { aborted: { compensate: st.abortCompensate } } : {}),
          ...(priors && Object.keys(priors).length > 0 ? { priors } : {}),
          ...(operatorRetry ? { operatorRetry } : {}),
          excluded: Object.values(st.devices)
            .filter((d) => d.outcome === 'excluded')
            .map((d) => d.smartAgId),
          taskQueue: input.taskQueue,
        },
      ],
    }).catch((err: unknown) => {
      // The part was terminated or failed (someone acted on it directly): its devices say so, and
      // the rollout aborts, compensating what failed so far.
      if (!patched('part-failure-aborts')) throw err;
      for (const d of devices) {
        const s = st.devices[d.smartAgId]!;
        if (s.outcome !== 'in-progress') continue;
        s.outcome = 'failed';
        s.errorCode = 'PartFailed';
        s.message = `${workflowId} closed without a result: ${err instanceof Error ? err.message : String(err)}`;
      }
      audit('part-failed', {
        wave,
        reason: err instanceof Error ? err.message : String(err),
        detail: { part: name },
      });
      st.aborted = true;
      st.abortCompensate = true;
      setState('aborting');
      return undefined;
    });
    activePart = undefined;
    if (!r) return undefined;
    // A part cancelled on its own aborted itself: the rollout aborts with it.
    if (r.aborted && !st.aborted && patched('part-abort-aborts')) {
      audit('abort', { by: 'temporal', reason: `${workflowId} was cancelled`, detail: { part: name } });
      st.aborted = true;
      st.abortCompensate = true;
      setState('aborting');
    }
    for (const d of r.devices) {
      const prev = st.devices[d.smartAgId];
      // An exclusion that reached the rollout but not the part in time still stands for unstarted devices.
      st.devices[d.smartAgId] =
        prev?.outcome === 'excluded' && d.outcome === 'pending' ? prev : { ...d, wave: prev?.wave ?? wave };
    }
    if (r.halted && patched('budget-after-part-halt') && !r.halted.credentials) {
      // The part started its count afresh when it was resumed, as the rollout did.
      st.budget = { failed: r.failed, finished: r.finished, consecutive: r.consecutive };
    } else {
      st.budget.failed += r.failed;
      st.budget.finished += r.finished;
      st.budget.consecutive = r.consecutive;
      if (r.halted) st.budget = { failed: 0, finished: 0, consecutive: 0 };
    }
    audit('part-done', {
      wave,
      detail: { part: name, failed: r.failed, finished: r.finished, halted: r.halted?.reason ?? null },
    });
    return r;
  }

  async function gateWait(kind: 'approval' | 'bake', wave: number, until?: number): Promise<void> {
    st.gate = { kind, wave, until };
    if (kind === 'approval') {
      setState('waiting-approval');
      notify('gate-waiting', { wave });
      await condition(() => st.approvals[String(wave)] !== undefined || st.aborted);
    } else {
      await condition(
        () => st.promoted[String(wave)] === true || st.aborted,
        Math.max(1, (until ?? 0) - Date.now()),
      );
    }
    st.gate = undefined;
    if (!st.aborted && !st.paused) setState('running');
  }

  async function pausedGate(): Promise<void> {
    if (st.paused && !st.aborted) {
      st.gate = { kind: 'pause', wave: st.currentWave, detail: st.haltReason };
      await condition(() => !st.paused || st.aborted);
      st.gate = undefined;
    }
  }

  async function runRetries(wave: number): Promise<void> {
    while (st.retryQueue.length > 0 && !st.aborted) {
      const ids = st.retryQueue.splice(0, st.retryQueue.length);
      // What the failed runs left open goes to the next run: an upgrade that may still be in
      // progress is watched, not sent again.
      const priors: Record<string, PriorRecord> = {};
      for (const id of ids) {
        const d = st.devices[id];
        if (d && (d.outcome === 'failed' || d.outcome === 'compensated' || d.outcome === 'unconfirmed')) {
          if (d.undo?.openSends?.length || (d.undo && !d.undo.policiesRestored)) {
            priors[id] = {
              openSends: d.undo.openSends ?? [],
              ...(d.undo.policiesRestored ? {} : { pinned: d.undo.pinned }),
            };
          }
          st.devices[id] = {
            smartAgId: d.smartAgId,
            regionId: d.regionId,
            wave: d.wave,
            outcome: 'pending',
            serials: [],
          };
        }
      }
      st.retryRuns += 1;
      for (const [k, chunk] of splitParts(ids, policy.maxPartSize).entries()) {
        await pausedGate();
        if (st.aborted) break;
        await runPart(
          wave,
          `retry-${st.retryRuns}${k > 0 ? `-part-${k + 1}` : ''}`,
          chunk,
          false,
          priors,
          true,
        );
      }
    }
  }

  /**
   * After an abort: compensates every failed or unconfirmed device of every wave so far that no
   * part compensated yet, in parts of at most `maxPartSize`, and records what each compensation
   * did or why it could not.
   */
  async function compensateFailed(): Promise<void> {
    const seeds: NonNullable<WavePartInput['compensateOnly']> = {};
    for (const d of Object.values(st.devices)) {
      if ((d.outcome !== 'failed' && d.outcome !== 'unconfirmed') || d.compensation !== undefined) continue;
      const undo = d.undo ?? { pinned: [], policiesRestored: true, upgradeCalls: 0 };
      seeds[d.smartAgId] = { ...undo, serials: d.serials, outcome: d.outcome };
    }
    const ids = Object.keys(seeds);
    if (ids.length === 0) return;
    audit('compensating', { detail: { devices: ids.length } });
    for (const [k, chunk] of splitParts(ids, policy.maxPartSize).entries()) {
      const workflowId = rolloutChildId(input.rolloutId, `compensate${k > 0 ? `-part-${k + 1}` : ''}`);
      activePart = workflowId;
      const part: Record<string, (typeof seeds)[string]> = {};
      for (const id of chunk) part[id] = seeds[id]!;
      const r = await executeChild(wavePartWorkflow, {
        workflowId,
        taskQueue: input.taskQueue,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [{ key: SA_ROLLOUT_ID, value: input.rolloutId }],
        args: [
          {
            rolloutId: input.rolloutId,
            parentWorkflowId: info.workflowId,
            wave: -1,
            part: k + 1,
            devices: chunk.map((id) => inventoryById[id]!),
            devicePolicy,
            pace: st.pace,
            budget: {
              limitPercent: 100,
              minFailures: 0,
              maxConsecutive: 0,
              zeroTolerance: false,
              failedBefore: 0,
              finishedBefore: 0,
              consecutiveBefore: 0,
            },
            expectedUpgradeMs: 0,
            offlineRetryDelayMs: 0,
            maxDeferrals: 0,
            windows: [],
            freezes: [],
            paused: false,
            excluded: [],
            taskQueue: input.taskQueue,
            compensateOnly: part,
          },
        ],
      });
      activePart = undefined;
      for (const d of r.devices) {
        const prev = st.devices[d.smartAgId];
        if (prev)
          st.devices[d.smartAgId] = {
            ...d,
            wave: prev.wave,
            errorCode: prev.errorCode,
            message: prev.message,
            phase: prev.phase,
            compensation: d.compensation ?? 'nothing-to-undo',
          };
      }
    }
  }

  const bakeMs = durationMs(policy.bake, 0);
  for (; st.currentWave < st.plan.length && !st.aborted; st.currentWave++, st.currentPart = 0) {
    const w = st.plan[st.currentWave]!;
    const ws = st.waves[w.index]!;
    const needsApproval =
      w.index > 0 && (policy.approval === 'each-wave' || (policy.approval === 'canary' && w.index === 1));
    if (needsApproval && !st.approvals[String(w.index)]) {
      audit('gate-waiting', { wave: w.index });
      await gateWait('approval', w.index);
      if (st.aborted) break;
    }
    ws.state = 'running';
    ws.startedAt ??= Date.now();
    // Each pass runs the next slice of the wave's still-pending devices, so a run that continued
    // as new picks up exactly where the previous one stopped. `currentPart` counts parts for names.
    const single = w.devices.length <= policy.maxPartSize;
    for (;;) {
      await pausedGate();
      if (st.aborted) break;
      const pending = w.devices.filter((id) => st.devices[id]?.outcome === 'pending');
      if (pending.length === 0) break;
      const slice = splitParts(pending, policy.maxPartSize)[0]!;
      st.currentPart++;
      const name = single ? `wave-${w.index}` : `wave-${w.index}-part-${st.currentPart}`;
      await runPart(w.index, name, slice, w.name === 'canary');
      await runRetries(w.index);
      // A part that returns with devices still pending was aborted; never loop on it.
      if (slice.every((id) => st.devices[id]?.outcome === 'pending')) break;
      if (
        workflowInfo().continueAsNewSuggested &&
        JSON.stringify({ ...input, carried: st }).length < CARRY_LIMIT_BYTES
      ) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof rolloutWorkflow>({ ...input, carried: st });
      }
    }
    if (st.aborted) break;
    if (bakeMs > 0 && w.index < st.plan.length - 1) {
      ws.state = 'baking';
      ws.bakeUntil = Date.now() + bakeMs;
      await gateWait('bake', w.index, ws.bakeUntil);
    }
    if (policy.healthRecheck && !st.aborted) {
      const upgraded = w.devices.filter((id) => st.devices[id]?.outcome === 'upgraded');
      let r: Awaited<ReturnType<typeof rolloutStep.recheckHealth>> | undefined;
      if (upgraded.length > 0) {
        try {
          r = await rolloutStep.recheckHealth({
            devices: upgraded.map((id) => ({
              smartAgId: id,
              regionId: st.devices[id]!.regionId,
              targetVersion: targetOf(id),
            })),
            versionType: policy.versionType,
          });
        } catch (err) {
          // A re-check that cannot run (Forbidden.RAM, credentials) must not fail the rollout:
          // halt and say why, like any other rollout-class failure.
          const f = classify(err, policy.errorOverrides);
          st.haltReason = `${f.code} in the health re-check after wave ${w.index}: ${f.policy.class === 'rollout' ? "the rollout's credentials or permissions are wrong" : f.message}`;
          audit('health-recheck-failed', { wave: w.index, reason: st.haltReason, detail: { code: f.code } });
          if (f.policy.class === 'rollout') st.haltCredentials = true;
          st.paused = true;
          setState('paused');
          notify('halted', { reason: st.haltReason, wave: w.index });
        }
      }
      if (r && r.unhealthy.length > 0) {
        // Each unhealthy device turns a success into a failure, in the same budget as the wave's.
        let count: BudgetCount = { ...st.budget };
        for (const u of r.unhealthy) {
          const d = st.devices[u.smartAgId]!;
          d.outcome = 'failed';
          d.phase = 'verify';
          d.errorCode = 'HealthRecheckFailed';
          d.message = u.reason;
          count = {
            failed: count.failed + 1,
            finished: Math.max(count.finished, count.failed + 1),
            consecutive: count.consecutive + 1,
          };
        }
        const fb = policy.failureBudget;
        const rules = {
          limitPercent: fb.maxFailurePercent,
          minFailures: fb.minFailures,
          maxConsecutive: fb.maxConsecutiveFailures,
          zeroTolerance: w.name === 'canary',
        };
        const last = r.unhealthy[r.unhealthy.length - 1]!;
        const verdict = evaluateBudget(count, rules, {
          smartAgId: last.smartAgId,
          code: 'HealthRecheckFailed',
        });
        // Before the canary's zero tolerance and the consecutive rule counted here, only the share did.
        const before =
          st.budget.failed + r.unhealthy.length >= fb.minFailures &&
          (st.budget.finished > 0
            ? ((st.budget.failed + r.unhealthy.length) / st.budget.finished) * 100
            : 100) > fb.maxFailurePercent;
        const breached =
          verdict.breached === before || patched('recheck-by-budget-rules') ? verdict.breached : before;
        if (verdict.breached === before) st.budget.failed += r.unhealthy.length;
        else st.budget = count;
        audit('health-recheck-failed', { wave: w.index, detail: { devices: r.unhealthy.length } });
        if (breached) {
          st.haltReason = `health re-check after wave ${w.index}: ${r.unhealthy.length} devices unhealthy${verdict.breached ? ` (${verdict.reason})` : ''}`;
          st.breaches = (st.breaches ?? 0) + 1;
          audit('halted', { wave: w.index, reason: st.haltReason, detail: { code: 'HealthRecheckFailed' } });
          if (fb.onBreach === 'abort' && patched('recheck-breach-aborts')) {
            st.aborted = true;
            st.abortCompensate = true;
          } else {
            st.paused = true;
            setState('paused');
          }
          notify('halted', { reason: st.haltReason, wave: w.index });
        }
      }
    }
    ws.state = 'done';
    ws.finishedAt = Date.now();
    audit('wave-done', { wave: w.index });
    notify('wave-done', { wave: w.index, name: w.name });
    await pausedGate();
  }

  await runRetries(st.currentWave - 1);
  // An abort compensates every failed device so far, whatever state the rollout was in.
  if (st.aborted && st.abortCompensate && patched('abort-compensates-all')) {
    setState('aborting');
    await compensateFailed();
  }
  st.finishedAt = Date.now();
  setState(st.aborted ? 'aborted' : 'completed');
  audit(st.aborted ? 'aborted' : 'completed');
  await notifyClosing(st.aborted ? 'aborted' : 'completed', { devices: Object.keys(st.devices).length });
  let reportFiles: string[] | undefined;
  try {
    reportFiles = (
      await rolloutStep.exportReport({ rolloutId: input.rolloutId, workflowId: info.workflowId })
    ).files;
  } catch {
    audit('report-export-failed');
  }
  await condition(allHandlersFinished);
  return {
    rolloutId: input.rolloutId,
    state: st.state,
    total: Object.keys(st.devices).length,
    counts: counts(),
    haltReason: st.haltReason,
    reportFiles,
  };

  /** The version a device was taken to (per-model targets differ), for the health re-check. */
  function targetOf(id: string): string {
    return st.devices[id]?.serials.find((s) => s.to)?.to ?? policy.targetVersion;
  }
}

/** Update validators run synchronously and only check shape; refusals on state are answered by the handler and audited. */
function validateCommand(cmd: OperatorCommand): void {
  if (!cmd || typeof cmd.by !== 'string' || cmd.by.trim() === '')
    throw new Error('the command must say who sends it (by)');
  if (typeof cmd.requestId !== 'string' || cmd.requestId === '')
    throw new Error('the command needs a requestId');
}
