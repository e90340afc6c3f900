import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { DeviceUpgradeResult, OpenSend, PriorRecord } from '../../workflows/types';

/** Closed runs of one device workflow looked at; the newest closed run is among the first. */
const RUNS_LOOKED_AT = 20;

/**
 * What the newest closed run of `workflowId` (other than `currentRunId`) left open: its result's
 * `openSends` and unrestored pinned policies when it completed; when it did not complete
 * (terminated, failed, timed out), every upgrade call its history shows scheduled, since nothing
 * says how they ended.
 *
 * Reads visibility, then one history page (a server without visibility, such as the time-skipping
 * test server, yields no record and `onUnavailable` is told): a run closed a moment ago may not be listed yet on a
 * cluster whose visibility lags, which is why the workflows that run a device again (compensation,
 * retries, a resume) also pass what they know in the input.
 */
export async function readPriorRecord(
  client: Client,
  workflowId: string,
  currentRunId: string,
  onUnavailable?: (workflowId: string) => void,
): Promise<PriorRecord> {
  let newest: WorkflowExecutionInfo | undefined;
  let seen = 0;
  const query = `WorkflowId = ${JSON.stringify(workflowId)} AND ExecutionStatus != "Running"`;
  try {
    for await (const run of client.workflow.list({ query, pageSize: RUNS_LOOKED_AT })) {
      const later = !newest || (run.closeTime?.getTime() ?? 0) > (newest.closeTime?.getTime() ?? 0);
      if (run.runId !== currentRunId && later) newest = run;
      if (++seen >= RUNS_LOOKED_AT) break;
    }
  } catch (err) {
    // Temporal's time-skipping test server has no visibility at all. Every real server (the dev
    // server, a cluster, Temporal Cloud) has it; there the failure is retried like any other.
    if (!unimplemented(err)) throw err;
    onUnavailable?.(workflowId);
    return { openSends: [] };
  }
  if (!newest) return { openSends: [] };
  const handle = client.workflow.getHandle(workflowId, newest.runId);
  if (newest.status.name === 'COMPLETED') {
    const r = (await handle.result()) as DeviceUpgradeResult;
    const unrestored = !r.policiesRestored && r.pinned.some((p) => p.upgradeType !== 'manual');
    return { openSends: r.openSends ?? [], ...(unrestored ? { pinned: r.pinned } : {}), runId: newest.runId };
  }
  const openSends: OpenSend[] = [];
  const history = await handle.fetchHistory();
  for (const e of history.events ?? []) {
    const attrs = e.activityTaskScheduledEventAttributes;
    if (
      e.eventType !== temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ||
      attrs?.activityType?.name !== 'requestUpgrade'
    )
      continue;
    const payload = attrs.input?.payloads?.[0];
    if (!payload) continue;
    const call = defaultPayloadConverter.fromPayload<{
      serialNumber: string;
      versionCode: string;
      versionType: 'Device' | 'Dpi';
    }>(payload);
    const seconds = Number(e.eventTime?.seconds ?? 0);
    openSends.push({
      serialNumber: call.serialNumber,
      version: call.versionCode,
      versionType: call.versionType,
      at: seconds * 1000,
      accepted: false,
    });
  }
  return { openSends, runId: newest.runId };
}

/** gRPC status 12: the server does not implement the method. */
function unimplemented(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 12 || (err as { code?: unknown } | undefined)?.code === 12;
}
