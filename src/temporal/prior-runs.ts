import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { mergeOpenSends } from '../../domain/open-sends';
import type {
  DeviceUpgradeInput,
  DeviceUpgradeResult,
  OpenSend,
  PinnedPolicy,
  PriorRecord,
} from '../../domain/types';

/** The code of a device run that could not read its predecessors: its record is incomplete. */
const PRIOR_UNREADABLE = 'PriorRunsUnreadable';

/** Closed runs of one device workflow looked at; the newest closed run is among the first. */
const RUNS_LOOKED_AT = 20;

/**
 * What the closed runs of `workflowId` before `currentRunId` left open, newest first: a run that
 * completed gives its result's `openSends` (which carry what it read of the runs before it) and the
 * pinned policies it could not restore, and the walk stops there. A run that did not complete
 * (terminated, failed, timed out) or could not read its own predecessors gives what its input
 * carried and every upgrade call its history shows scheduled (nothing says how they ended), and
 * the walk goes on to the run before it.
 *
 * Reads visibility, then the result or history of the runs it walks (a server without visibility,
 * such as the time-skipping test server, yields no record and `onUnavailable` is told). A run
 * closed a moment ago may not be listed yet on a cluster whose visibility lags, which is why the
 * workflows that run a device again (compensation, retries, a resume) also pass what they know in
 * the input.
 */
export async function readPriorRecord(
  client: Client,
  workflowId: string,
  currentRunId: string,
  onUnavailable?: (workflowId: string) => void,
): Promise<PriorRecord> {
  const runs: WorkflowExecutionInfo[] = [];
  const query = `WorkflowId = ${JSON.stringify(workflowId)} AND ExecutionStatus != "Running"`;
  try {
    for await (const run of client.workflow.list({ query, pageSize: RUNS_LOOKED_AT })) {
      if (run.runId !== currentRunId) runs.push(run);
      if (runs.length >= RUNS_LOOKED_AT) break;
    }
  } catch (err) {
    // Temporal's time-skipping test server has no visibility at all. Every real server (the dev
    // server, a cluster, Temporal Cloud) has it; there the failure is retried like any other.
    if (!unimplemented(err)) throw err;
    onUnavailable?.(workflowId);
    return { openSends: [] };
  }
  runs.sort((a, b) => (b.closeTime?.getTime() ?? 0) - (a.closeTime?.getTime() ?? 0));
  const record: PriorRecord = { openSends: [] };
  const add = (sends: OpenSend[] | undefined, pinned: PinnedPolicy[] | undefined): void => {
    record.openSends = mergeOpenSends(record.openSends, sends);
    if (pinned && !record.pinned) record.pinned = pinned;
  };
  for (const run of runs) {
    const handle = client.workflow.getHandle(workflowId, run.runId);
    record.runId ??= run.runId;
    if (run.status.name === 'COMPLETED') {
      const r = (await handle.result()) as DeviceUpgradeResult;
      const unrestored = !r.policiesRestored && r.pinned.some((p) => p.upgradeType !== 'manual');
      add(r.openSends, unrestored ? r.pinned : undefined);
      if (r.errorCode !== PRIOR_UNREADABLE) break;
      continue;
    }
    const history = await handle.fetchHistory();
    add(...fromHistory(history));
  }
  return record;
}

/** What a run that did not complete shows of its sends: its input's records and its scheduled calls. */
function fromHistory(history: temporal.api.history.v1.IHistory): [OpenSend[], PinnedPolicy[] | undefined] {
  const sends: OpenSend[] = [];
  let pinned: PinnedPolicy[] | undefined;
  for (const e of history.events ?? []) {
    const started = e.workflowExecutionStartedEventAttributes;
    const first = started?.input?.payloads?.[0];
    if (first) {
      const input = defaultPayloadConverter.fromPayload<DeviceUpgradeInput>(first);
      sends.push(...(input.prior?.openSends ?? []), ...(input.previous?.openSends ?? []));
      pinned = input.prior?.pinned;
      continue;
    }
    const attrs = e.activityTaskScheduledEventAttributes;
    if (attrs?.activityType?.name !== 'requestUpgrade') continue;
    const payload = attrs.input?.payloads?.[0];
    if (!payload) continue;
    const call = defaultPayloadConverter.fromPayload<{
      serialNumber: string;
      versionCode: string;
      versionType: 'Device' | 'Dpi';
    }>(payload);
    const seconds = Number(e.eventTime?.seconds ?? 0);
    sends.push({
      serialNumber: call.serialNumber,
      version: call.versionCode,
      versionType: call.versionType,
      at: seconds * 1000,
      accepted: false,
    });
  }
  return [sends, pinned];
}

/** gRPC status 12: the server does not implement the method. */
function unimplemented(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 12 || (err as { code?: unknown } | undefined)?.code === 12;
}
