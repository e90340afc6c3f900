/**
 * Domain types shared by the workflows, the activities, the CLI and the config schemas. Everything
 * here is JSON-native (records, arrays, strings, numbers) because it crosses Temporal's payload
 * boundary and lives in workflow state.
 */
import type { HealthChecks, HealthFinding, HealthReading } from './health';
import type { ProbeSpec } from './probe';

export type VersionType = 'Device' | 'Dpi';

/** A duration in Temporal's string form: `30s`, `10m`, `2h`, `1d`, or milliseconds as a number. */
export type Duration = string | number;

export type ErrorClass = 'device' | 'service' | 'rollout';
export type Persistence = 'transient' | 'permanent';
/** What the rollout does with a device whose step failed with a given code. */
export type FailureAction = 'retry' | 'defer' | 'skip' | 'fail' | 'halt';

/** One row of the error policy: how an Alibaba `Code` is treated. */
export interface CodePolicy {
  class: ErrorClass;
  persistence: Persistence;
  action: FailureAction;
  /** Backoff for transient codes. */
  initialInterval?: Duration;
  maximumInterval?: Duration;
  backoffCoefficient?: number;
  maximumAttempts?: number;
}

/** A rollout policy may override any field of any code's row. */
export type CodeOverrides = Record<string, Partial<CodePolicy>>;

/** One SAG instance of the inventory. */
export interface InventoryDevice {
  smartAgId: string;
  regionId: string;
  /** Expected serial numbers; verified against the service at inspect. */
  serialNumbers?: string[];
  group?: string;
  tags?: string[];
}

/** Chooses devices for a window, a freeze, a cap or a canary. Empty means every device. */
export interface DeviceSelector {
  regions?: string[];
  groups?: string[];
  tags?: string[];
  devices?: string[];
}

export type ChangeWindow =
  | {
      kind: 'recurring';
      /** 5-field cron, or Alibaba's 6-field Quartz form (`0 0 4 1/1 * ?`). */
      cron: string;
      duration: Duration;
      /** IANA zone, e.g. `Asia/Shanghai`. */
      timeZone: string;
      appliesTo?: DeviceSelector;
      name?: string;
    }
  | { kind: 'once'; start: string; end: string; appliesTo?: DeviceSelector; name?: string };

export interface FreezePeriod {
  start: string;
  end: string;
  appliesTo?: DeviceSelector;
  reason?: string;
}

/** A window instant range computed by an activity (ms since epoch), recorded in history. */
export interface WindowInstant {
  start: number;
  end: number;
  /** Index into the policy's windows, or -1 for "always open" (no windows configured). */
  window: number;
}

/**
 * A webhook of a policy, by name: the worker that delivers resolves the name to a URL and headers
 * from its own configuration, so no URL (chat URLs carry their token) enters a workflow input or
 * history.
 */
export interface WebhookTarget {
  /** The webhook's name in the worker's configuration (`SAG_WEBHOOK_<NAME>_URL`, `--webhooks FILE`). */
  name?: string;
  /**
   * Only in rollouts started before webhooks were named: the URL itself, delivered to as it is.
   * New policies refuse it.
   */
  url?: string;
  format: 'json' | 'chat';
  /** Event names to send; empty sends all. */
  events?: string[];
}

/** A policy's health analysis as written (durations as in the file). */
export interface HealthPolicy {
  links: boolean;
  ha: boolean;
  controller: boolean;
  diagnosis: boolean;
  features: string[];
  /**
   * After the version check passed, how long a link, the HA link backup or the controller
   * connection may take to come back before it counts as worse (absent in policies of older builds).
   */
  grace?: Duration;
  probes: ProbePolicy[];
  /** Asked after each wave's bake; a breach halts the rollout. */
  waveQuery?: {
    name: string;
    url: string;
    jsonPath?: string;
    max?: number;
    min?: number;
    timeout: Duration;
  };
}

