import { condition } from '@temporalio/workflow';
import type { Rollout } from './state';

/** Waits while the rollout is paused (an operator's pause or a halt), unless it is aborted. */
export async function pausedGate(r: Rollout): Promise<void> {
  const { st } = r;
  if (st.paused && !st.aborted) {
    st.gate = { kind: 'pause', wave: st.currentWave, detail: st.haltReason };
    await condition(() => !st.paused || st.aborted);
    st.gate = undefined;
  }
}
