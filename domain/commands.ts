/**
 * Operator commands to a rollout, decided from their inputs alone: the shape checks of update
 * validators, the idempotency record, and the decisions of approve, promote and exclude. The
 * rollout workflow applies what these decide. Pure and replay-safe.
 */
import type { DeviceStatus, RolloutPolicy, RolloutProgress } from './types';

/**
 * Update validators run synchronously and only check shape; refusals on state are answered by
 * the handler and audited.
 * @throws Error (the update is rejected, nothing is recorded) without `by` or `requestId`.
 */
export function validateCommand(cmd: { by?: unknown; requestId?: unknown }): void {
  if (!cmd || typeof cmd.by !== 'string' || cmd.by.trim() === '')
    throw new Error('the command must say who sends it (by)');
  if (typeof cmd.requestId !== 'string' || cmd.requestId === '')
    throw new Error('the command needs a requestId');
}

/** @throws Error without a device to exclude, or as `validateCommand`. */
export function validateExclude(cmd: { by?: unknown; requestId?: unknown; smartAgIds?: unknown }): void {
  validateCommand(cmd);
  if (!Array.isArray(cmd.smartAgIds) || cmd.smartAgIds.length === 0)
    throw new Error('name at least one SmartAGId');
}

/** @throws Error on a concurrency below 1 or not whole, a negative cap, or as `validateCommand`. */
export function validatePace(cmd: {
  by?: unknown;
  requestId?: unknown;
  concurrency?: number;
  maxPerMinute?: number;
}): void {
  validateCommand(cmd);
  if (cmd.concurrency !== undefined && !(Number.isInteger(cmd.concurrency) && cmd.concurrency >= 1))
    throw new Error('concurrency must be a whole number ≥ 1');
  if (cmd.maxPerMinute !== undefined && !(cmd.maxPerMinute >= 0)) throw new Error('maxPerMinute must be ≥ 0');
}

/**
 * Records the answer to a command under its requestId, forgetting the oldest beyond `limit`, so a
 * repeated command is answered the same way without acting again.
 */
export function rememberCommand<T>(
  seen: Record<string, T>,
  order: string[],
  requestId: string,
  answer: T,
  limit: number,
): void {
  seen[requestId] = answer;
  order.push(requestId);
  while (order.length > limit) delete seen[order.shift()!];
}

/** A command refused (with the reason the operator reads) or accepted. */
export type Decision<T = object> = { accepted: false; message: string } | ({ accepted: true } & T);

type Gate = RolloutProgress['gate'];

/** The authenticated identities of the command's sender and of the rollout's starter, when known. */
export interface Identities {
  by?: string;
  operator?: string;
}

/**
 * Whether the sender may be the operator who started the rollout: the same authenticated identity
 * (a second display name changes nothing), or the same display name (an identity from another
 * channel, the CLI against the dashboard, does not make the same name someone else).
 */
export function sameOperator(by: string, operator: string, ids: Identities = {}): boolean {
  if (ids.by && ids.operator && ids.by === ids.operator) return true;
  return by === operator;
}

/**
 * Whether an identity is an OS account that names no person: `root`, `Administrator` or any
 * uid-0 account (the CLI writes those `os:<user>(uid 0)@<host>`), shared by whoever administers a
 * host. The same account on two hosts (`os:root@a`, `os:root@b`) may be one person or two.
 */
export function sharedAccount(identity: string | undefined): boolean {
  if (!identity?.startsWith('os:')) return false;
  const at = identity.lastIndexOf('@');
  const user = at > 3 ? identity.slice(3, at) : identity.slice(3);
  return /^(root|administrator)$/i.test(user) || user.endsWith('(uid 0)');
}

/** Which sides of a decision refuse a shared OS account (see `sharedAccountRefusal`). */
export interface SharedAccountRule {
  starter: boolean;
  approver: boolean;
}

/**
 * Why approverMustDiffer cannot tell the approver from the starter: either of them is known only
 * as a shared OS account. Undefined when both are people (or unauthenticated display names).
 */