export interface ProbePolicy {
  name: string;
  url: string;
  method: 'GET' | 'POST' | 'HEAD';
  expectStatus: number;
  bodyRegex?: string;
  jsonPath?: string;
  equals?: string;
  timeout: Duration;
  interval: Duration;
  successes: number;
  failureLimit: number;
}

export interface RolloutPolicy {
  /** Health analysis after each upgrade, and a query after each wave's bake (absent: none). */
  health?: HealthPolicy;
  targetVersion: string;
  versionType: VersionType;
  /** A different target per hardware model (`HardwareVersion`), e.g. `{ "sag-100wm": "2.4.1.0" }`. */
  targetsByModel?: Record<string, string>;
  allowBeta: boolean;
  canary: { count?: number; percent?: number; devices?: string[]; group?: string };
  /** Cumulative shares of the inventory after the canary, ending at 100 (`[10, 50, 100]`), or fixed sizes. */
  waves: { cumulativePercents?: number[]; sizes?: number[] };
  /** Largest slice of a wave one child workflow runs (Temporal history and pending-child limits). */
  maxPartSize: number;
  /**
   * A wave's next part starts while the previous one's last devices are still watched, on the
   * slots they free (see domain/overlap.ts). Absent or false: parts run one after another.
   */
  overlapParts?: boolean;
  /** Devices in flight at once across the rollout. */
  concurrency: number;
  /** Devices started per minute (AWS IoT Jobs' maximumPerMinute). */
  maxPerMinute?: number;
  caps?: { perRegion?: Record<string, number>; perGroup?: Record<string, number> };
  failureBudget: {
    /** Breach when failures exceed this share of devices finished... */
    maxFailurePercent: number;
    /** ...and at least this many devices failed. */
    minFailures: number;
    /** Breach on this many failures in a row (0 disables). */
    maxConsecutiveFailures: number;
    onBreach: 'pause' | 'abort';
  };
  bake: Duration;
  /** Re-inspect a wave's devices after the bake; a device no longer healthy counts as failed. */
  healthRecheck: boolean;
  approval: 'none' | 'canary' | 'each-wave';
  approverMustDiffer: boolean;
  verify: { timeout: Duration; pollInterval: Duration; consecutivePolls: number };
  /**
   * After an upgrade call whose answer proves nothing (a 5xx, a timeout, a reset), watch the device
   * this long for a sign that the upgrade started; at least the documented upgrade time.
   */
  upgradeSettle: Duration;
  /**
   * No sign after the settle: report the device `unconfirmed` and send nothing more (default), or
   * send the upgrade again (`resend`, as often as the failure's code is retried).
   */
  noSignAfterSettle: 'unconfirmed' | 'resend';
  /** Expected time of one upgrade; a device starts only with this much window left. */
  expectedUpgradeTime: Duration;
  /** Delay before retrying a device deferred because it was offline. */
  offlineRetryDelay: Duration;
  compensation: { repairHaPairs: boolean; requestPreviousVersion: boolean };
  /** Restore each device's auto-upgrade policy when the rollout is done with it, or leave it manual. */
  autoUpgradeAfter: 'restore' | 'manual';
  windows: ChangeWindow[];
  freezes: FreezePeriod[];
  /** ISO instant after which no device starts. */
  deadline?: string;
  requireTicket: boolean;
  errorOverrides: CodeOverrides;
  webhooks: WebhookTarget[];
  /** How the rollout spends the account's API budget (absent: every device polls on its own, unpaced). */
  apiBudget?: ApiBudget;
}

/**
 * The account's API budget and the levers that spend less of it. Every field is optional; a
 * rollout without the block runs as before the block existed.
 */
