/**
 * The policy settings the night-window benchmark adds to today's design: the levers that cut API
 * calls per device and pace the rollout by the account's budget. Empty until a lever exists.
 */
import type { RolloutPolicy } from '../../domain/types';

export function nightLevers(
  _base: RolloutPolicy,
  _opts: { scale: number; budget: number },
): Partial<RolloutPolicy> {
  return {};
}
