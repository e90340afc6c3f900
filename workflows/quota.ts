import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

/**
 * The account's smartag request rate, shared by every worker that calls with it. Each worker holds
 * a lease that it renews about once a second through {@link leaseApiQuotaUpdate}; the answer is
 * the worker's share of the rate. ID `sag-api-quota/<key>`.
 *
 * Rules that keep the sum of the shares at or below the rate at every instant:
 * - every live worker (lease not expired) counts, joining ones included, so existing workers
 *   shrink as soon as they renew;
 * - a worker that joins while others hold leases gets a share of 0 for one lease period: by then
 *   every other worker has renewed (and shrunk) or its old, larger grant has expired on its side;
 * - a worker treats a grant as valid for one lease period from the moment it asked, and stops
 *   sending when it cannot renew in time; a lease the workflow has not seen renewed for one lease
 *   period is dropped and its share goes to the others at their next renewal.
 */

/** One worker's lease request: who asks and the rate it was configured with (`apiRate`). */
export interface QuotaLeaseRequest {
  workerId: string;
  apiRate: number;
}

/** The answer to a lease: the share the worker may use until one lease period after it asked. */
export interface QuotaGrant {
  /** Requests per second this worker may send; 0 while it is joining. */
  share: number;
  /** The account rate the shares divide (the smallest `apiRate` of the live workers). */
  rate: number;
  /** Live workers, joining ones included. */
  workers: number;
  leaseMs: number;
  /** Until this instant (ms since epoch, workflow time) the worker's share stays 0. */
  activeFrom: number;
}

export interface QuotaLease {
  apiRate: number;
  joinedAt: number;
  activeFrom: number;
  expiresAt: number;
  share: number;
}

export interface ApiQuotaInput {
  /** Lease period in ms (default 3000). */
  leaseMs?: number;
  /** The workflow closes after this long without any live lease (default 10 min). */
  idleMs?: number;
  /** Continue-as-new once history passes this many events (default 2000). */
  maxHistoryEvents?: number;
  /** Carried across continue-as-new. */
  leases?: Record<string, QuotaLease>;
}

export interface ApiQuotaView {
  rate: number;
  leaseMs: number;
  leases: Record<string, QuotaLease>;
}

export const leaseApiQuotaUpdate = defineUpdate<QuotaGrant, [QuotaLeaseRequest]>('leaseApiQuota');
/** A stopping worker gives its share back at once instead of letting its lease expire. */
export const releaseApiQuotaSignal = defineSignal<[{ workerId: string }]>('releaseApiQuota');
export const apiQuotaQuery = defineQuery<ApiQuotaView>('apiQuota');

/** The workflow ID of the quota for a key (a namespace and task queue, or an account). */
export function apiQuotaWorkflowId(key: string): string {
  return `sag-api-quota/${key}`;
}

export async function apiQuotaWorkflow(input: ApiQuotaInput = {}): Promise<void> {
  const leaseMs = input.leaseMs ?? 3000;
  const idleMs = input.idleMs ?? 10 * 60_000;
  const maxEvents = input.maxHistoryEvents ?? 2000;
  const leases: Record<string, QuotaLease> = { ...(input.leases ?? {}) };
  let changes = 0;

  const live = (now: number): [string, QuotaLease][] => {
    for (const [id, l] of Object.entries(leases)) if (l.expiresAt <= now) delete leases[id];
    return Object.entries(leases);
  };
  const rateOf = (entries: [string, QuotaLease][]): number =>
    entries.length ? Math.min(...entries.map(([, l]) => l.apiRate)) : 0;

  setHandler(
    leaseApiQuotaUpdate,
    (req): QuotaGrant => {
      const now = Date.now();
      const others = live(now).filter(([id]) => id !== req.workerId);
      let lease = leases[req.workerId];
      if (!lease) {
        // Alone: nobody has to shrink first. Otherwise wait one lease period for the others to.
        lease = {
          apiRate: req.apiRate,
          joinedAt: now,
          activeFrom: others.length ? now + leaseMs : now,
          expiresAt: 0,
          share: 0,
        };
        leases[req.workerId] = lease;
      }
      lease.apiRate = req.apiRate;
      lease.expiresAt = now + leaseMs;
      const all = live(now);
      const rate = rateOf(all);
      lease.share = now >= lease.activeFrom ? rate / all.length : 0;
      changes++;
      return { share: lease.share, rate, workers: all.length, leaseMs, activeFrom: lease.activeFrom };
    },
    {
      validator: (req: QuotaLeaseRequest) => {
        if (typeof req.workerId !== 'string' || req.workerId === '') throw new Error('workerId is required');
        if (!(typeof req.apiRate === 'number' && req.apiRate > 0 && Number.isFinite(req.apiRate)))
          throw new Error('apiRate must be a positive number');
      },
    },
  );
  setHandler(releaseApiQuotaSignal, ({ workerId }) => {
    delete leases[workerId];
    changes++;
  });
  setHandler(apiQuotaQuery, () => {
    const all = live(Date.now());
    return { rate: rateOf(all), leaseMs, leases: Object.fromEntries(all) };
  });

  for (;;) {
    const seen = changes;
    const renewed = await condition(
      () =>
        changes !== seen || workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > maxEvents,
      idleMs,
    );
    if (!renewed && live(Date.now()).length === 0) break;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > maxEvents) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof apiQuotaWorkflow>({
        leaseMs,
        idleMs,
        maxHistoryEvents: maxEvents,
        leases: Object.fromEntries(live(Date.now())),
      });
    }
  }
  await condition(allHandlersFinished);
}