export interface ApiBudget {
  /** The account's requests per second: devices start only as fast as their expected calls fit in it. */
  requestsPerSecond?: number;
  /** The calls one device is expected to cost, for that pacing (default 8). */
  callsPerDevice?: number;
  /** No status polls this long after an accepted upgrade call (the expected download and flash). */
  firstPollAfter?: Duration;
  /**
   * Status polls of single devices share `DescribeSmartAccessGateways` pages of up to 50 ids, and
   * `StartupTime` is read again only until the restart showed (not with a health analysis).
   */
  bulkStatus?: boolean;
  /**
   * `DescribeSmartAccessGatewayVersions` is read once per region, hardware model and version type
   * when the first answers agree; a device of a key whose answers differed reads its own.
   */
  shareVersions?: boolean;
}

/** What a device run takes of {@link ApiBudget}, durations in ms. */
export interface DeviceReads {
  firstPollAfterMs?: number;
  bulkStatus?: boolean;
  shareVersions?: boolean;
  /** The rollout the shared versions belong to. */
  shareKey?: string;
}

export type DevicePhase =
  'inspect' | 'preflight' | 'pin' | 'upgrade' | 'verify' | 'health' | 'restore' | 'compensate';

/** Per serial number: where it started and where it ended. */
export interface SerialVersions {
  serialNumber: string;
  role?: string;
  from: string;
  to?: string;
}

/**
 * `unconfirmed`: an upgrade call was answered ambiguously and the device showed no sign within the
 * settle; nothing more was sent, and the send may still be in progress.
 * `interrupted`: the rollout's credentials or permissions failed while the device was in flight;
 * not the device's failure: it is inspected again when the rollout resumes.
 */
export type DeviceOutcome = 'upgraded' | 'skipped' | 'failed' | 'deferred' | 'unconfirmed' | 'interrupted';

/**
 * An upgrade call whose effect was never seen to end: accepted (or answered ambiguously) and
 * then neither verified on the target nor seen to revert. While one is open for a serial number,
 * no run of `upgrade/<SmartAGId>` sends to it again without a sign or the policy's explicit
 * `noSignAfterSettle: resend` after a full settle.
 */
export interface OpenSend {
  serialNumber: string;
  version: string;
  /** What the serial number ran before the call. */
  fromVersion?: string;
  versionType: VersionType;
  /** When the call was scheduled, ms since epoch. */
  at: number;
  /** Alibaba answered with success (true) or the answer proved nothing (false). */
  accepted: boolean;
  requestId?: string;
  /** The rollout that sent it. */
  rolloutId?: string;
  /**
   * The device was seen to restart and come back on its old version: this attempt ended. Kept so
   * that the same rollout never sends that version to the serial number again (HA repair, retries);
   * another rollout may, as a deliberate new attempt.
   */
  reverted?: boolean;
  /**
   * The device's health before the call, when the rollout analyses health: a later run that
   * finishes this upgrade (after a halt, a crash) compares with it.
   */
  baseline?: HealthReading;
  /**
   * Seen on the target by the version check; only its health analysis is open (interrupted, or
   * failed): it is not in progress and blocks nothing, and a later run of the same target finishes
   * it (verifies and analyses again against `baseline`) instead of skipping the device.
   */
  verified?: boolean;
}

/** What a run of `upgrade/<SmartAGId>` learns from the runs before it. */
export interface PriorRecord {
  openSends: OpenSend[];
  /** Policies as found before an earlier run pinned them, when that run could not restore them. */
  pinned?: PinnedPolicy[];
  /** The earlier run this comes from. */
  runId?: string;
}

export interface DeviceUpgradeResult {
  smartAgId: string;
  outcome: DeviceOutcome;
  /** Why a device was skipped (`AlreadyOnTarget`, `NotBoundCCN`, ...) or failed (the Alibaba code). */
  errorCode?: string;
  errorClass?: ErrorClass;
  phase?: DevicePhase;
  message?: string;
  serials: SerialVersions[];
  requestIds: string[];
  /** Policies as found before the rollout pinned them to manual; used by restore and compensation. */
  pinned: PinnedPolicy[];
  /** Whether the auto-upgrade policies were put back. */
  policiesRestored: boolean;
  upgradeCalls: number;
  apiCalls: number;
  startedAt: number;
  finishedAt: number;
  /** Set by a `compensate` run. */
  compensation?: CompensationReport;
  /** Upgrade calls whose effect was never seen to end, this run's and those carried from earlier runs. */
  openSends?: OpenSend[];
  /** The health analysis after the version check: what got worse, what was already so, each probe. */
  health?: DeviceHealthResult;
}

