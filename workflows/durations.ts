import { ApplicationFailure } from '@temporalio/common';
import type { Duration } from '../domain/types';
import { parseDurationMs } from '../domain/durations';

/**
 * A policy duration in ms, `fallback` when absent. The config layer has already validated policy
 * files; this guards inputs sent by other clients.
 * @throws ApplicationFailure `InvalidPolicy` (non-retryable) on a malformed value.
 */
export function durationMs(d: Duration | undefined, fallback: number): number {
  if (d === undefined) return fallback;
  const ms = parseDurationMs(d);
  if (ms === undefined) throw ApplicationFailure.nonRetryable(`bad duration ${String(d)}`, 'InvalidPolicy');
  return ms;
}
