import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { provesRefusal, resolveCodePolicy } from '../domain/error-policy';
import type { CallRecord } from '../domain/device-types';
import type { CodeOverrides, CodePolicy } from '../domain/types';

export interface ClassifiedFailure {
  code: string;
  policy: CodePolicy;
  message: string;
  requestId?: string;
  calls: CallRecord[];
  /** The activity timed out or its worker died: whether its call reached Alibaba is unknown. */
  timedOut: boolean;
  /** The answer proves that the call was not acted on (see `provesRefusal`). */
  refused: boolean;
  httpStatus?: number;
  /** What the device last reported, when a wait for it failed. */
  last?: { serialNumber: string; version: string }[];
}

/** Reads the Alibaba code and details an activity failure carries (see src/sag/failure.ts). */
export function classify(err: unknown, overrides?: CodeOverrides): ClassifiedFailure {
  let cause: unknown = err;
  if (err instanceof ActivityFailure) cause = err.cause;
  if (cause instanceof TimeoutFailure) {
    return {
      code: 'ActivityTimeout',
      policy: resolveCodePolicy('RequestTimeout', overrides),
      message: 'the activity timed out or its worker stopped',
      calls: [],
      timedOut: true,
      refused: false,
    };
  }
  if (cause instanceof ApplicationFailure) {
    const code = cause.type ?? 'Unknown';
    let requestId: string | undefined;
    let httpStatus: number | undefined;
    const calls: CallRecord[] = [];
    let last: ClassifiedFailure['last'];
    for (const d of cause.details ?? []) {
      if (d && typeof d === 'object') {
        const r = d as { requestId?: unknown; httpStatus?: unknown; calls?: unknown; last?: unknown };
        if (typeof r.requestId === 'string') requestId = r.requestId;
        if (typeof r.httpStatus === 'number') httpStatus = r.httpStatus;
        if (Array.isArray(r.calls)) calls.push(...(r.calls as CallRecord[]));
        if (Array.isArray(r.last)) last = r.last as ClassifiedFailure['last'];
      }
    }
    return {
      code,
      policy: resolveCodePolicy(code, overrides, httpStatus),
      message: cause.message,
      requestId,
      calls,
      timedOut: false,
      refused: provesRefusal(code, httpStatus),
      httpStatus,
      last,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: 'Unknown',
    policy: resolveCodePolicy('Unknown', overrides),
    message,
    calls: [],
    timedOut: false,
    refused: false,
  };
}