/** What the health analysis of one device found. */
export interface DeviceHealthResult {
  regressions: HealthFinding[];
  notes: HealthFinding[];
  probes: { name: string; passed: boolean; evidence: string }[];
}

export interface PinnedPolicy {
  serialNumber: string;
  versionType: VersionType;
  upgradeType: 'scheduled' | 'boot' | 'manual';
  cronExpression?: string;
  duration?: number;
  timeZone?: string;
  /** Modify cannot set Jitter: recorded so the report can say what a restore could not bring back. */
  jitter?: string;
}

/** Everything a rollout decides from arrives here, so it is all in history. No secret belongs here. */
export interface RolloutInput {
  rolloutId: string;
  inventory: InventoryDevice[];
  policy: RolloutPolicy;
  /** Who started it (the display name) and under which change ticket. */
  operator: string;
  /** Who started it as authenticated (see `OperatorCommand.identity`); absent from older starts. */
  operatorIdentity?: string;
  /**
   * Started under the rule that `approverMustDiffer` refuses a starter known only as a shared OS
   * account (root, Administrator, uid 0); rollouts started before it keep an approvable starter.
   */
  sharedAccountRule?: boolean;
  ticket?: string;
  /** Task queue for the children (defaults to the rollout's own). */
  taskQueue?: string;
  /**
   * The rollout this one retries (`sag-rollout retry-failed` on a closed rollout): its failed,
   * unconfirmed and compensated devices, under its policy.
   */
  followUpOf?: string;
  /** Set by continue-as-new: the state carried into the next run. */
  carried?: unknown;
}

/** Rollout states of the `status --json` contract. */
export type RolloutState =
  | 'running'
  | 'paused'
  | 'waiting-approval'
  | 'waiting-window'
  /** Aborted: devices in flight finish, then failed devices are compensated, then it closes. */
  | 'aborting'
  | 'completed'
  | 'aborted'
  | 'failed';

/** Device outcomes of the `status --json` contract. */
export type DeviceStatusOutcome =
  'pending' | 'in-progress' | 'upgraded' | 'skipped' | 'failed' | 'excluded' | 'compensated' | 'unconfirmed';

export type OutcomeCounts = Record<DeviceStatusOutcome, number>;

export interface DeviceStatus {
  smartAgId: string;
  regionId: string;
  wave: number;
  outcome: DeviceStatusOutcome;
  serials: SerialVersions[];
  phase?: DevicePhase;
  errorCode?: string;
  message?: string;
  /**
   * What compensation did (`policy-restored`, `ha-repaired:…`, `not-reversible:…`), or
   * `compensation-failed:<code>` when it could not.
   */
  compensation?: string;
  requestIds?: string[];
  /** What compensation needs of the device run that failed (failed and unconfirmed devices). */
  undo?: DeviceUndo;
  /** The health analysis of an upgraded or health-failed device. */
  health?: DeviceHealthResult;
}

/** The parts of a device run's result that compensation reads. */
export interface DeviceUndo {
  pinned: PinnedPolicy[];
  policiesRestored: boolean;
  upgradeCalls: number;
  openSends?: OpenSend[];
}

export type WaveState =
  | 'pending'
  | 'running'
  | 'baking'
  | 'waiting-approval'
  | 'done'
  | 'halted'
  | 'compensated'
  /** The rollout closed (aborted, failed) while this wave had started and not finished. */
  | 'aborted'
  /** The rollout closed before this wave started. */
  | 'skipped';

export interface WaveProgress {
  index: number;
  name: string;
  size: number;
  state: WaveState;
  counts: OutcomeCounts;
  startedAt?: number;
  finishedAt?: number;
  bakeUntil?: number;
}

