import { condition } from '@temporalio/workflow';
import { freeSlots } from '../../domain/overlap';
import { nextSlice, partName, type PlannedWave } from '../../domain/plan';
import { sendToPart } from './forward';
import { pausedGate } from './gates';
import { runPart } from './parts';
import type { Rollout } from './state';

/**
 * Runs a wave's still-pending devices in parts that overlap (`overlapParts`): the next part starts
 * once no running part still starts devices of its own slice and slots are free, on those slots;
 * it is given more as the earlier parts' last devices finish (see shares.ts). Returns when every
 * part ended: aborted, or with no device of the wave pending.
 */
export async function runOverlapped(r: Rollout, w: PlannedWave, single: boolean): Promise<void> {
  const { st } = r;
  const parts: Promise<unknown>[] = [];
  for (;;) {
    await pausedGate(r);
    if (st.aborted) break;
    await condition(() => st.aborted || st.paused || mayStartPart(r));
    if (st.aborted) break;
    if (st.paused) continue;
    const slice = nextSlice(st.devices, w.devices, r.policy.maxPartSize);
    if (!slice) break;
    st.currentPart++;
    const slots = freeSlots(st.pace.concurrency, r.shares.values());
    const name = partName(w.index, st.currentPart, single);
    parts.push(runPart(r, w.index, name, slice, w.name === 'canary', { slots }).then(() => abortOthers(r)));
  }
  await Promise.all(parts);
}

/** No running part still starts devices of its own slice or decided a halt, and slots are free. */
function mayStartPart(r: Rollout): boolean {
  if (r.halting.size > 0) return false;
  for (const s of r.shares.values()) if (s.feeding) return false;
  return freeSlots(r.st.pace.concurrency, r.shares.values()) > 0;
}

/** A part that failed or aborted itself aborted the rollout: the parts still running abort too. */
function abortOthers(r: Rollout): void {
  if (r.st.aborted && r.shares.size > 0) sendToPart(r, { kind: 'abort', compensate: r.st.abortCompensate });
}
