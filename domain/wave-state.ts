/** How a rollout's waves read once it has closed. Pure and replay-safe. */
import type { RolloutState, WaveState } from './types';

/** Rollout states in which the rollout's workflow has closed or is about to. */
export const CLOSED_ROLLOUT_STATES: readonly RolloutState[] = ['completed', 'aborted', 'failed'];

/**
 * A wave's state once its rollout closed as `rollout`: a wave that started and did not finish
 * was cut short (`aborted`), one that never started was `skipped`; a finished wave stays as it was.
 * While the rollout runs (any other state) the wave's own state stands.
 */
export function closedWaveState(wave: WaveState, rollout: RolloutState): WaveState {
  if (!CLOSED_ROLLOUT_STATES.includes(rollout)) return wave;
  if (wave === 'pending') return 'skipped';
  if (wave === 'running' || wave === 'baking' || wave === 'waiting-approval' || wave === 'halted')
    return 'aborted';
  return wave;
}
