import type { Client } from '@temporalio/client';
import { rolloutWorkflowId } from '../../domain/ids';
import type { DeviceStatus, RolloutPolicy } from '../../domain/types';
import { CLOSED_ROLLOUT_STATES, closedWaveState } from '../../domain/wave-state';
import { listFollowUps, readRollout } from './read';
import { readDeviceRuns, readRolloutRuns } from './runs';
import type { FailureGroup, ReportCall, ReportData, ReportDevice, ReportWave } from './types';

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

/**
 * Gathers everything the rollout's report shows: progress, plan and waves, the audit log, every
 * device once with its outcome and versions (of a running rollout, with the wave part running now
 * laid over them as `status` shows them: its devices, counts, failure budget and halt), and every API call recorded in the histories of the
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
  const workflowId = rolloutWorkflowId(rolloutId);
  const { progress, devices: statuses, audit } = await readRollout(client, rolloutId);
  const rollout = await readRolloutRuns(client, workflowId);
  const deviceRuns = await readDeviceRuns(client, rolloutId, statuses, {
    concurrency: options.concurrency ?? 16,
    visibilityWaitMs: options.visibilityWaitMs ?? 5000,
  });
  const warnings = [...rollout.warnings, ...deviceRuns.warnings];
  // Follow-ups point at this rollout through their SagFollowUpOf search attribute.
  let followUps: string[] = [];
  try {
    followUps = (await listFollowUps(client, rolloutId)).map((f) => f.rolloutId);
  } catch (err) {
    warnings.push(`follow-up rollouts could not be listed: ${(err as Error).message}`);
  }

  const devices: ReportDevice[] = statuses.map((d) => {
    const runs = (deviceRuns.byDevice[d.smartAgId] ?? []).sort((a, b) => a.startedAt - b.startedAt);
    const dev: ReportDevice = { ...d, runs };
    if (deviceRuns.notReversible[d.smartAgId]) dev.notReversible = deviceRuns.notReversible[d.smartAgId];
    return dev;
  });

  const byWave: Record<number, string[]> = {};
  for (const d of statuses) (byWave[d.wave] ??= []).push(d.smartAgId);
  // The rollout exports its report as the last step of its run, before the run closes: a rollout
  // that already recorded its close state is reported as the run it is closing into
  // (`rolloutWorkflow` returns for both completed and aborted rollouts).
  const closing = rollout.workflowStatus === 'RUNNING' && CLOSED_ROLLOUT_STATES.includes(progress.state);
  const workflowStatus = closing ? 'COMPLETED' : rollout.workflowStatus;
  const closed = workflowStatus !== undefined && workflowStatus !== 'RUNNING';
  // A run that closed without recording it (terminated through Temporal) failed.
  const state = closed && !CLOSED_ROLLOUT_STATES.includes(progress.state) ? 'failed' : progress.state;
  const waves: ReportWave[] = progress.waves.map((w) => ({
    ...w,
    // A rollout terminated through Temporal never closed its waves itself.
    state: closed ? closedWaveState(w.state, state) : w.state,
    devices: byWave[w.index] ?? [],
  }));

  const input = rollout.input;
  return {
    rolloutId,
    workflowId,
    generatedAt: Date.now(),
    progress: { ...progress, state },
    policy: input?.policy && withoutWebhookUrls(input.policy),
    inventory: input?.inventory,
    workflowStatus,
    waves,
    audit,
    devices,
    calls: inReportOrder([...rollout.calls, ...deviceRuns.calls]),
    failures: groupFailures(devices),
    ...(input?.followUpOf ? { followUpOf: input.followUpOf } : {}),
    ...(followUps.length > 0 ? { followUps } : {}),
    warnings,
  };
}

/**
 * The calls in one total order, oldest first: histories are read concurrently, so calls of one
 * millisecond arrive in any order, and the same rollout must always give the same report.
 */
function inReportOrder(calls: ReportCall[]): ReportCall[] {
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
  return keyed.map((x) => x.c);
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
