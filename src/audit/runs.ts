import type { Client, WorkflowExecutionInfo, WorkflowExecutionStatusName } from '@temporalio/client';
import type { CallRecord } from '../../domain/device-types';
import type { DeviceStatus, DeviceUpgradeInput, DeviceUpgradeResult, RolloutInput } from '../../domain/types';
import { SA_ROLLOUT_ID } from '../../workflows/search-attributes';
import { asDeviceInput, asDeviceResult, extractHistory } from './history';
import { quoteForVisibility } from './read';
import type { DeviceRun, ReportCall, ReportDevice } from './types';

/** A call record of a history as the report lists it. */
function toCall(c: CallRecord, workflowId: string, runId: string, smartAgId?: string): ReportCall {
  const call: ReportCall = { t: c.t, ms: c.ms, action: c.a, workflowId, runId };
  if (smartAgId) call.smartAgId = smartAgId;
  if (c.sn) call.serialNumber = c.sn;
  if (c.rid) call.requestId = c.rid;
  if (c.code) call.code = c.code;
  if (c.st !== undefined) call.httpStatus = c.st;
  return call;
}

/** The report's warning for a history it could not read. */
function unreadable(workflowId: string, runId: string, err: unknown): string {
  return `history of ${workflowId} run ${runId} could not be read: ${(err as Error).message}`;
}

/** What the histories of the rollout workflow's own runs hold for the report. */
export interface RolloutRuns {
  /** The input of the first run: policy, inventory, `followUpOf`. */
  input?: RolloutInput;
  /** Status of the latest run. */
  workflowStatus?: WorkflowExecutionStatusName;
  /** Calls the rollout made itself (bulk health re-checks). */
  calls: ReportCall[];
  warnings: string[];
}

/**
 * Reads every run of the rollout workflow (more than one after continue-as-new), oldest first. A
 * history that cannot be read becomes a warning.
 * @throws what listing or describing the workflow throws (WorkflowNotFoundError).
 */
export async function readRolloutRuns(client: Client, workflowId: string): Promise<RolloutRuns> {
  const out: RolloutRuns = { calls: [], warnings: [] };
  const runs: { runId: string; start: number }[] = [];
  for await (const r of client.workflow.list({ query: `WorkflowId = ${quoteForVisibility(workflowId)}` })) {
    runs.push({ runId: r.runId, start: r.startTime.getTime() });
  }
  runs.sort((a, b) => a.start - b.start);
  if (runs.length === 0) {
    const d = await client.workflow.getHandle(workflowId).describe();
    runs.push({ runId: d.runId, start: d.startTime.getTime() });
  }
  for (const [i, run] of runs.entries()) {
    try {
      const h = client.workflow.getHandle(workflowId, run.runId);
      const x = extractHistory(await h.fetchHistory());
      if (i === 0) out.input = x.input as RolloutInput | undefined;
      for (const c of x.calls) out.calls.push(toCall(c, workflowId, run.runId));
      if (i === runs.length - 1) out.workflowStatus = (await h.describe()).status.name;
    } catch (err) {
      out.warnings.push(unreadable(workflowId, run.runId, err));
    }
  }
  return out;
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

/** Devices whose status says a device workflow of this rollout ran for them. */
function expectedToHaveRun(d: DeviceStatus): boolean {
  if (d.outcome === 'pending' || d.outcome === 'excluded') return false;
  return !['HeldByAnotherRollout', 'DeadlinePassed', 'DeviceWorkflowFailed'].includes(d.errorCode ?? '');
}

/** A device workflow run as the report lists it, from its visibility entry and its history. */
function deviceRun(
  info: WorkflowExecutionInfo,
  calls: number,
  input: DeviceUpgradeInput | undefined,
  result: DeviceUpgradeResult | undefined,
): DeviceRun {
  const run: DeviceRun = {
    workflowId: info.workflowId,
    runId: info.runId,
    mode: input?.mode ?? 'unknown',
    status: result ? 'COMPLETED' : info.status.name,
    startedAt: info.startTime.getTime(),
    closedAt: info.closeTime?.getTime(),
    calls,
  };
  if (result) {
    run.reportedCalls = result.apiCalls;
    run.outcome = result.outcome;
    if (result.errorCode) run.errorCode = result.errorCode;
    if (result.compensation) run.compensation = result.compensation;
  }
  return run;
}

/** The device workflow runs of a rollout, by SmartAG ID, with what their histories recorded. */
export class DeviceRuns {
  /** Each device's runs, in the order they were read. */
  readonly byDevice: Record<string, DeviceRun[]> = {};
  /** Not-reversible serial numbers that compensation runs reported, by SmartAG ID. */
  readonly notReversible: Record<string, NonNullable<ReportDevice['notReversible']>> = {};
  readonly calls: ReportCall[] = [];
  readonly warnings: string[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly client: Client) {}

  /** Reads a run's history once (visibility may list a run twice); a failed read becomes a warning. */
  async read(info: WorkflowExecutionInfo): Promise<void> {
    if (this.seen.has(info.runId)) return;
    this.seen.add(info.runId);
    try {
      const x = extractHistory(
        await this.client.workflow.getHandle(info.workflowId, info.runId).fetchHistory(),
      );
      const input = asDeviceInput(x.input);
      const result = asDeviceResult(x.result);
      const id = input?.device.smartAgId ?? info.workflowId.replace(/^upgrade\//, '');
      for (const c of x.calls) this.calls.push(toCall(c, info.workflowId, info.runId, id));
      const run = deviceRun(info, x.calls.length, input, result);
      if (run.compensation && run.compensation.notReversible.length > 0)
        (this.notReversible[id] ??= []).push(...run.compensation.notReversible);
      (this.byDevice[id] ??= []).push(run);
    } catch (err) {
      this.warnings.push(unreadable(info.workflowId, info.runId, err));
    }
  }
}

/**
 * Reads the histories of every device workflow of the rollout (upgrade and compensation runs),
 * listed through the `SagRolloutId` search attribute, `concurrency` at a time. Visibility is
 * eventually consistent: while a device whose status says it ran has no run listed, it lists again
 * for up to `visibilityWaitMs`, then names the missing devices in a warning.
 * @throws what a visibility query throws.
 */
export async function readDeviceRuns(
  client: Client,
  rolloutId: string,
  statuses: DeviceStatus[],
  options: { concurrency: number; visibilityWaitMs: number },
): Promise<DeviceRuns> {
  const runs = new DeviceRuns(client);
  const query = `${SA_ROLLOUT_ID.name} = ${quoteForVisibility(rolloutId)} AND WorkflowType = 'deviceUpgradeWorkflow'`;
  const expected = statuses.filter(expectedToHaveRun).map((d) => d.smartAgId);
  const deadline = Date.now() + options.visibilityWaitMs;
  for (;;) {
    await forEachLimited(client.workflow.list({ query }), options.concurrency, (info) => runs.read(info));
    const missing = expected.filter((id) => !runs.byDevice[id]);
    if (missing.length === 0) break;
    if (Date.now() >= deadline) {
      runs.warnings.push(
        `no device workflow found (visibility) for ${missing.length} devices: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}`,
      );
      break;
    }
    // Visibility is eventually consistent: a run that just started or closed may not be listed yet.
    await new Promise((r) => setTimeout(r, 500));
  }
  return runs;
}
