import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { rolloutStep } from '../activity-options';
import { durationMs } from '../durations';
import { auditQuery, devicesQuery, partHaltedSignal, partShareSignal, progressQuery } from '../messages';
import { SA_ROLLOUT_ID, SA_ROLLOUT_STATE, SA_TARGET_VERSION } from '../search-attributes';
import { resolveCodePolicy } from '../../domain/error-policy';
import type { RolloutInput } from '../../domain/types';
import { abort, setCommandHandlers } from './commands';
import { notify } from './notifications';
import { onPartHalted } from './parts';
import { onPartShare } from './shares';
import { Rollout, type RolloutResult } from './state';
import { runWaves } from './waves';

export type { RolloutCarried, RolloutResult } from './state';

/**
 * A fleet rollout: the canary, then growing waves, each run as child workflows of at most
 * `maxPartSize` devices, with bake times, health re-checks, approval gates, a failure budget,
 * compensation of a failed batch, change windows and operator controls. ID `rollout/<rolloutId>`.
 *
 * Abort is a state change, not a cancellation: devices in flight always finish.
 * @throws ApplicationFailure `TicketRequired`, `InvalidPolicy`, `ImpossibleWindow` (non-retryable):
 * the rollout is refused before any device starts.
 */
export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  // Everything runs in a scope that a cancellation does not reach: a cancel from the Temporal UI
  // or API becomes an abort with compensation (see `onCancel` below), so devices in flight
  // finish, failed devices are compensated and the report is written.
  const root = CancellationScope.current();
  return CancellationScope.nonCancellable(() => runRollout(input, root));
}

async function runRollout(input: RolloutInput, root: CancellationScope): Promise<RolloutResult> {
  const info = workflowInfo();
  const r = new Rollout(input, info.workflowId);
  // The start is recorded before any handler exists: a command delivered with the first workflow
  // task (a pause sent right after start) runs as soon as its handler is set, and must find the
  // rollout started, not be overwritten by it.
  const startedFirst = !input.carried && patched('started-before-handlers');
  if (startedFirst) recordStart(r);

  // Handlers are set in this order: commands buffered before they exist run as each is set.
  setCommandHandlers(r);
  setHandler(partHaltedSignal, (h) => onPartHalted(r, h));
  setHandler(partShareSignal, (rep) => onPartShare(r, rep));
  setHandler(progressQuery, () => r.progress());
  setHandler(devicesQuery, (q) => r.devicesPage(q));
  setHandler(auditQuery, (since) => r.auditSince(since));
  // onCancel: a cancellation through Temporal is an abort with compensation, audited like an operator's.
  root.cancelRequested.catch(() => {
    if (!patched('cancel-is-abort')) return;
    abort(r, {
      by: 'temporal',
      requestId: `temporal-cancel-${info.runId}`,
      reason: 'the workflow was cancelled through Temporal',
      compensate: true,
    });
  });

  if (!input.carried && !startedFirst) recordStart(r);

  // Windows that never open (before the deadline) are refused before any device starts, also for
  // rollouts started without the CLI's own check.
  const { policy } = input;
  const windowed = policy.windows.length > 0 || policy.freezes.length > 0 || policy.deadline !== undefined;
  if (!input.carried && windowed && patched('rollout-window-feasibility')) {
    try {
      await rolloutStep.checkWindowsFeasible({ policy, nowMs: Date.now() });
    } catch (err) {
      refuseImpossibleWindows(r, err);
    }
  }

  // An offline device goes back to the end of its wave as often as its row in the error-code table
  // retries it (`SmartAccessGatewayNotOnline`, `maximumAttempts` counts the first try).
  const offlineRow = resolveCodePolicy('SmartAccessGatewayNotOnline', policy.errorOverrides);
  r.maxDeferrals = patched('deferrals-from-code-table')
    ? Math.max(0, (offlineRow.maximumAttempts ?? 2) - 1)
    : 1;
  return runWaves(r, durationMs(policy.bake, 0));
}

/** The search attributes, the audit entry and the event of a rollout's start. */
function recordStart(r: Rollout): void {
  const { input, policy } = r;
  upsertSearchAttributes([
    { key: SA_ROLLOUT_ID, value: input.rolloutId },
    { key: SA_TARGET_VERSION, value: policy.targetVersion },
    { key: SA_ROLLOUT_STATE, value: 'running' },
  ]);
  r.audit('started', {
    by: input.operator,
    detail: {
      ticket: input.ticket ?? null,
      target: policy.targetVersion,
      versionType: policy.versionType,
      devices: input.inventory.length,
      ...(input.followUpOf ? { followUpOf: input.followUpOf } : {}),
      ...(input.operatorIdentity ? { identity: input.operatorIdentity } : {}),
    },
  });
  notify(r, 'rollout-started', { devices: input.inventory.length, target: policy.targetVersion });
}

/**
 * The rollout's windows never open before its deadline: it fails, audited, before any device starts.
 * @throws ApplicationFailure `ImpossibleWindow` (non-retryable); any other failure as it came.
 */
function refuseImpossibleWindows(r: Rollout, err: unknown): never {
  const cause =
    err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
  if (cause?.type !== 'ImpossibleWindow') throw err;
  r.st.finishedAt = Date.now();
  r.setState('failed');
  r.audit('refused', { by: r.input.operator, reason: cause.message });
  throw ApplicationFailure.nonRetryable(cause.message, 'ImpossibleWindow');
}
