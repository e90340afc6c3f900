import { estimateEnd } from '../../domain/eta';
import { ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import type { CommandResult, DevicesPage, DevicesPageQuery } from '../messages';
import { durationMs } from '../durations';
import { SA_ROLLOUT_STATE } from '../search-attributes';
import { budgetFigure } from '../../domain/budget';
import { countOutcomes } from '../../domain/counts';
import type { PartShare } from '../../domain/overlap';
import { pendingStatus } from '../../domain/device-status';
import { planWaves, type PlannedWave } from '../../domain/plan';
import type {
  AuditEntry,
  DeviceStatus,
  DeviceHealthPolicy,
  DeviceUpgradePolicy,
  HealthPolicy,
  InventoryDevice,
  RolloutInput,
  RolloutPolicy,
  RolloutProgress,
  RolloutState,
  WaveProgress,
} from '../../domain/types';

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
  /**
   * Whether the halt is a breach of the failure budget (false: a wave query or a re-check that
   * could not run). Absent from rollouts that halted before it was recorded: a halt not on
   * credentials counts as a breach there.
   */
  haltBudget?: boolean;
  /**
   * Devices an exclusion handed to the running part (by SmartAGId, with its reason): any that part
   * returns still pending is excluded when it ends, even if the signal missed it.
   */
  excludeAsked?: Record<string, string | undefined>;
  /** How often the failure budget started afresh after a breach (overlapping parts tell their counts apart by it). */
  budgetEpoch?: number;
  /**
   * Overlapping parts: the count that decided the halt, shown beside its reason while `budget`
   * goes on adding up what the parts count.
   */
  haltCount?: { failed: number; finished: number; consecutive: number };
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

/** A new rollout's state: every device pending in the wave the plan puts it in. */
export function initialState(input: RolloutInput): RolloutCarried {
  const { policy } = input;
  const plan = planWaves(input.inventory, policy);
  const waveOf: Record<string, number> = {};
  for (const w of plan) for (const id of w.devices) waveOf[id] = w.index;
  const devices: Record<string, DeviceStatus> = {};
  for (const d of input.inventory)
    devices[d.smartAgId] = pendingStatus({ ...d, wave: waveOf[d.smartAgId] ?? -1 });
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

/** What a device workflow needs of the rollout policy, durations in ms. */
function devicePolicyOf(policy: RolloutPolicy): DeviceUpgradePolicy {
  return {
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
    ...(policy.health ? { health: deviceHealthOf(policy.health) } : {}),
  };
}

/** The health analysis as a device workflow runs it, durations in ms. */
function deviceHealthOf(h: HealthPolicy): DeviceHealthPolicy {
  return {
    links: h.links,
    ha: h.ha,
    controller: h.controller,
    diagnosis: h.diagnosis,
    features: h.features,
    ...(h.grace !== undefined ? { graceMs: durationMs(h.grace, 60_000) } : {}),
    probes: h.probes.map((p) => ({
      name: p.name,
      url: p.url,
      method: p.method,
      expectStatus: p.expectStatus,
      ...(p.bodyRegex !== undefined ? { bodyRegex: p.bodyRegex } : {}),
      ...(p.jsonPath !== undefined ? { jsonPath: p.jsonPath } : {}),
      ...(p.equals !== undefined ? { equals: p.equals } : {}),
      timeoutMs: durationMs(p.timeout, 10_000),
      intervalMs: durationMs(p.interval, 10_000),
      successes: p.successes,
      failureLimit: p.failureLimit,
    })),
  };
}

/**
 * A rollout's run: the state it carries across continue-as-new (`st`), what it derives from its
 * input, and the part running now. The state's transitions that handlers and the wave loop share
 * are its methods.
 */
export class Rollout {
  readonly st: RolloutCarried;
  readonly policy: RolloutPolicy;
  readonly devicePolicy: DeviceUpgradePolicy;
  readonly inventoryById: Record<string, InventoryDevice> = {};
  /** Workflow ID of the wave part running now (with `overlapParts`, the one started last). */
  activePart: string | undefined;
  /**
   * With `overlapParts`, every running part of the wave by workflow ID and the slots it holds.
   * Empty whenever the rollout may continue as new, so it is never carried.
   */
  readonly shares = new Map<string, PartShare>();
  /** With `overlapParts`, running parts that decided a halt the rollout has not heard in full yet. */
  readonly halting = new Set<string>();
  /** How often a part puts an offline device back before it fails (set as the run starts). */
  maxDeferrals = 1;

  /**
   * @throws ApplicationFailure `TicketRequired` when the policy requires a change ticket and none
   * was given; `InvalidPolicy` on a malformed duration.
   */
  constructor(
    readonly input: RolloutInput,
    readonly workflowId: string,
  ) {
    this.policy = input.policy;
    this.st = (input.carried as RolloutCarried | undefined) ?? initialState(input);
    if (this.policy.requireTicket && !input.ticket) {
      throw ApplicationFailure.nonRetryable(
        'the policy requires a change ticket and none was given',
        'TicketRequired',
      );
    }
    this.devicePolicy = devicePolicyOf(this.policy);
    for (const d of input.inventory) this.inventoryById[d.smartAgId] = d;
  }

  audit(kind: string, e: Omit<AuditEntry, 'seq' | 'at' | 'kind'> = {}): void {
    this.st.audit.push({ seq: this.st.audit.length + 1, at: Date.now(), kind, ...e });
  }

  /** Sets the state; a change is also the `SagRolloutState` search attribute. */
  setState(s: RolloutState): void {
    if (this.st.state === s) return;
    this.st.state = s;
    upsertSearchAttributes([{ key: SA_ROLLOUT_STATE, value: s }]);
  }

  closed(): boolean {
    const { state } = this.st;
    return state === 'completed' || state === 'aborted' || state === 'failed';
  }

  /** Aborted by the rollout itself (a part that failed or aborted, a breach): failed devices are compensated. */
  abortWithCompensation(): void {
    this.st.aborted = true;
    this.st.abortCompensate = true;
  }

  /** Halted: the rollout waits for an operator's resume. */
  pauseForOperator(): void {
    this.st.paused = true;
    this.setState('paused');
  }

  counts(): RolloutProgress['counts'] {
    return countOutcomes(Object.values(this.st.devices));
  }

  /** The input of the next run when the rollout continues as new. */
  continuation(): RolloutInput {
    return { ...this.input, carried: this.st };
  }

  progress(): RolloutProgress {
    const { st, policy, input } = this;
    const waves: WaveProgress[] = st.waves.map((w) => ({
      ...w,
      counts: countOutcomes(
        (st.plan[w.index]?.devices ?? []).flatMap((id) => (st.devices[id] ? [st.devices[id]] : [])),
      ),
    }));
    const c = this.counts();
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
      failureBudget: budgetFigure(st.haltCount ?? st.budget, policy.failureBudget, {
        // A halt on credentials or permissions is no breach of the budget.
        breached: st.haltReason !== undefined && (st.haltBudget ?? !st.haltCredentials),
        breaches: st.breaches ?? 0,
      }),
      pace: st.pace,
      haltReason: st.haltReason,
      eta: estimateEnd(c, st.startedAt, Date.now()),
      activePart: this.activePart,
      ...(this.shares.size > 0 ? { activeParts: [...this.shares.keys()] } : {}),
    };
  }

  devicesPage(q: DevicesPageQuery): DevicesPage {
    const all = Object.values(this.st.devices).filter((d) => !q.outcome || d.outcome === q.outcome);
    const offset = q.offset ?? 0;
    return { total: all.length, offset, devices: all.slice(offset, offset + (q.limit ?? 1000)) };
  }

  auditSince(since: number | undefined): AuditEntry[] {
    return this.st.audit.filter((e) => e.seq > (since ?? 0));
  }

  result(reportFiles: string[] | undefined): RolloutResult {
    return {
      rolloutId: this.input.rolloutId,
      state: this.st.state,
      total: Object.keys(this.st.devices).length,
      counts: this.counts(),
      haltReason: this.st.haltReason,
      reportFiles,
    };
  }
}
