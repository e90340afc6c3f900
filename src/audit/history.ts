import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { CallRecord } from '../../domain/device-types';
import type { DeviceUpgradeInput, DeviceUpgradeResult } from '../../domain/types';

type History = temporal.api.history.v1.IHistory;
type Payloads = temporal.api.common.v1.IPayloads;
type Payload = temporal.api.common.v1.IPayload;
type Failure = temporal.api.failure.v1.IFailure;

/** What one workflow history yields for the report. */
export interface HistoryExtract {
  /** Every call record found, oldest first. */
  calls: CallRecord[];
  /** The workflow's first input argument. */
  input?: unknown;
  /** The workflow's result, when it completed. */
  result?: unknown;
}

function decode(p: Payload | null | undefined): unknown {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(p);
  } catch {
    // A payload this converter cannot read (binary, encrypted by a codec) holds no call records we can use.
    return undefined;
  }
}

function decodeAll(ps: Payloads | null | undefined): unknown[] {
  return (ps?.payloads ?? []).map((p) => decode(p));
}

function isCall(x: unknown): x is CallRecord {
  if (!x || typeof x !== 'object') return false;
  const c = x as Partial<CallRecord>;
  return typeof c.a === 'string' && typeof c.t === 'number';
}

/** The `calls` array of an activity result or failure detail, if it has one. */
function callsOf(value: unknown): CallRecord[] {
  if (!value || typeof value !== 'object') return [];
  const calls = (value as { calls?: unknown }).calls;
  return Array.isArray(calls) ? calls.filter(isCall) : [];
}

/** Calls carried in a failure's details, along its cause chain. */
function failureCalls(f: Failure | null | undefined): CallRecord[] {
  const out: CallRecord[] = [];
  for (let cur = f, depth = 0; cur && depth < 10; cur = cur.cause, depth++) {
    for (const d of decodeAll(cur.applicationFailureInfo?.details)) out.push(...callsOf(d));
  }
  return out;
}

/**
 * Reads the audit trail out of one workflow history: call records from completed activities,
 * local-activity markers (results and failures) and failed activities, plus the workflow's input
 * and result. Failed attempts that a retry policy absorbed are not in history, so their calls
 * cannot be listed; every call whose outcome the workflow acted on is.
 */
export function extractHistory(history: History): HistoryExtract {
  const calls: CallRecord[] = [];
  let input: unknown;
  let result: unknown;
  for (const e of history.events ?? []) {
    if (e.workflowExecutionStartedEventAttributes) {
      input = decodeAll(e.workflowExecutionStartedEventAttributes.input)[0];
    } else if (e.activityTaskCompletedEventAttributes) {
      for (const r of decodeAll(e.activityTaskCompletedEventAttributes.result)) calls.push(...callsOf(r));
    } else if (e.activityTaskFailedEventAttributes) {
      calls.push(...failureCalls(e.activityTaskFailedEventAttributes.failure));
    } else if (e.markerRecordedEventAttributes) {
      const m = e.markerRecordedEventAttributes;
      // Local activities record their result (or failure) in a marker instead of activity events.
      for (const [key, ps] of Object.entries(m.details ?? {})) {
        if (key === 'data') continue;
        for (const r of decodeAll(ps)) calls.push(...callsOf(r));
      }
      calls.push(...failureCalls(m.failure));
    } else if (e.workflowExecutionCompletedEventAttributes) {
      result = decodeAll(e.workflowExecutionCompletedEventAttributes.result)[0];
    }
  }
  calls.sort((x, y) => x.t - y.t);
  return { calls, input, result };
}

/** Narrows a decoded input to a device workflow's input. */
export function asDeviceInput(x: unknown): DeviceUpgradeInput | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const i = x as Partial<DeviceUpgradeInput>;
  return typeof i.rolloutId === 'string' && i.device && typeof i.device.smartAgId === 'string'
    ? (i as DeviceUpgradeInput)
    : undefined;
}

/** Narrows a decoded result to a device workflow's result. */
export function asDeviceResult(x: unknown): DeviceUpgradeResult | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const r = x as Partial<DeviceUpgradeResult>;
  return typeof r.smartAgId === 'string' && typeof r.outcome === 'string'
    ? (r as DeviceUpgradeResult)
    : undefined;
}
