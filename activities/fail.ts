import { ApplicationFailure } from '@temporalio/common';
import type { CallRecord } from '../domain/device-types';
import type { CodeOverrides } from '../domain/types';
import { toApplicationFailure } from '../src/sag/failure';

/**
 * Re-throws a failure as an ApplicationFailure typed by its Alibaba code, carrying the calls made
 * so far so the audit trail keeps failed calls too.
 */
export function fail(err: unknown, action: string, calls: CallRecord[], overrides?: CodeOverrides): never {
  if (err instanceof ApplicationFailure) throw err;
  const f = toApplicationFailure(err, action, overrides);
  throw ApplicationFailure.create({
    message: f.message,
    type: f.type ?? undefined,
    nonRetryable: f.nonRetryable ?? undefined,
    nextRetryDelay: (f.details?.[0] as { nextRetryDelayMs?: number } | undefined)?.nextRetryDelayMs,
    details: [...(f.details ?? []), { calls }],
  });
}
