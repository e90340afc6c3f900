import { CancellationScope, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { apiCall, awaitDeviceActivity, upgradeCall } from './activity-options';
import type { CallRecord, DeviceSnapshot } from '../domain/device-types';
import { durationMs } from './durations';
import { resolveCodePolicy } from '../domain/error-policy';
import { classify, type ClassifiedFailure } from './failures';
import { deviceProgressQuery, type DeviceProgress } from './messages';
import { preflight, targetFor } from '../domain/preflight';
import {
  blockingSends,
  closeReached,
  closeSends,
  inProgress,
  markReverted,
  mergeOpenSends,
  presumeFlashing,
  restorablePolicies,
} from '../domain/open-sends';
import type {
  CompensationReport,
  DevicePhase,
  DeviceUpgradeInput,
  DeviceUpgradeResult,
  OpenSend,
  PinnedPolicy,
  PriorRecord,
} from '../domain/types';
import { compareVersions, serialVersion } from '../domain/versions';

/** Codes after which an upgrade call may or may not have been accepted, before `provesRefusal` decided it. */
const AMBIGUOUS_BEFORE = new Set([
  'ActivityTimeout',
  'RequestTimeout',
  'ConnectionReset',
  'NetworkError',
  'InvalidResponse',
  'InternalError',
  'ServiceUnavailable',
]);

/** A device whose upgrade call proved nothing and which then showed no sign of it. */
const UNCONFIRMED = 'UpgradeUnconfirmed';
/** A send withheld because an earlier one to the same serial number may still be in progress. */
const SEND_IN_PROGRESS = 'SendInProgress';
/** A send withheld because this rollout's earlier call of the same version to the serial number reverted. */
const ALREADY_SENT = 'UpgradeAlreadySent';

class StepError extends Error {
  constructor(
    readonly phase: DevicePhase,
    readonly failure: ClassifiedFailure,
  ) {
    super(failure.message);
  }
}

/**
 * Upgrades one SAG instance: inspect, preflight, pin the auto-upgrade policies to manual, upgrade
 * each serial number (an HA pair's standby first, the active one once the pair is healthy again),
 * verify, restore the policies. Workflow ID `upgrade/<SmartAGId>`: one open run per device, so no
 * two rollouts ever upgrade it at once.
 *
 * The sequence runs in a non-cancellable scope: a flashing device is never interrupted.
 */
export async function deviceUpgradeWorkflow(input: DeviceUpgradeInput): Promise<DeviceUpgradeResult> {
  const { device, policy } = input;
  const startedAt = Date.now();
  const calls: CallRecord[] = [];
  const requestIds: string[] = [];
  const progress: DeviceProgress = { smartAgId: device.smartAgId, phase: 'inspect', sends: 0 };
  setHandler(deviceProgressQuery, () => progress);

  const result: DeviceUpgradeResult = {
    smartAgId: device.smartAgId,
    outcome: 'failed',
    serials: [],
    requestIds,
    pinned: [],
    policiesRestored: false,
    upgradeCalls: 0,
    apiCalls: 0,
    startedAt,
    finishedAt: startedAt,
  };
  /** Upgrade calls to this device whose effect was never seen to end, carried from run to run. */
  let open: OpenSend[] = mergeOpenSends(input.prior?.openSends, input.previous?.openSends);
  let priorPinned: PinnedPolicy[] | undefined = input.prior?.pinned;
  const finish = (): DeviceUpgradeResult => {
    if (open.length > 0) result.openSends = open;
    result.finishedAt = Date.now();
    result.apiCalls = calls.length;
    for (const c of calls)
      if (c.rid && c.a === 'UpdateSmartAccessGatewayVersion' && !c.code) requestIds.push(c.rid);
    progress.phase = 'done';
    return result;
  };
  const keep = (r: { calls: CallRecord[] }) => {
    calls.push(...r.calls);
  };
  /** Runs a step; a failure becomes a StepError carrying its phase and code. */
  async function step<T extends { calls: CallRecord[] }>(
    phase: DevicePhase,
    fn: () => Promise<T>,
  ): Promise<T> {
    progress.phase = phase;
    try {
      const r = await fn();
      keep(r);
      return r;
    } catch (err) {
      const f = classify(err, policy.errorOverrides);
      calls.push(...f.calls);
      throw new StepError(phase, f);
    }
  }

  return CancellationScope.nonCancellable(async () => {
    // What earlier runs left open outlives them: read it before anything is sent.
    if (patched('prior-record')) {
      try {
        const info = workflowInfo();
        const prior: PriorRecord = await apiCall.readPriorRecord({
          workflowId: info.workflowId,
          runId: info.runId,
        });
        open = mergeOpenSends(open, prior.openSends);
        priorPinned ??= prior.pinned;
      } catch (err) {
        // Without the record nothing may be sent: an earlier call could still be in progress.
        return finishFailed(new StepError('inspect', { ...classify(err), code: 'PriorRunsUnreadable' }));
      }
    }
    let snapshot: DeviceSnapshot;
    try {
      snapshot = await step('inspect', () =>
        apiCall.inspectDevice({
          regionId: device.regionId,
          smartAgId: device.smartAgId,
          versionType: policy.versionType,
          overrides: nonEmpty(policy.errorOverrides),
        }),
      );
    } catch (err) {
      return finishFailed(err);
    }
    result.serials = snapshot.serials.map((s) => ({
      serialNumber: s.serialNumber,
      role: s.haState,
      from: serialVersion(s, policy.versionType),
    }));

    if (input.mode === 'compensate') return compensate(snapshot);

    // Calls of earlier targets that their serial numbers reached have ended; a serial number
    // offline while an upgrade sent to it earlier is open is presumed flashing.
    open = closeReached(open, snapshot, policy.versionType, targetFor(snapshot, policy));
    const decision = preflight(presumeFlashing(snapshot, open), policy, Date.now());
    progress.phase = 'preflight';
    // On the target because of a call an earlier run sent (a run interrupted by a credential halt,
    // an unconfirmed send that took after all): that upgrade is verified and finished here.
    const taken =
      decision.decision === 'skip' && decision.code === 'AlreadyOnTarget'
        ? open.filter((o) => !o.reverted && o.version === decision.targetVersion)
        : [];
    if (decision.decision === 'skip' && taken.length > 0) return finishTaken(snapshot, taken);
    if (decision.decision === 'skip') {
      result.outcome = 'skipped';
      result.errorCode = decision.code;
      result.message = decision.reason;
      result.phase = 'preflight';
      for (const s of result.serials) s.to = s.from;
      return finish();
    }
    if (decision.decision === 'fail') {
      return finishFailed(
        new StepError('preflight', {
          code: decision.code,
          policy: resolveCodePolicy(decision.code, policy.errorOverrides),
          message: decision.reason,
          calls: [],
          timedOut: false,
          refused: true,
        }),
      );
    }

    // Policies an earlier run pinned and could not restore are the originals, not the manual ones now.
    const pinned: PinnedPolicy[] = restorablePolicies(
      snapshot.serials.flatMap((s) => s.policies),
      priorPinned,
    );
    result.pinned = pinned;
    try {
      await step('pin', () =>
        apiCall.pinAutoUpgradePolicies({
          regionId: device.regionId,
          smartAgId: device.smartAgId,
          policies: pinned,
        }),
      );
      const allSerials = snapshot.serials.map((s) => s.serialNumber);
      for (const sn of decision.order) {
        const serial = snapshot.serials.find((s) => s.serialNumber === sn)!;
        await upgradeSerial(
          sn,
          decision.targetVersion,
          serial.startupTime,
          allSerials,
          serialVersion(serial, policy.versionType),
        );
        const sv = result.serials.find((s) => s.serialNumber === sn);
        if (sv) sv.to = decision.targetVersion;
      }
      for (const s of result.serials) s.to ??= s.from;
      result.outcome = 'upgraded';
    } catch (err) {
      await restorePolicies(pinned);
      return finishFailed(err);
    }
    await restorePolicies(pinned);
    return finish();
  });

  /** Verifies serial numbers that an earlier run's calls took to the target, and restores the policies. */
  async function finishTaken(snapshot: DeviceSnapshot, taken: OpenSend[]): Promise<DeviceUpgradeResult> {
    const target = taken[0]!.version;
    const pinned = restorablePolicies(
      snapshot.serials.flatMap((s) => s.policies),
      priorPinned,
    );
    result.pinned = pinned;
    const serials = [...new Set(taken.map((o) => o.serialNumber))];
    for (const s of result.serials) {
      const o = taken.find((x) => x.serialNumber === s.serialNumber);
      if (o?.fromVersion) s.from = o.fromVersion;
    }
    try {
      const waiter = awaitDeviceActivity(policy.pollIntervalMs, policy.verifyTimeoutMs);
      await step('verify', () =>
        waiter.awaitDevice({
          regionId: device.regionId,
          smartAgId: device.smartAgId,
          versionType: policy.versionType,
          // The restart happened before this run looked: its StartupTime is already the new one.
          upgrading: serials.map((serialNumber) => ({
            serialNumber,
            fromVersion: taken.find((o) => o.serialNumber === serialNumber)?.fromVersion ?? '',
          })),
          allSerials: snapshot.serials.map((s) => s.serialNumber),
          targetVersion: target,
          pollIntervalMs: policy.pollIntervalMs,
          consecutivePolls: policy.consecutivePolls,
          settleMs: policy.upgradeSettleMs,
          mode: 'verify',
          deadline: Date.now() + policy.verifyTimeoutMs,
        }),
      );
    } catch (err) {
      await restorePolicies(pinned);
      return finishFailed(err);
    }
    for (const sn of serials) open = closeSends(open, sn);
    for (const s of result.serials) s.to = target;
    result.outcome = 'upgraded';
    await restorePolicies(pinned);
    return finish();
  }

  /** Maps a failure to the device outcome the error policy asks for. */
  function finishFailed(err: unknown): DeviceUpgradeResult {
    const e = err instanceof StepError ? err : new StepError('inspect', classify(err, policy.errorOverrides));
    result.phase = e.phase;
    result.errorCode = e.failure.code;
    result.errorClass = e.failure.policy.class;
    result.message = e.failure.message;
    // Where each serial number ended: unchanged when nothing was sent, else what it last reported.
    for (const sv of result.serials) {
      if (sv.to !== undefined) continue;
      const seen = e.failure.last?.find((o) => o.serialNumber === sv.serialNumber)?.version;
      if (seen) sv.to = seen;
      else if (result.upgradeCalls === 0) sv.to = sv.from;
    }
    const action = e.failure.policy.action;
    // Only a device nothing was sent to can be deferred or skipped; once a call went out it has failed.
    const untouched = result.upgradeCalls === 0;
    if (e.failure.code === UNCONFIRMED || e.failure.code === SEND_IN_PROGRESS) result.outcome = 'unconfirmed';
    else if (
      (action === 'halt' || e.failure.policy.class === 'rollout') &&
      patched('halt-interrupts-device')
    ) {
      // The credentials or permissions failed (or the credential chain could not produce keys).
      result.outcome = 'interrupted';
    } else
      result.outcome =
        untouched && action === 'defer' ? 'deferred' : untouched && action === 'skip' ? 'skipped' : 'failed';
    return finish();
  }

  async function restorePolicies(pinned: PinnedPolicy[]): Promise<void> {
    if (policy.autoUpgradeAfter === 'manual' || pinned.every((p) => p.upgradeType === 'manual')) {
      result.policiesRestored = pinned.every((p) => p.upgradeType === 'manual');
      return;
    }
    try {
      await step('restore', () =>
        apiCall.restoreAutoUpgradePolicies({
          regionId: device.regionId,
          smartAgId: device.smartAgId,
          policies: pinned,
        }),
      );
      result.policiesRestored = true;
    } catch (err) {
      // A policy left manual is safe: it only stops Alibaba's own upgrades. Compensation retries it.
      const f = err instanceof StepError ? err.failure : classify(err);
      result.message = `${result.message ? `${result.message}; ` : ''}policy restore failed: ${f.code}`;
    }
  }

  /**
   * Sends the upgrade for one serial number and verifies it. An answer that does not prove a
   * refusal leaves the call open: the device is watched for a sign (offline, `StartupTime`
   * changed, the new version) for the settle time, counted from the send. Without a sign the
   * device is `unconfirmed` and nothing more is sent, unless the policy says `resend`. A call left
   * open by an earlier run is watched the same way instead of sending again.
   */
  async function upgradeSerial(
    serialNumber: string,
    target: string,
    startupTime: string | undefined,
    allSerials: string[],
    fromVersion: string,
  ): Promise<void> {
    progress.serialNumber = serialNumber;
    // Sends after a settle that showed no sign follow the failure's own retry budget; `maxSends`
    // caps them when the policy sets it. Asked only after an ambiguous failure.
    const sendLimit = (f: ClassifiedFailure): number =>
      policy.maxSends ?? (patched('resend-by-code-policy') ? Math.max(2, f.policy.maximumAttempts ?? 2) : 2);
    const waiter = awaitDeviceActivity(
      policy.pollIntervalMs,
      Math.max(policy.verifyTimeoutMs, policy.upgradeSettleMs),
    );
    const base = {
      regionId: device.regionId,
      smartAgId: device.smartAgId,
      versionType: policy.versionType,
      upgrading: [{ serialNumber, fromVersion, startupTime }],
      allSerials,
      targetVersion: target,
      pollIntervalMs: policy.pollIntervalMs,
      consecutivePolls: policy.consecutivePolls,
      settleMs: policy.upgradeSettleMs,
    };
    const resendWithoutSign = policy.noSignAfterSettle === 'resend';
    /** Watches for a sign of the call sent at `since`; true when one showed. */
    const settle = async (since: number): Promise<boolean> => {
      progress.phase = 'verify';
      const r = await step('verify', () =>
        waiter.awaitDevice({ ...base, mode: 'settle', since, deadline: since + policy.upgradeSettleMs }),
      );
      return r.sign === true;
    };
    const unconfirmed = (why: string, f?: ClassifiedFailure): StepError =>
      new StepError('upgrade', {
        code: UNCONFIRMED,
        policy: resolveCodePolicy(UNCONFIRMED, policy.errorOverrides),
        message: `${serialNumber}: ${why}; no sign of the upgrade to ${target} within the settle, and nothing more was sent`,
        requestId: f?.requestId,
        calls: [],
        timedOut: false,
        refused: false,
      });

    // An earlier call to this serial number may still be in progress, or this rollout's own call
    // of this version already ended in a revert.
    const earlier = blockingSends(open, serialNumber, input.rolloutId, input.operatorRetry);
    let lastSendAt = 0;
    let mustSend = true;
    if (earlier.some((o) => o.reverted && o.version === target)) {
      throw new StepError('upgrade', {
        code: ALREADY_SENT,
        policy: resolveCodePolicy(ALREADY_SENT, policy.errorOverrides),
        message: `${serialNumber}: this rollout's upgrade to ${target} was accepted once and reverted; it is not sent again`,
        calls: [],
        timedOut: false,
        refused: true,
      });
    }
    const pending = earlier.filter((o) => !o.reverted);
    if (pending.length > 0) {
      const same = pending.filter((o) => o.version === target);
      if (same.length < pending.length) {
        throw new StepError('upgrade', {
          code: SEND_IN_PROGRESS,
          policy: resolveCodePolicy(SEND_IN_PROGRESS, policy.errorOverrides),
          message: `${serialNumber}: an upgrade to ${pending.map((o) => o.version).join(', ')} sent earlier may still be in progress; ${target} is not sent`,
          calls: [],
          timedOut: false,
          refused: false,
        });
      }
      lastSendAt = Math.max(...same.map((o) => o.at));
      // Alibaba accepted an earlier call (a run interrupted by a credential halt): it is verified,
      // from now, however long the device still downloads.
      if (same.some((o) => o.accepted) && patched('verify-accepted-earlier-send')) {
        mustSend = false;
        lastSendAt = Math.max(lastSendAt, Date.now());
      } else if (await settle(lastSendAt)) mustSend = false;
      else if (!resendWithoutSign)
        throw unconfirmed(`an upgrade sent at ${new Date(lastSendAt).toISOString()} was never confirmed`);
    }

    let sentAt = 0;
    /** The record of a call of `target` to this serial number, sent at `sentAt`. */
    const sent = (accepted: boolean, requestId: string | undefined): OpenSend => ({
      serialNumber,
      version: target,
      fromVersion,
      versionType: policy.versionType,
      at: sentAt,
      accepted,
      requestId,
      rolloutId: input.rolloutId,
    });
    let refusals = 0;
    for (let sends = 0; mustSend;) {
      progress.phase = 'upgrade';
      sends += 1;
      progress.sends = sends;
      result.upgradeCalls += 1;
      sentAt = Date.now();
      try {
        const r = await upgradeCall.requestUpgrade({
          regionId: device.regionId,
          smartAgId: device.smartAgId,
          serialNumber,
          versionCode: target,
          versionType: policy.versionType,
          overrides: nonEmpty(policy.errorOverrides),
        });
        keep(r);
        open = [...open, sent(true, r.requestId)];
        lastSendAt = sentAt;
        break;
      } catch (err) {
        const f = classify(err, policy.errorOverrides);
        calls.push(...f.calls);
        const ambiguous = AMBIGUOUS_BEFORE.has(f.code) || (!f.refused && patched('ambiguous-unless-refused'));
        if (ambiguous) {
          // The call may have been accepted. Wait for a sign before deciding anything.
          open = [...open, sent(false, f.requestId)];
          lastSendAt = sentAt;
          if (await settle(sentAt)) break;
          if (!resendWithoutSign && patched('unconfirmed-without-sign'))
            throw unconfirmed(`the upgrade call was answered ${f.code}`, f);
          if (sends >= sendLimit(f)) throw unconfirmed(`${sends} upgrade calls were answered ${f.code}`, f);
          continue;
        }
        // Alibaba answered with a refusal: nothing was accepted, so the upgrade count goes back.
        result.upgradeCalls -= 1;
        sends -= 1;
        if (f.policy.action === 'retry' && ++refusals < (f.policy.maximumAttempts ?? 5)) {
          await sleep(backoff(f, refusals));
          continue;
        }
        throw new StepError('upgrade', f);
      }
    }
    // The verify deadline counts from the last call that may have been accepted.
    const deadline = (lastSendAt || Date.now()) + policy.verifyTimeoutMs;
    try {
      await step('verify', () => waiter.awaitDevice({ ...base, mode: 'verify', deadline }));
    } catch (err) {
      // A device seen to come back on its old version has ended that attempt.
      if (err instanceof StepError && err.failure.code === 'UpgradeReverted')
        open = markReverted(open, serialNumber);
      throw err;
    }
    open = closeSends(open, serialNumber);
  }

  /** Undoes what this rollout did to the device, in reverse: HA pair, version, policies. */
  async function compensate(snapshot: DeviceSnapshot): Promise<DeviceUpgradeResult> {
    const prev = input.previous;
    const report: CompensationReport = { actions: [], notReversible: [] };
    result.compensation = report;
    result.outcome = 'upgraded';
    progress.phase = 'compensate';
    const pinned = prev?.pinned ?? [];
    const type = policy.versionType;
    const versionOf = (s: DeviceSnapshot['serials'][number]) => serialVersion(s, type);
    const allSerials = snapshot.serials.map((s) => s.serialNumber);
    try {
      // A split HA pair goes forward to one version: the API documents no firmware downgrade.
      const target = prev?.serials.find((s) => s.to && s.to !== s.from)?.to ?? policy.targetVersion;
      const onTarget = snapshot.serials.filter((s) => compareVersions(versionOf(s), target, type) === 0);
      const lagging = snapshot.serials.filter((s) => compareVersions(versionOf(s), target, type) < 0);
      if (policy.repairHaPairs && snapshot.serials.length > 1 && onTarget.length > 0 && lagging.length > 0) {
        if (snapshot.serials.every((s) => s.hcState === 'online')) {
          await step('compensate', () =>
            apiCall.pinAutoUpgradePolicies({
              regionId: device.regionId,
              smartAgId: device.smartAgId,
              policies: pinned,
            }),
          );
          for (const s of lagging) {
            await upgradeSerial(s.serialNumber, target, s.startupTime, allSerials, versionOf(s));
            const sv = result.serials.find((x) => x.serialNumber === s.serialNumber);
            if (sv) sv.to = target;
            report.actions.push(`ha-repaired:${s.serialNumber}->${target}`);
          }
        } else {
          report.actions.push('ha-split-offline');
        }
      } else if (policy.requestPreviousVersion && prev) {
        for (const sv of prev.serials) {
          const now = snapshot.serials.find((s) => s.serialNumber === sv.serialNumber);
          if (!now || !sv.from || compareVersions(versionOf(now), sv.from, type) === 0) continue;
          if (inProgress(open, sv.serialNumber)) {
            // Asking for the previous version while an upgrade may still be flashing would race it.
            report.actions.push(`withheld:${sv.serialNumber}`);
            report.failed = {
              code: SEND_IN_PROGRESS,
              message: `${sv.serialNumber}: an upgrade sent earlier may still be in progress`,
            };
            continue;
          }
          try {
            const r = await upgradeCall.requestUpgrade({
              regionId: device.regionId,
              smartAgId: device.smartAgId,
              serialNumber: sv.serialNumber,
              versionCode: sv.from,
              versionType: type,
            });
            keep(r);
            result.upgradeCalls += 1;
            open = [
              ...open,
              {
                serialNumber: sv.serialNumber,
                version: sv.from,
                versionType: type,
                at: Date.now(),
                accepted: true,
                requestId: r.requestId,
                rolloutId: input.rolloutId,
              },
            ];
            report.actions.push(`previous-version-requested:${sv.serialNumber}->${sv.from}`);
            const cur = result.serials.find((x) => x.serialNumber === sv.serialNumber);
            if (cur) cur.to = sv.from;
          } catch (err) {
            const f = classify(err, policy.errorOverrides);
            calls.push(...f.calls);
            if (!f.refused)
              open = [
                ...open,
                {
                  serialNumber: sv.serialNumber,
                  version: sv.from,
                  versionType: type,
                  at: Date.now(),
                  accepted: false,
                  rolloutId: input.rolloutId,
                },
              ];
            const rid = f.requestId ?? [...f.calls].reverse().find((c) => c.rid)?.rid;
            report.notReversible.push({
              serialNumber: sv.serialNumber,
              version: sv.from,
              code: f.code,
              requestId: rid,
            });
            report.actions.push(`not-reversible:${sv.serialNumber}`);
          }
        }
      }
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError('compensate', classify(err));
      report.actions.push(`failed:${e.failure.code}`);
      report.failed = { code: e.failure.code, message: e.failure.message };
      result.outcome = 'failed';
      result.errorCode = e.failure.code;
      result.message = e.failure.message;
      result.phase = 'compensate';
    }
    // Serial numbers compensation did not move stay where they were.
    for (const s of result.serials) s.to ??= s.from;
    // Restore what is still pinned: after a failed run, or after the HA repair pinned it again.
    const repaired = report.actions.some((a) => a.startsWith('ha-repaired'));
    if (pinned.length > 0 && (!(prev?.policiesRestored ?? false) || repaired)) {
      await restorePolicies(pinned);
      if (result.policiesRestored) report.actions.push('policy-restored');
      else
        report.failed ??= {
          code: 'PolicyRestoreFailed',
          message: result.message ?? 'the auto-upgrade policies could not be restored',
        };
    } else if (prev?.policiesRestored) {
      result.policiesRestored = true;
    }
    return finish();
  }
}

function nonEmpty<T extends object>(o: T | undefined): T | undefined {
  return o && Object.keys(o).length > 0 ? o : undefined;
}

function backoff(f: ClassifiedFailure, attempt: number): number {
  const initial = durationMs(f.policy.initialInterval, 1000);
  const max = durationMs(f.policy.maximumInterval, 60_000);
  return Math.min(max, initial * Math.pow(f.policy.backoffCoefficient ?? 2, attempt - 1));
}

export { deviceWorkflowId } from '../domain/ids';
