import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../../workflows/messages';
import type { RolloutProgress } from '../../domain/types';

/**
 * Polls a rollout's progress query until `pred` holds (tests never sleep on wall-clock time to
 * wait for progress). The error names what was awaited and the last progress seen.
 */
export async function untilProgress(
  handle: WorkflowHandle,
  what: string,
  pred: (p: RolloutProgress) => boolean,
  timeoutMs = 30_000,
): Promise<RolloutProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await handle.query(progressQuery);
    if (pred(p)) return p;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}; last progress: ${JSON.stringify({ state: p.state, counts: p.counts, gate: p.gate })}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
