/**
 * Devices a rollout skipped without reaching them: the deadline passed before they started
 * (`DeadlinePassed`), or another rollout held them (`HeldByAnotherRollout`). Unlike a device
 * skipped because it is on the target already or excluded on purpose, such a device is not done:
 * the exit code of a completed rollout (src/cli/errors.ts) and `export`'s default take them.
 */
import type { DeviceStatus } from '../../domain/types';

/** The error codes of a skipped device that the rollout did not reach. */
export const NOT_REACHED_CODES: readonly string[] = Object.freeze(['DeadlinePassed', 'HeldByAnotherRollout']);

/** Whether the rollout skipped this device without reaching it. */
export function notReached(d: Pick<DeviceStatus, 'outcome' | 'errorCode'>): boolean {
  return d.outcome === 'skipped' && NOT_REACHED_CODES.includes(d.errorCode ?? '');
}
