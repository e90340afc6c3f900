import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import { SagError } from '../src/sag/errors';

/** Time kept in hand before an activity's deadline: a call that would leave later does not leave. */
const MARGIN_MS = 2000;

interface SendDeadline {
  notAfter: number;
  signal: AbortSignal;
}

const current = new AsyncLocalStorage<SendDeadline>();

/**
 * Runs `send` (one smartag call of the current activity) so that the call never leaves after the
 * activity's start-to-close deadline or its cancellation: {@link assertMayLeave}, which the worker
 * calls between the rate limiter and the request, throws `NotSent` then. Outside an activity
 * it just runs `send`.
 */
export function withSendDeadline<T>(send: () => Promise<T>): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return send();
  }
  const info = ctx.info;
  const limits = [Date.now() + info.startToCloseTimeoutMs];
  if (info.scheduleToCloseTimeoutMs > 0)
    limits.push(info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs);
  return current.run({ notAfter: Math.min(...limits) - MARGIN_MS, signal: ctx.cancellationSignal }, send);
}

/**
 * Throws `SagError` `NotSent` when the call running under {@link withSendDeadline} may no longer
 * leave. Called right before a request is sent, after the wait for the rate limiter.
 */
export function assertMayLeave(action: string): void {
  const d = current.getStore();
  if (!d) return;
  if (d.signal.aborted)
    throw new SagError({
      code: 'NotSent',
      action,
      detail: 'the activity was cancelled before the call left',
    });
  if (Date.now() >= d.notAfter) {
    throw new SagError({
      code: 'NotSent',
      action,
      detail: "the activity's deadline passed while the call waited to leave",
    });
  }
}
