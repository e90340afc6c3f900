import type { Client, WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { getRolloutStatus, type RolloutStatus } from '../../src/operator/status';
import type { SimulatorHandle } from '../../src/simulator';
import { progressQuery } from '../../workflows/messages';
import type { ChangeWindow, InventoryDevice, RolloutProgress } from '../../domain/types';

/** A one-off change window `[start, end)` in ms, written as ISO instants in UTC. */
export function onceWindow(start: number, end: number, name?: string): ChangeWindow {
  return {
    kind: 'once',
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    ...(name ? { name } : {}),
  };
}

/** Inventory rows in the simulator's default region. */
export function inventory(ids: string[], serials: Record<string, string[]> = {}): InventoryDevice[] {
  return ids.map((smartAgId) => ({
    smartAgId,
    regionId: 'cn-shanghai',
    ...(serials[smartAgId] ? { serialNumbers: serials[smartAgId] } : {}),
  }));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `pred` holds; throws with the last value after `timeoutMs`. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  pred: (v: T) => boolean,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (pred(last)) return last;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 1500)}`);
    await pause(everyMs);
  }
}

/** Polls the rollout's merged status (the CLI's `status --json` view). */
export function statusUntil(
  client: Client,
  rolloutId: string,
  pred: (s: RolloutStatus) => boolean,
  timeoutMs: number,
  what: string,
): Promise<RolloutStatus> {
  return pollUntil(
    () => getRolloutStatus(client, rolloutId, { queryTimeoutMs: 10_000 }),
    pred,
    timeoutMs,
    what,
  );
}

/** Polls the rollout's progress query. */
export function progressUntil(
  handle: WorkflowHandle,
  pred: (p: RolloutProgress) => boolean,
  timeoutMs: number,
  what: string,
): Promise<RolloutProgress> {
  return pollUntil(() => handle.query(progressQuery), pred, timeoutMs, what);
}

/** When each device was sent `UpdateSmartAccessGatewayVersion` (ms), from the simulator's request log. */
export function upgradeCallTimes(sim: SimulatorHandle, ids: string[]): Record<string, number[]> {
  const out: Record<string, number[]> = Object.fromEntries(ids.map((id) => [id, [] as number[]]));
  for (const r of sim.requests()) {
    if (r.action !== 'UpdateSmartAccessGatewayVersion' || !r.smartAgId || !(r.smartAgId in out)) continue;
    out[r.smartAgId]!.push(Date.parse(r.time));
  }
  return out;
}

/** Start and close times (ms) of each device's `upgrade/<SmartAGId>` workflow, from the server. */
export async function deviceRuns(
  client: Client,
  ids: string[],
): Promise<Record<string, { start: number; close?: number } | undefined>> {
  const out: Record<string, { start: number; close?: number } | undefined> = {};
  for (const id of ids) {
    try {
      const d = await client.workflow.getHandle(`upgrade/${id}`).describe();
      out[id] = { start: d.startTime.getTime(), close: d.closeTime?.getTime() };
    } catch (err) {
      if (err instanceof Error && err.name === 'WorkflowNotFoundError') out[id] = undefined;
      else throw err;
    }
  }
  return out;
}

/**
 * When the wave part decided to start each device (ms): the time of the workflow task that
 * initiated its `upgrade/<SmartAGId>` child, which is the part's `Date.now()` at that decision.
 * The child's own start time comes later, by however long the server took.
 */
export async function startDecisions(
  client: Client,
  partWorkflowId: string,
): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(partWorkflowId).fetchHistory();
  const out: Record<string, number> = {};
  let taskStarted = 0;
  for (const e of history.events ?? []) {
    if (e.workflowTaskStartedEventAttributes) taskStarted = tsToMs(e.eventTime);
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (child?.workflowType?.name === 'deviceUpgradeWorkflow' && child.workflowId?.startsWith('upgrade/')) {
      out[child.workflowId.slice('upgrade/'.length)] ??= taskStarted;
    }
  }
  return out;
}
