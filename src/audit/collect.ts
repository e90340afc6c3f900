import type { Client, WorkflowExecutionInfo, WorkflowExecutionStatusName } from '@temporalio/client';
import type { CallRecord } from '../../domain/device-types';
import type { DeviceStatus, RolloutInput, RolloutPolicy } from '../../domain/types';
import { asDeviceInput, asDeviceResult, extractHistory } from './history';
import type { DeviceRun, FailureGroup, ReportCall, ReportData, ReportDevice, ReportWave } from './types';
import { listFollowUps, quoteForVisibility, readRollout } from './read';
import { SA_ROLLOUT_ID } from '../../workflows/search-attributes';
import { rolloutWorkflowId } from '../../domain/ids';

/** Tuning of {@link collectReport}. */
export interface CollectOptions {
  /** Histories read at once (default 16). */
  concurrency?: number;
  /**
   * How long to keep re-listing while visibility lags behind the rollout's own view of which
   * devices ran (default 5000 ms; 0 lists once).
   */
  visibilityWaitMs?: number;
}

/** Runs `fn` over an async iterable with at most `limit` calls in flight. */
async function forEachLimited<T>(
  items: AsyncIterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const it = items[Symbol.asyncIterator]();
  const lanes = Array.from({ length: Math.max(1, limit) }, async () => {
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      await fn(next.value);
    }
  });
  await Promise.all(lanes);
}

function toCall(c: CallRecord, workflowId: string, runId: string, smartAgId?: string): ReportCall {
  const call: ReportCall = { t: c.t, ms: c.ms, action: c.a, workflowId, runId };
  if (smartAgId) call.smartAgId = smartAgId;
  if (c.sn) call.serialNumber = c.sn;
  if (c.rid) call.requestId = c.rid;
  if (c.code) call.code = c.code;
  if (c.st !== undefined) call.httpStatus = c.st;
  return call;
}

/** Devices whose status says a device workflow of this rollout ran for them. */
function expectedToHaveRun(d: DeviceStatus): boolean {
  if (d.outcome === 'pending' || d.outcome === 'excluded') return false;
  return !['HeldByAnotherRollout', 'DeadlinePassed', 'DeviceWorkflowFailed'].includes(d.errorCode ?? '');
}

/**
 * Gathers everything the rollout's report shows: progress, plan and waves, the audit log, every
 * device once with its outcome and versions, and every API call recorded in the histories of the
 * rollout's device workflows (found through the `SagRolloutId` search attribute) and of the
 * rollout itself (bulk health re-checks). Histories are read a few at a time and dropped once
 * their calls are extracted, so a 10,000-device rollout fits in memory.
 *
 * The rollout's queries need a worker that hosts `rolloutWorkflow` (also for a closed rollout).
 * @throws WorkflowNotFoundError when no rollout has this ID; QueryNotRegisteredError or a
 *   timeout when no worker answers its queries.
 */