export function sharedAccountRefusal(
  ids: Identities,
  rule: SharedAccountRule = { starter: true, approver: true },
): string | undefined {
  const who =
    rule.starter && sharedAccount(ids.operator)
      ? `the rollout was started as ${ids.operator}`
      : rule.approver && sharedAccount(ids.by)
        ? `the approval comes from ${ids.by}`
        : undefined;
  if (!who) return undefined;
  return `approverMustDiffer needs people: ${who}, a shared OS account that names no one; start and approve with a Temporal client certificate (cert:<subject>) or the dashboard's per-operator tokens`;
}

function starterText(operator: string, ids: Identities): string {
  return ids.by && ids.operator ? `${operator}, authenticated as ${ids.operator}` : operator;
}

/** Whether `by` may approve the waiting gate (`wave`: the one the operator means, if named). */
export function decideApproval(
  gate: Gate,
  wave: number | undefined,
  by: string,
  operator: string,
  approverMustDiffer: boolean,
  ids: Identities = {},
  /** Which sides refuse shared OS accounts; off for approvals decided before the rule. */
  sharedAccounts: SharedAccountRule = { starter: true, approver: true },
): Decision<{ wave: number }> {
  if (!gate || gate.kind !== 'approval') return { accepted: false, message: 'no approval gate is waiting' };
  if (wave !== undefined && wave !== gate.wave)
    return { accepted: false, message: `the waiting gate is before wave ${gate.wave}, not ${wave}` };
  if (approverMustDiffer && sameOperator(by, operator, ids)) {
    return {
      accepted: false,
      message: `the approver must differ from the operator who started the rollout (${starterText(operator, ids)})`,
    };
  }
  const shared = approverMustDiffer ? sharedAccountRefusal(ids, sharedAccounts) : undefined;
  if (shared) return { accepted: false, message: shared };
  return { accepted: true, wave: gate.wave };
}

/** Whether `by` may promote past the waiting bake or approval gate. */
export function decidePromotion(
  gate: Gate,
  by: string,
  operator: string,
  approverMustDiffer: boolean,
  ids: Identities = {},
  sharedAccounts: SharedAccountRule = { starter: true, approver: true },
): Decision<{ kind: 'bake' | 'approval'; wave: number }> {
  if (!gate || (gate.kind !== 'bake' && gate.kind !== 'approval'))
    return { accepted: false, message: 'no bake or gate is waiting' };
  if (gate.kind === 'approval' && approverMustDiffer && sameOperator(by, operator, ids)) {
    return { accepted: false, message: 'promoting past an approval gate needs a different approver' };
  }
  const shared =
    gate.kind === 'approval' && approverMustDiffer ? sharedAccountRefusal(ids, sharedAccounts) : undefined;
  if (shared) return { accepted: false, message: `promoting past an approval gate: ${shared}` };
  return { accepted: true, kind: gate.kind, wave: gate.wave };
}

/**
 * Which of `ids` an exclusion takes out: `exclude` the pending ones (they change now), `done`
 * those and the ones already excluded, `refused` the rest with why. With `partAsks`, a device of
 * the part running now (`in-progress` to the rollout, which does not know whether the part started
 * it) is `asked`: the part takes it out unless it has started it.
 */
export function planExclusion(
  devices: Record<string, DeviceStatus>,
  ids: string[],
  partAsks = false,
): { exclude: string[]; done: string[]; asked: string[]; refused: string[] } {
  const exclude: string[] = [];
  const done: string[] = [];
  const asked: string[] = [];
  const refused: string[] = [];
  for (const id of ids) {
    const d = devices[id];
    if (!d) refused.push(`${id} (not in this rollout)`);
    else if (d.outcome === 'excluded') done.push(id);
    else if (d.outcome === 'in-progress' && partAsks) asked.push(id);
    else if (d.outcome !== 'pending') refused.push(`${id} (${d.outcome})`);
    else {
      exclude.push(id);
      done.push(id);
    }
  }
  return { exclude, done, asked, refused };
}

/** Whether a wave waits for an operator's approval before it starts (never the canary). */
export function needsApproval(wave: number, approval: RolloutPolicy['approval']): boolean {
  return wave > 0 && (approval === 'each-wave' || (approval === 'canary' && wave === 1));
}
