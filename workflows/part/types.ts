import type {
  ChangeWindow,
  DeviceStatus,
  DeviceUndo,
  DeviceUpgradePolicy,
  FreezePeriod,
  InventoryDevice,
  PriorRecord,
} from '../../domain/types';

export interface PartBudget {
  limitPercent: number;
  minFailures: number;
  maxConsecutive: number;
  /** The canary tolerates no failure. */
  zeroTolerance: boolean;
  failedBefore: number;
  finishedBefore: number;
  consecutiveBefore: number;
  /** Overlapping parts: how often the rollout's budget started afresh before this part. */
  epoch?: number;
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
  /**
   * The wave's parts overlap (`overlapParts`): once nothing is left to start, the part gives back
   * its free slots `step` at a time (see domain/overlap.ts).
   */
  overlap?: { step: number };
}

export interface WavePartResult {
  wave: number;
  part: number;
  devices: DeviceStatus[];
  /** Why the part halted; `budget`: the count that decided a halt that was not on credentials. */
  halted?: {
    reason: string;
    code?: string;
    credentials?: boolean;
    budget?: { failed: number; finished: number; consecutive: number };
  };
  aborted: boolean;
  failed: number;
  finished: number;
  consecutive: number;
  /**
   * The rollout's budget count as the part ended (see `PartState.budget`); absent from parts that
   * ran before it existed and from compensation parts.
   */
  budget?: { failed: number; finished: number; consecutive: number };
  /** Overlapping parts: the budget epoch `failed`/`finished`/`consecutive` were counted in. */
  epoch?: number;
}
