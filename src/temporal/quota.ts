import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { RateLimiter } from '../sag/rate-limiter';
import {
  apiQuotaWorkflowId,
  leaseApiQuotaUpdate,
  releaseApiQuotaSignal,
  type QuotaGrant,
} from '../../workflows/quota';

export interface ApiQuotaOptions {
  connection: NativeConnection;
  namespace: string;
  /** The task queue the quota workflow runs on (the workers' own). */
  taskQueue: string;
  /** Which quota to join: workers sharing one account share one key. Default `<namespace>/<taskQueue>`. */
  key?: string;
  /** The worker's configured rate; the quota divides the smallest configured rate among workers. */
  apiRate: number;
  limiter: RateLimiter;
  /** Lease renewal interval (default 1000 ms). */
  intervalMs?: number;
  /** Lease period (default 3000 ms). */
  leaseMs?: number;
  /** False once the worker stopped for good: the loop then ends and gives the share back. */
  isRunning: () => boolean;
  workerId?: string;
  log?: (message: string, meta?: Record<string, unknown>) => void;
}

export interface ApiQuotaLease {
  readonly workerId: string;
  readonly workflowId: string;
  /** The last grant, if any. */
  readonly grant: QuotaGrant | undefined;
  /** Whether the worker may send now (it holds a valid grant with a share above 0). */
  readonly open: boolean;
  /** Ends the lease loop and gives the share back. */
  stop(): Promise<void>;
}

/**
 * Runs a worker's side of the shared API quota: renews its lease on `apiQuotaWorkflow` every
 * `intervalMs` and sets the limiter to the granted share. A grant is trusted for one lease period
 * from the moment it was asked for; when no renewal succeeds in that time the limiter's gate
 * closes until one does, so a worker cut off from Temporal never sends on a share the others may
 * already have taken.
 *
 * Without a valid grant the limiter is closed (rate 0): it is closed from the start, so the
 * worker sends nothing before its first grant.
 */
export function startApiQuota(opts: ApiQuotaOptions): ApiQuotaLease {
  const intervalMs = opts.intervalMs ?? 1000;
  const leaseMs = opts.leaseMs ?? 3000;
  const workerId = opts.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const workflowId = apiQuotaWorkflowId(opts.key ?? `${opts.namespace}/${opts.taskQueue}`);
  const client = new Client({ connection: opts.connection, namespace: opts.namespace });
  const log = opts.log ?? (() => undefined);
  let grant: QuotaGrant | undefined;
  let validUntil = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const setShare = (share: number) => {
    if (share !== opts.limiter.rate) opts.limiter.setRate(share);
  };
  setShare(0);

  const lease = async (): Promise<QuotaGrant> => {
    const args: [{ workerId: string; apiRate: number }] = [{ workerId, apiRate: opts.apiRate }];
    return opts.connection.withDeadline(Date.now() + Math.max(500, leaseMs - intervalMs), () =>
      client.workflow.executeUpdateWithStart(leaseApiQuotaUpdate, {
        args,
        startWorkflowOperation: new WithStartWorkflowOperation('apiQuotaWorkflow', {
          workflowId,
          taskQueue: opts.taskQueue,
          args: [{ leaseMs }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      }),
    );
  };

  const loop = (async () => {
    while (!stopped && opts.isRunning()) {
      const askedAt = Date.now();
      try {
        const g = await lease();
        grant = g;
        validUntil = askedAt + g.leaseMs;
        setShare(g.share);
      } catch (err) {
        if (Date.now() >= validUntil && opts.limiter.rate > 0) {
          setShare(0);
          log('api quota: lease not renewed in time, sending nothing until it is', {
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
      // The grant must be dropped on time even while a renewal hangs.
      const wait = Math.max(0, Math.min(intervalMs - (Date.now() - askedAt), validUntil - Date.now()));
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, wait > 0 ? wait : intervalMs);
        timer.unref();
      });
      if (Date.now() >= validUntil) setShare(0);
    }
    // Nothing more goes out on this grant; the others may have the share at their next renewal.
    setShare(0);
    await opts.connection
      .withDeadline(Date.now() + 1000, () =>
        client.workflow.getHandle(workflowId).signal(releaseApiQuotaSignal, { workerId }),
      )
      .catch(() => undefined);
  })();

  return {
    workerId,
    workflowId,
    get grant() {
      return grant;
    },
    get open() {
      return opts.limiter.rate > 0;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
