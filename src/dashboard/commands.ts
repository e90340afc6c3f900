/** The operator commands the page may send, checked before they reach the rollout. */

import type { ControlKind } from '../operator/control';
import { HttpError } from './http';

/** The controls the page offers (set-pace is the CLI's only). */
const COMMANDS: readonly ControlKind[] = [
  'pause',
  'resume',
  'approve',
  'abort',
  'exclude',
  'retry-failed',
  'promote',
];

/** An operator command from the page, checked. */
export interface PageCommand {
  kind: ControlKind;
  by: string;
  reason?: string;
  wave?: number;
  smartAgIds?: string[];
  compensate?: boolean;
}

/**
 * Checks and narrows an operator command from the page.
 * @throws HttpError 400 naming the field that is wrong.
 */
export function parseCommand(body: Record<string, unknown>, authenticated?: string): PageCommand {
  const kind = body.command;
  if (typeof kind !== 'string' || !(COMMANDS as readonly string[]).includes(kind))
    throw new HttpError(400, `command must be one of ${COMMANDS.join(', ')}`);
  // An authenticated operator is who they are; the name typed on the page counts only without one.
  const by = authenticated ?? (typeof body.by === 'string' ? body.by.trim() : '');
  if (!by || by.length > 100) throw new HttpError(400, 'say who you are (by: 1 to 100 characters)');
  const reason = body.reason === undefined || body.reason === '' ? undefined : body.reason;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 1000))
    throw new HttpError(400, 'reason: up to 1,000 characters');
  const wave = body.wave;
  if (wave !== undefined && !(typeof wave === 'number' && Number.isInteger(wave) && wave >= 0))
    throw new HttpError(400, 'wave: a whole number ≥ 0');
  const ids = body.smartAgIds;
  if (
    ids !== undefined &&
    !(
      Array.isArray(ids) &&
      ids.length <= 10_000 &&
      ids.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200)
    )
  ) {
    throw new HttpError(400, 'smartAgIds: a list of SmartAGIds');
  }
  if (kind === 'exclude' && !(Array.isArray(ids) && ids.length > 0))
    throw new HttpError(400, 'exclude: name at least one SmartAGId');
  const compensate = body.compensate;
  if (compensate !== undefined && typeof compensate !== 'boolean')
    throw new HttpError(400, 'compensate: true or false');
  return { kind: kind as ControlKind, by, reason, wave, smartAgIds: ids, compensate };
}
