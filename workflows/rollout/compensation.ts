import { executeChild } from '@temporalio/workflow';
import { wavePartWorkflow, type WavePartInput } from '../part';
import { mergeCompensated } from '../../domain/device-status';
import { rolloutChildId } from '../../domain/ids';
import { compensationPartName, splitParts } from '../../domain/plan';
import { partChildOptions } from './parts';
import type { Rollout } from './state';

type Seeds = NonNullable<WavePartInput['compensateOnly']>;

/**
 * After an abort: compensates every failed or unconfirmed device of every wave so far that no
 * part compensated yet, in parts of at most `maxPartSize`, and records what each compensation
 * did or why it could not.
 */
export async function compensateFailed(r: Rollout): Promise<void> {
  const { st } = r;
  const seeds = compensationSeeds(r);
  const ids = Object.keys(seeds);
  if (ids.length === 0) return;
  r.audit('compensating', { detail: { devices: ids.length } });
  for (const [k, chunk] of splitParts(ids, r.policy.maxPartSize).entries()) {
    const workflowId = rolloutChildId(r.input.rolloutId, compensationPartName(k));
    r.activePart = workflowId;
    const part: Seeds = {};
    for (const id of chunk) part[id] = seeds[id]!;
    const result = await executeChild(wavePartWorkflow, {
      ...partChildOptions(r, workflowId),
      args: [compensationInput(r, k, chunk, part)],
    });
    r.activePart = undefined;
    for (const d of result.devices) {
      const prev = st.devices[d.smartAgId];
      if (prev) st.devices[d.smartAgId] = mergeCompensated(prev, d);
    }
  }
}

/** What compensation needs of each failed or unconfirmed device no part compensated yet. */
function compensationSeeds(r: Rollout): Seeds {
  const seeds: Seeds = {};
  for (const d of Object.values(r.st.devices)) {
    if ((d.outcome !== 'failed' && d.outcome !== 'unconfirmed') || d.compensation !== undefined) continue;
    const undo = d.undo ?? { pinned: [], policiesRestored: true, upgradeCalls: 0 };
    seeds[d.smartAgId] = { ...undo, serials: d.serials, outcome: d.outcome };
  }
  return seeds;
}

/** A compensation-only part: no budget, no windows, nothing started. */
function compensationInput(r: Rollout, k: number, chunk: string[], seeds: Seeds): WavePartInput {
  const { input } = r;
  return {
    rolloutId: input.rolloutId,
    parentWorkflowId: r.workflowId,
    wave: -1,
    part: k + 1,
    devices: chunk.map((id) => r.inventoryById[id]!),
    devicePolicy: r.devicePolicy,
    pace: r.st.pace,
    budget: {
      limitPercent: 100,
      minFailures: 0,
      maxConsecutive: 0,
      zeroTolerance: false,
      failedBefore: 0,
      finishedBefore: 0,
      consecutiveBefore: 0,
    },
    expectedUpgradeMs: 0,
    offlineRetryDelayMs: 0,
    maxDeferrals: 0,
    windows: [],
    freezes: [],
    paused: false,
    excluded: [],
    taskQueue: input.taskQueue,
    compensateOnly: seeds,
  };
}
