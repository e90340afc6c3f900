import { patched, setHandler } from '@temporalio/workflow';
import {
  abortSignal,
  abortUpdate,
  approveUpdate,
  excludeUpdate,
  pauseSignal,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  retryFailedUpdate,
  setPaceUpdate,
  type AbortCommand,
  type ApproveCommand,
  type CommandResult,
  type ExcludeCommand,
  type OperatorCommand,
  type PaceCommand,
  type PartControl,
} from '../messages';
import { emptyBudget } from '../../domain/budget';
import {
  decideApproval,
  decidePromotion,
  planExclusion,
  type SharedAccountRule,
  rememberCommand,
  validateCommand,
  validateExclude,
  validatePace,
} from '../../domain/commands';
import { sendToPart } from './forward';
import { freshShares, tellParts } from './shares';
import type { Rollout } from './state';

/** Commands remembered by requestId, for idempotency across retries of the CLI and across runs. */
const SEEN_LIMIT = 500;

/** What a command did: accepted or refused, the operator's answer, the control the part is sent. */
interface Outcome {
  accepted: boolean;
  message: string;
  fwd?: PartControl;
}

/**
 * Wires the operator commands to the rollout: pause and abort as signals (stored by the server,
 * so they work while no worker runs) and as updates, the others as updates with a validator.
 */
export function setCommandHandlers(r: Rollout): void {
  setHandler(pauseSignal, (cmd) => void pause(r, cmd));
  setHandler(abortSignal, (cmd) => void abort(r, cmd));
  setHandler(pauseUpdate, (cmd) => pause(r, cmd), { validator: validateCommand });
  setHandler(abortUpdate, (cmd) => abort(r, cmd), { validator: validateCommand });
  setHandler(resumeUpdate, (cmd) => resume(r, cmd), { validator: validateCommand });
  setHandler(approveUpdate, (cmd) => approve(r, cmd), { validator: validateCommand });
  setHandler(promoteUpdate, (cmd) => promote(r, cmd), { validator: validateCommand });
  setHandler(excludeUpdate, (cmd) => exclude(r, cmd), { validator: validateExclude });
  setHandler(retryFailedUpdate, (cmd) => retryFailed(r, cmd), { validator: validateCommand });
  setHandler(setPaceUpdate, (cmd) => setPace(r, cmd), { validator: validatePace });
}

/**
 * Runs an operator command once per requestId: a repeat is answered as the first time and changes
 * nothing. Refusals are answered and audited too; an accepted control goes on to the running part.
 */
function once(r: Rollout, kind: string, cmd: OperatorCommand, run: () => Outcome): CommandResult {
  const { st } = r;
  const prior = st.seen[cmd.requestId];
  if (prior) return { ...prior, duplicate: true };
  const o = run();
  r.audit(o.accepted ? kind : `${kind}-refused`, {
    by: cmd.by,
    reason: cmd.reason,
    detail: {
      message: o.message,
      requestId: cmd.requestId,
      ...(cmd.identity ? { identity: cmd.identity } : {}),
    },
  });
  if (o.fwd) sendToPart(r, o.fwd);
  const result: CommandResult = {
    accepted: o.accepted,
    duplicate: false,
    state: st.state,
    message: o.message,
  };
  rememberCommand(st.seen, st.seenOrder, cmd.requestId, result, SEEN_LIMIT);
  return result;
}

export function pause(r: Rollout, cmd: OperatorCommand): CommandResult {
  const { st } = r;
  return once(r, 'pause', cmd, () => {
    if (r.closed() || st.aborted) return { accepted: false, message: `rollout is ${st.state}` };
    if (st.paused) return { accepted: true, message: 'already paused' };
    st.paused = true;
    r.setState('paused');
    return {
      accepted: true,
      message: 'paused: no new device starts; upgrades in flight finish',
      fwd: { kind: 'pause' },
    };
  });
}

/** Abort is a state change, not a cancellation: devices in flight always finish. */
export function abort(r: Rollout, cmd: AbortCommand): CommandResult {
  const { st } = r;
  return once(r, 'abort', cmd, () => {
    if (r.closed()) return { accepted: false, message: `rollout is ${st.state}` };
    if (st.aborted) return { accepted: true, message: 'already aborting' };
    st.aborted = true;
    st.abortCompensate = cmd.compensate ?? true;
    if (patched('aborting-state')) r.setState('aborting');
    return {
      accepted: true,
      message: `aborting${st.abortCompensate ? ' with compensation' : ''}: upgrades in flight finish first`,
      fwd: { kind: 'abort', compensate: st.abortCompensate },
    };
  });
}

function resume(r: Rollout, cmd: OperatorCommand): CommandResult {
  const { st } = r;
  return once(r, 'resume', cmd, () => {
    if (r.closed() || st.aborted)
      return { accepted: false, message: `rollout is ${st.aborted ? 'aborting' : st.state}` };
    if (!st.paused) return { accepted: true, message: 'not paused' };
    st.paused = false;
    // A resume after a halt starts a fresh failure budget for the rest of the rollout.
    const fresh =
      st.haltReason !== undefined &&
      patched('resume-fresh-budget') &&
      !st.haltCredentials &&
      st.haltBudget !== false;
    if (fresh) st.budget = emptyBudget();
    // Overlapping parts start their counts afresh with the rollout's, in a new budget epoch.
    const overlapping = r.shares.size > 0;
    if (fresh && overlapping) {
      st.budgetEpoch = (st.budgetEpoch ?? 0) + 1;
      freshShares(r);
    }
    st.haltCredentials = undefined;
    st.haltBudget = undefined;
    st.haltReason = undefined;
    st.haltCount = undefined;
    r.setState('running');
    return {
      accepted: true,
      message: 'resumed',
      fwd: { kind: 'resume', ...(fresh && overlapping ? { fresh, epoch: st.budgetEpoch } : {}) },
    };
  });
}