export async function collectReport(
  client: Client,
  rolloutId: string,
  options: CollectOptions = {},
): Promise<ReportData> {
  const concurrency = options.concurrency ?? 16;
  const visibilityWaitMs = options.visibilityWaitMs ?? 5000;
  const workflowId = rolloutWorkflowId(rolloutId);
  const warnings: string[] = [];
  const { progress, devices: statuses, audit } = await readRollout(client, rolloutId);

  // The rollout's own runs (more than one after continue-as-new): its input and its bulk calls.
  const calls: ReportCall[] = [];
  let input: RolloutInput | undefined;
  let workflowStatus: WorkflowExecutionStatusName | undefined;
  const rolloutRuns: { runId: string; start: number }[] = [];
  for await (const r of client.workflow.list({ query: `WorkflowId = ${quoteForVisibility(workflowId)}` })) {
    rolloutRuns.push({ runId: r.runId, start: r.startTime.getTime() });
  }
  rolloutRuns.sort((a, b) => a.start - b.start);
  if (rolloutRuns.length === 0) {
    const d = await client.workflow.getHandle(workflowId).describe();
    rolloutRuns.push({ runId: d.runId, start: d.startTime.getTime() });
  }
  for (const [i, run] of rolloutRuns.entries()) {
    try {
      const h = client.workflow.getHandle(workflowId, run.runId);
      const x = extractHistory(await h.fetchHistory());
      if (i === 0) input = x.input as RolloutInput | undefined;
      for (const c of x.calls) calls.push(toCall(c, workflowId, run.runId));
      if (i === rolloutRuns.length - 1) workflowStatus = (await h.describe()).status.name;
    } catch (err) {
      warnings.push(`history of ${workflowId} run ${run.runId} could not be read: ${(err as Error).message}`);
    }
  }

  // Device workflows of this rollout, read a few at a time.
  const runsByDevice: Record<string, DeviceRun[]> = {};
  const notReversible: Record<string, NonNullable<ReportDevice['notReversible']>> = {};
  const seenRuns = new Set<string>();
  const query = `${SA_ROLLOUT_ID.name} = ${quoteForVisibility(rolloutId)} AND WorkflowType = 'deviceUpgradeWorkflow'`;
  const readRun = async (info: WorkflowExecutionInfo): Promise<void> => {
    if (seenRuns.has(info.runId)) return;
    seenRuns.add(info.runId);
    const smartAgId = info.workflowId.replace(/^upgrade\//, '');
    try {
      const x = extractHistory(await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory());
      const din = asDeviceInput(x.input);
      const res = asDeviceResult(x.result);
      const id = din?.device.smartAgId ?? smartAgId;
      for (const c of x.calls) calls.push(toCall(c, info.workflowId, info.runId, id));
      const run: DeviceRun = {
        workflowId: info.workflowId,
        runId: info.runId,
        mode: din?.mode ?? 'unknown',
        status: res ? 'COMPLETED' : info.status.name,
        startedAt: info.startTime.getTime(),
        closedAt: info.closeTime?.getTime(),
        calls: x.calls.length,
      };
      if (res) {
        run.reportedCalls = res.apiCalls;
        run.outcome = res.outcome;
        if (res.errorCode) run.errorCode = res.errorCode;
        if (res.compensation) {
          run.compensation = res.compensation;
          if (res.compensation.notReversible.length > 0)
            (notReversible[id] ??= []).push(...res.compensation.notReversible);
        }
      }
      (runsByDevice[id] ??= []).push(run);
    } catch (err) {
      warnings.push(
        `history of ${info.workflowId} run ${info.runId} could not be read: ${(err as Error).message}`,
      );
    }
  };
  const expected = statuses.filter(expectedToHaveRun).map((d) => d.smartAgId);
  const deadline = Date.now() + visibilityWaitMs;
  for (;;) {
    await forEachLimited(client.workflow.list({ query }), concurrency, readRun);
    const missing = expected.filter((id) => !runsByDevice[id]);
    if (missing.length === 0) break;
    if (Date.now() >= deadline) {
      warnings.push(
        `no device workflow found (visibility) for ${missing.length} devices: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}`,
      );
      break;
    }
    // Visibility is eventually consistent: a run that just started or closed may not be listed yet.
    await new Promise((r) => setTimeout(r, 500));
  }
  // Follow-ups point at this rollout through their SagFollowUpOf search attribute.
  let followUps: string[] = [];
  try {
    followUps = (await listFollowUps(client, rolloutId)).map((f) => f.rolloutId);
  } catch (err) {
    warnings.push(`follow-up rollouts could not be listed: ${(err as Error).message}`);
  }

  // A total order: histories are read concurrently, so calls of one millisecond arrive in any
  // order, and the same rollout must always give the same report.
  const keyed = calls.map((c) => ({
    c,
    k: [
      c.action,
      c.smartAgId ?? '',
      c.serialNumber ?? '',
      c.requestId ?? '',
      c.code ?? '',
      c.workflowId,
      c.runId,
      String(c.ms),
    ].join('\u0000'),
  }));
  keyed.sort((a, b) => a.c.t - b.c.t || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  keyed.forEach((x, i) => (calls[i] = x.c));

  const devices: ReportDevice[] = statuses.map((d) => {
    const runs = (runsByDevice[d.smartAgId] ?? []).sort((a, b) => a.startedAt - b.startedAt);
    const dev: ReportDevice = { ...d, runs };
    if (notReversible[d.smartAgId]) dev.notReversible = notReversible[d.smartAgId];
    return dev;
  });

  const byWave: Record<number, string[]> = {};
  for (const d of statuses) (byWave[d.wave] ??= []).push(d.smartAgId);
  const waves: ReportWave[] = progress.waves.map((w) => ({ ...w, devices: byWave[w.index] ?? [] }));

  return {
    rolloutId,
    workflowId,
    generatedAt: Date.now(),
    progress,
    policy: input?.policy && withoutWebhookUrls(input.policy),
    inventory: input?.inventory,
    workflowStatus,
    waves,
    audit,
    devices,
    calls,
    failures: groupFailures(devices),
    ...(input?.followUpOf ? { followUpOf: input.followUpOf } : {}),
    ...(followUps.length > 0 ? { followUps } : {}),
    warnings,
  };
}

/**
 * The policy as the report shows it: a webhook URL (only rollouts started before webhooks were
 * named have one) keeps its scheme and host, since chat URLs carry their token.
 */
function withoutWebhookUrls(policy: RolloutPolicy): RolloutPolicy {
  if (!policy.webhooks?.some((h) => h.url !== undefined)) return policy;
  const origin = (url: string): string => {
    try {
      return `${new URL(url).origin}/…`;
    } catch {
      return '…';
    }
  };
  return {
    ...policy,
    webhooks: policy.webhooks.map((h) => (h.url === undefined ? h : { ...h, url: origin(h.url) })),
  };
}

/** Failed devices (also those compensated since) grouped by their error code, largest group first. */
export function groupFailures(devices: DeviceStatus[]): FailureGroup[] {
  const groups: Record<string, FailureGroup> = {};
  for (const d of devices) {
    // A compensated device without a code was upgraded and then rolled back with its batch: not a failure.
    if (
      d.outcome !== 'failed' &&
      d.outcome !== 'unconfirmed' &&
      !(d.outcome === 'compensated' && d.errorCode)
    )
      continue;
    const code = d.errorCode ?? 'Unknown';
    const g = (groups[code] ??= { code, phases: [], count: 0, devices: [] });
    g.count++;
    g.devices.push(d.smartAgId);
    if (d.phase && !g.phases.includes(d.phase)) g.phases.push(d.phase);
  }
  return Object.values(groups).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}
