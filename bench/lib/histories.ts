/**
 * History figures of a finished rollout: the rollout's runs, its parts, a sample of device
 * workflows (events, workflow tasks, API calls per outcome) and the largest history.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { DeviceUpgradeResult } from '../../domain/types';
import { median } from './stats';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface HistoryFigures {
  rolloutRuns: { runId: string; events: number }[];
  parts: { workflowId: string; events: number }[];
  devicesSampled: number;
  deviceEvents: { median: number; max: number; p95: number };
  deviceWorkflowTasks: { median: number; max: number };
  largest: { workflowId: string; events: number };
  callsPerUpgradedDevice: { median: number; max: number; min: number; n: number };
  callsByOutcome: Record<string, { n: number; medianCalls: number; medianEvents: number }>;
}

export async function histories(
  client: Client,
  rolloutWorkflowId: string,
  sampleSize: number,
): Promise<HistoryFigures> {
  const rolloutRuns: HistoryFigures['rolloutRuns'] = [];
  const partIds = new Set<string>();
  for await (const ex of client.workflow.list({ query: `WorkflowId = "${rolloutWorkflowId}"` })) {
    const h = await client.workflow.getHandle(rolloutWorkflowId, ex.runId).fetchHistory();
    const events = h.events ?? [];
    rolloutRuns.push({ runId: ex.runId, events: events.length });
    for (const e of events) {
      const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (id) partIds.add(id);
    }
  }
  const parts: HistoryFigures['parts'] = [];
  const deviceIds: string[] = [];
  for (const id of partIds) {
    const h = await client.workflow.getHandle(id).fetchHistory();
    const events = h.events ?? [];
    parts.push({ workflowId: id, events: events.length });
    for (const e of events) {
      const d = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (d) deviceIds.push(d);
    }
  }
  // A deterministic sample spread over the whole rollout, the canary included.
  const step = Math.max(1, Math.floor(deviceIds.length / sampleSize));
  const sample = deviceIds.filter((_, i) => i % step === 0).slice(0, sampleSize);
  const evCounts: number[] = [];
  const wfts: number[] = [];
  const upgradedCalls: number[] = [];
  const byOutcome: Record<string, { calls: number[]; events: number[] }> = {};
  let largestDevice = { workflowId: '', events: 0 };
  for (const id of sample) {
    // A rollout stopped at its timeout may leave children initiated but never started.
    const h = await client.workflow
      .getHandle(id)
      .fetchHistory()
      .catch(() => undefined);
    if (!h) continue;
    const events: HistoryEvent[] = h.events ?? [];
    evCounts.push(events.length);
    wfts.push(events.filter((e) => e.workflowTaskCompletedEventAttributes).length);
    if (events.length > largestDevice.events) largestDevice = { workflowId: id, events: events.length };
    const done = events.find(
      (e) => e.workflowExecutionCompletedEventAttributes,
    )?.workflowExecutionCompletedEventAttributes;
    const payload = done?.result?.payloads?.[0];
    if (payload) {
      const r = defaultPayloadConverter.fromPayload<DeviceUpgradeResult>(payload);
      const o = (byOutcome[r.outcome] ??= { calls: [], events: [] });
      o.calls.push(r.apiCalls);
      o.events.push(events.length);
      if (r.outcome === 'upgraded' && r.serials.length === 1) upgradedCalls.push(r.apiCalls);
    }
  }
  const all = [
    ...rolloutRuns.map((r) => ({
      workflowId: `${rolloutWorkflowId} (run ${r.runId.slice(0, 8)})`,
      events: r.events,
    })),
    ...parts,
    largestDevice,
  ];
  const largest = all.reduce((a, b) => (b.events > a.events ? b : a), { workflowId: '', events: 0 });
  const sorted = [...evCounts].sort((a, b) => a - b);
  return {
    rolloutRuns,
    parts,
    devicesSampled: sample.length,
    deviceEvents: {
      median: median(evCounts),
      max: Math.max(...evCounts),
      p95: sorted[Math.floor(sorted.length * 0.95)] ?? NaN,
    },
    deviceWorkflowTasks: { median: median(wfts), max: Math.max(...wfts) },
    largest,
    callsPerUpgradedDevice: {
      median: median(upgradedCalls),
      max: Math.max(...upgradedCalls),
      min: Math.min(...upgradedCalls),
      n: upgradedCalls.length,
    },
    callsByOutcome: Object.fromEntries(
      Object.entries(byOutcome).map(([k, v]) => [
        k,
        { n: v.calls.length, medianCalls: median(v.calls), medianEvents: median(v.events) },
      ]),
    ),
  };
}