/**
 * Which sides of an approval refuse a shared OS account: none for approvals decided before the
 * rule (they replay as decided), the starter only in rollouts started under it (a rollout started
 * as root before could never be approved again), the approver always.
 */
function sharedAccountRule(r: Rollout): SharedAccountRule {
  const rule = patched('shared-account-approvers');
  return { starter: rule && r.input.sharedAccountRule === true, approver: rule };
}

/** A wave as every screen names it (`canary`, `wave-1`), not by its index. */
export function waveName(r: Rollout, wave: number): string {
  return r.st.plan[wave]?.name ?? `wave ${wave}`;
}

function approve(r: Rollout, cmd: ApproveCommand): CommandResult {
  const { st, policy, input } = r;
  return once(r, 'approve', cmd, () => {
    const d = decideApproval(
      st.gate,
      cmd.wave,
      cmd.by,
      input.operator,
      policy.approverMustDiffer,
      { by: cmd.identity, operator: input.operatorIdentity },
      sharedAccountRule(r),
    );
    if (!d.accepted) return d;
    st.approvals[String(d.wave)] = { by: cmd.by, at: Date.now() };
    return { accepted: true, message: `${waveName(r, d.wave)} approved by ${cmd.by}` };
  });
}

function promote(r: Rollout, cmd: OperatorCommand): CommandResult {
  const { st, policy, input } = r;
  return once(r, 'promote', cmd, () => {
    const d = decidePromotion(
      st.gate,
      cmd.by,
      input.operator,
      policy.approverMustDiffer,
      { by: cmd.identity, operator: input.operatorIdentity },
      sharedAccountRule(r),
    );
    if (!d.accepted) return d;
    st.promoted[String(d.wave)] = true;
    if (d.kind === 'approval') st.approvals[String(d.wave)] = { by: cmd.by, at: Date.now() };
    return { accepted: true, message: `promoted past the ${d.kind} before ${waveName(r, d.wave)}` };
  });
}

function exclude(r: Rollout, cmd: ExcludeCommand): CommandResult {
  const { st } = r;
  return once(r, 'exclude', cmd, () => {
    // Devices of the running part that it may not have started yet: it decides (an exclusion
    // refused them before it could).
    const partAsks =
      (r.activePart !== undefined || r.shares.size > 0) && patched('exclude-asks-running-part');
    const { exclude: ids, done, asked, refused } = planExclusion(st.devices, cmd.smartAgIds, partAsks);
    for (const id of ids) {
      st.devices[id]!.outcome = 'excluded';
      st.devices[id]!.message = cmd.reason;
    }
    for (const id of asked) (st.excludeAsked ??= {})[id] = cmd.reason;
    const forward = [...done, ...asked];
    const msg = [
      `excluded ${done.length}`,
      ...(asked.length
        ? [`${asked.length} in the running part: taken out unless already started (${asked.join(', ')})`]
        : []),
      ...(refused.length ? [`refused: ${refused.join(', ')}`] : []),
    ].join('; ');
    return {
      accepted: forward.length > 0,
      message: msg,
      fwd: forward.length ? { kind: 'exclude', smartAgIds: forward } : undefined,
    };
  });
}

function retryFailed(r: Rollout, cmd: OperatorCommand): CommandResult {
  const { st } = r;
  return once(r, 'retry-failed', cmd, () => {
    if (r.closed() || st.aborted)
      return { accepted: false, message: `rollout is ${st.aborted ? 'aborting' : st.state}` };
    const failed = Object.values(st.devices).filter(
      (d) => d.outcome === 'failed' || d.outcome === 'compensated',
    );
    if (failed.length === 0) return { accepted: false, message: 'no failed devices' };
    for (const d of failed) {
      if (!st.retryQueue.includes(d.smartAgId)) st.retryQueue.push(d.smartAgId);
    }
    return {
      accepted: true,
      message: `${failed.length} failed ${failed.length === 1 ? 'device' : 'devices'} queued for another attempt`,
    };
  });
}

function setPace(r: Rollout, cmd: PaceCommand): CommandResult {
  const { st } = r;
  return once(r, 'set-pace', cmd, () => {
    if (r.closed()) return { accepted: false, message: `rollout is ${st.state}` };
    if (cmd.concurrency !== undefined) st.pace.concurrency = cmd.concurrency;
    if (cmd.maxPerMinute !== undefined)
      st.pace.maxPerMinute = cmd.maxPerMinute > 0 ? cmd.maxPerMinute : undefined;
    const overlapping = r.shares.size > 0;
    // Overlapping parts share the concurrency: the part still starting devices is given what the
    // others leave of it.
    if (overlapping) tellParts(r);
    return {
      accepted: true,
      message: `pace: ${st.pace.concurrency} in flight, ${st.pace.maxPerMinute ?? 'no'} per-minute cap`,
      fwd: {
        kind: 'pace',
        concurrency: overlapping ? undefined : cmd.concurrency,
        maxPerMinute: cmd.maxPerMinute,
      },
    };
  });
}
