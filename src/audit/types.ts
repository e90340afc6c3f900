import type { WorkflowExecutionStatusName } from '@temporalio/client';
import type {
  AuditEntry,
  CompensationReport,
  DeviceStatus,
  InventoryDevice,
  RolloutPolicy,
  RolloutProgress,
  WaveProgress,
} from '../../domain/types';

/** One smartag API call as the report lists it, expanded from a history's compact `CallRecord`. */
export interface ReportCall {
  /** Start of the call, ms since epoch. */
  t: number;
  /** Duration in ms. */
  ms: number;
  action: string;
  /** The instance the call was made for; absent for bulk calls of the rollout itself (health re-check). */
  smartAgId?: string;
  serialNumber?: string;
  /** Alibaba's RequestId, on success and on error. */
  requestId?: string;
  /** Error code; absent on success. */
  code?: string;
  /** HTTP status of an error response. */
  httpStatus?: number;
  /** The workflow whose history recorded the call. */
  workflowId: string;
  runId: string;
}

/** One device workflow run of the rollout (`upgrade/<SmartAGId>`, mode upgrade or compensate). */
export interface DeviceRun {
  workflowId: string;
  runId: string;
  mode: 'upgrade' | 'compensate' | 'unknown';
  status: WorkflowExecutionStatusName;
  startedAt: number;
  closedAt?: number;
  /** Calls found in the run's history. */
  calls: number;
  /** The call count the workflow itself reported in its result, when it closed. */
  reportedCalls?: number;
  outcome?: string;
  errorCode?: string;
  compensation?: CompensationReport;
}

/** One device of the report: its status in the rollout plus the runs that touched it. */
export interface ReportDevice extends DeviceStatus {
  runs: DeviceRun[];
  /** Not-reversible serial numbers reported by compensation, with Alibaba's RequestId. */
  notReversible?: CompensationReport['notReversible'];
}

/** A wave of the plan with the devices it holds. */
export interface ReportWave extends WaveProgress {
  devices: string[];
}

/** Failures grouped by code. */
export interface FailureGroup {
  code: string;
  phases: string[];
  count: number;
  devices: string[];
}

/**
 * Everything a rollout's report holds, gathered from the rollout's queries and from the
 * histories of its workflows. JSON-native.
 */
export interface ReportData {
  rolloutId: string;
  workflowId: string;
  generatedAt: number;
  progress: RolloutProgress;
  /** The rollout's policy as its workflow input recorded it (absent if the history is gone). */
  policy?: RolloutPolicy;
  inventory?: InventoryDevice[];
  /** Status of the rollout workflow's latest run. */
  workflowStatus?: WorkflowExecutionStatusName;
  waves: ReportWave[];
  audit: AuditEntry[];
  devices: ReportDevice[];
  calls: ReportCall[];
  failures: FailureGroup[];
  /** The rollout this one retries, when `retry-failed` started it as a follow-up. */
  followUpOf?: string;
  /** Follow-up rollouts of this one, oldest first, as visibility lists them. */
  followUps?: string[];
  /** Things the report could not establish (a history that could not be read, visibility lag). */
  warnings: string[];
}

/** The output formats of {@link renderReport}. */
export type ReportFormat = 'jsonl' | 'csv' | 'html';
