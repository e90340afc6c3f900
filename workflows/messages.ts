import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AuditEntry, DeviceStatus, DeviceStatusOutcome, RolloutProgress } from '../domain/types';

/**
 * Every signal, query and update of the workflows. The name strings are a wire protocol shared
 * with running workflows, the CLI and the dashboard: never rename them.
 */

/** Who asks, why, and an idempotency key: repeating a command with the same key changes nothing. */
export interface OperatorCommand {
  /** The display name (`--operator`, the dashboard operator's name). */
  by: string;
  /**
   * Who sent it as the sender authenticated it: `cert:<subject>` (the Temporal client
   * certificate) or `os:<user>@<host>` from the CLI (`os:<user>(uid 0)@<host>` for a uid-0 account
   * not named root), `dashboard:<operator>` (a per-operator token) or `sso:<user>` (the trusted
   * proxy's header) from the dashboard. `approverMustDiffer` compares these when the command and the
   * rollout's start both carry one, and refuses a shared OS account (root, Administrator, uid 0).
   */
  identity?: string;
  reason?: string;
  /** Idempotency key; the CLI sends a fresh UUID per invocation unless told otherwise. */
  requestId: string;
}

export interface AbortCommand extends OperatorCommand {
  /** Compensate the batch in flight (restore policies, repair split HA pairs). Default true. */
  compensate?: boolean;
}

export interface ApproveCommand extends OperatorCommand {
  /** The wave whose gate this approves; omitted approves the gate that is waiting. */
  wave?: number;
}

export interface ExcludeCommand extends OperatorCommand {
  smartAgIds: string[];
}

export interface PaceCommand extends OperatorCommand {
  concurrency?: number;
  maxPerMinute?: number;
}

/** What an operator command answers. A refused command says why and is audited too. */
export interface CommandResult {
  accepted: boolean;
  /** True when the same requestId was seen before: nothing changed this time. */
  duplicate: boolean;
  state: RolloutProgress['state'];
  message: string;
}

export interface DevicesPageQuery {
  offset?: number;
  limit?: number;
  outcome?: DeviceStatusOutcome;
}

export interface DevicesPage {
  total: number;
  offset: number;
  devices: DeviceStatus[];
}

// Signals: stored by the server, so they work even while no worker runs.
export const pauseSignal = defineSignal<[OperatorCommand]>('pause');
export const abortSignal = defineSignal<[AbortCommand]>('abort');

// Updates: the operator gets an answer (needs a live worker).
export const pauseUpdate = defineUpdate<CommandResult, [OperatorCommand]>('pauseRollout');
export const resumeUpdate = defineUpdate<CommandResult, [OperatorCommand]>('resumeRollout');
export const abortUpdate = defineUpdate<CommandResult, [AbortCommand]>('abortRollout');
export const approveUpdate = defineUpdate<CommandResult, [ApproveCommand]>('approveWave');
export const promoteUpdate = defineUpdate<CommandResult, [OperatorCommand]>('promoteWave');
export const excludeUpdate = defineUpdate<CommandResult, [ExcludeCommand]>('excludeDevices');
export const retryFailedUpdate = defineUpdate<CommandResult, [OperatorCommand]>('retryFailed');
export const setPaceUpdate = defineUpdate<CommandResult, [PaceCommand]>('setPace');

// Queries.
export const progressQuery = defineQuery<RolloutProgress>('progress');
export const devicesQuery = defineQuery<DevicesPage, [DevicesPageQuery]>('devices');
export const auditQuery = defineQuery<AuditEntry[], [number]>('audit');

/** Where a device workflow is: for the CLI's and dashboard's live view of a device. */
export interface DeviceProgress {
  smartAgId: string;
  phase: import('../domain/types').DevicePhase | 'done';
  serialNumber?: string;
  sends: number;
}
export const deviceProgressQuery = defineQuery<DeviceProgress>('deviceProgress');

/** Rollout → wave part: operator controls forwarded, applied in order of `seq`. */
export type PartControl =
  | { kind: 'pause'; forHalt?: boolean }
  | { kind: 'resume'; fresh?: boolean; epoch?: number }
  | { kind: 'abort'; compensate: boolean }
  | { kind: 'exclude'; smartAgIds: string[] }
  | { kind: 'pace'; concurrency?: number; maxPerMinute?: number }
  | PartShareControl;
export const partControlSignal = defineSignal<[PartControl & { seq: number }]>('partControl');

/**
 * Rollout → overlapping wave part (`overlapParts`): what the other running parts counted in the
 * failure budget (in budget epoch `epoch`) and, while the part still starts devices, the slots
 * it may hold. Absolute figures: a newer one replaces an older one.
 */
export interface PartShareControl {
  kind: 'share';
  epoch: number;
  others?: { failed: number; finished: number };
  concurrency?: number;
  /** A part decided a halt the rollout has not heard in full yet: the count decides no other. */
  halting?: boolean;
}

/**
 * Overlapping wave part → rollout: its own budget count in budget epoch `epoch`, when one of its
 * devices failed or it gave slots back; `draining`: it has nothing left to start and now holds
 * `holds` slots.
 */
export interface PartShareReport {
  workflowId: string;
  draining?: boolean;
  /** The part decided a halt: the others stop starting devices until the halt is resolved. */
  halting?: boolean;
  holds: number;
  own: { failed: number; finished: number; consecutive: number };
  epoch: number;
}
export const partShareSignal = defineSignal<[PartShareReport]>('partShare');

/** Wave part → rollout: the part halted (failure budget or a rollout-class error). */
export interface PartHalted {
  wave: number;
  part: number;
  reason: string;
  code?: string;
  /** The credentials or permissions failed: no budget breach, nothing compensated. */
  credentials?: boolean;
  /** The part's devices after in-flight upgrades and compensation (pending ones: not started, or interrupted). */
  devices: import('../domain/types').DeviceStatus[];
  /** The budget count that decided the halt (absent from parts that ran before it existed). */
  budget?: { failed: number; finished: number; consecutive: number };
  /** Overlapping parts: the part's workflow ID, its own count and budget epoch (see `PartShareReport`). */
  workflowId?: string;
  own?: { failed: number; finished: number; consecutive: number; epoch: number };
}
export const partHaltedSignal = defineSignal<[PartHalted]>('partHalted');

export interface PartProgress {
  wave: number;
  part: number;
  total: number;
  started: number;
  inFlight: number;
  counts: import('../domain/types').OutcomeCounts;
  state: 'running' | 'paused' | 'halted' | 'waiting-window' | 'draining' | 'compensating' | 'done';
  nextWindowAt?: number;
  /** The zone the policy's change windows are written in, when they share one. */
  windowZone?: string;
  failed: number;
  finished: number;
  consecutive: number;
  /**
   * The rollout's failure budget as this part counts it, updated as each device finishes: the
   * count its halt decisions evaluate (absent from parts that ran before it existed).
   */
  budget?: { failed: number; finished: number; consecutive: number };
  /** Why the part halted, from the moment it decided to (the rollout hears it once in-flight devices finished). */
  halted?: { reason: string; credentials?: boolean };
}
export const partProgressQuery = defineQuery<PartProgress>('partProgress');