export interface RolloutProgress {
  rolloutId: string;
  state: RolloutState;
  targetVersion: string;
  versionType: VersionType;
  operator: string;
  ticket?: string;
  startedAt: number;
  finishedAt?: number;
  total: number;
  counts: OutcomeCounts;
  currentWave: number;
  waves: WaveProgress[];
  /** What the rollout waits on now, if anything. */
  gate?: {
    kind: 'approval' | 'bake' | 'window' | 'freeze' | 'pause';
    wave: number;
    until?: number;
    detail?: string;
  };
  window?: { open: boolean; closesAt?: number; nextOpensAt?: number };
  failureBudget: {
    failed: number;
    finished: number;
    percent: number;
    limitPercent: number;
    minFailures: number;
    consecutive: number;
    breached: boolean;
    /** Breaches so far; the budget starts afresh after each resume. */
    breaches?: number;
  };
  pace: { concurrency: number; maxPerMinute?: number };
  haltReason?: string;
  /** Estimated completion, ms since epoch, from the pace so far. */
  eta?: number;
  /** Workflow ID of the wave part running now; its `partProgress` and `devices` queries are live. */
  activePart?: string;
  /**
   * With `overlapParts`, every wave part running now (the one started last is `activePart`);
   * absent while none or, without overlap, only `activePart` runs.
   */
  activeParts?: string[];
}

/** One audit entry of a rollout-level decision or operator action. */
export interface AuditEntry {
  seq: number;
  at: number;
  kind: string;
  by?: string;
  reason?: string;
  wave?: number;
  smartAgId?: string;
  detail?: Record<string, string | number | boolean | null>;
}

/** What a device workflow needs of the rollout policy, durations in ms. */
export interface DeviceUpgradePolicy {
  targetVersion: string;
  targetsByModel?: Record<string, string>;
  versionType: VersionType;
  allowBeta: boolean;
  verifyTimeoutMs: number;
  pollIntervalMs: number;
  consecutivePolls: number;
  upgradeSettleMs: number;
  /** Absent in rollouts started before the setting existed: `unconfirmed`. */
  noSignAfterSettle?: 'unconfirmed' | 'resend';
  /** How many times an upgrade may be sent after settles that showed no sign (default: the failure code's retry attempts, at least 2). */
  maxSends?: number;
  autoUpgradeAfter: 'restore' | 'manual';
  repairHaPairs: boolean;
  requestPreviousVersion: boolean;
  errorOverrides: CodeOverrides;
  /** The health analysis (absent in rollouts started before it existed: none). */
  health?: DeviceHealthPolicy;
  /** Reads the API budget saves (absent: every read per device, as before it existed). */
  reads?: DeviceReads;
}

/** The built-in checks and the probes of a device, durations in ms. */
export interface DeviceHealthPolicy extends HealthChecks {
  probes: ProbeSpec[];
  /** See {@link HealthPolicy.grace}; ms. Absent: judged on the first reading. */
  graceMs?: number;
}

export interface DeviceUpgradeInput {
  rolloutId: string;
  device: InventoryDevice;
  policy: DeviceUpgradePolicy;
  /** `compensate` undoes what an earlier run of this rollout did (see `previous`). */
  mode: 'upgrade' | 'compensate';
  previous?: DeviceUpgradeResult;
  /** What the caller knows of earlier runs of this device (merged with what the run reads itself). */
  prior?: PriorRecord;
  /**
   * An operator's `retry-failed`: a deliberate new attempt, so a version this rollout sent once and
   * saw revert may be sent again. Calls that may still be in progress block it all the same.
   */
  operatorRetry?: boolean;
}

export interface CompensationReport {
  actions: string[];
  /** Set when compensation could not do what it had to: the code and why. */
  failed?: { code: string; message: string };
  /** Serial numbers whose previous version Alibaba refused (`VersionTooOld`), with the RequestId. */
  notReversible: { serialNumber: string; version: string; code: string; requestId?: string }[];
}
