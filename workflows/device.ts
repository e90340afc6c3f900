import { CancellationScope, patched, setHandler, sleep } from '@temporalio/workflow';
import { apiCall, awaitDeviceActivity, upgradeCall } from './activity-options';
import type { CallRecord, DeviceSnapshot } from './device-types';
import { durationMs } from './durations';
import { resolveCodePolicy } from './error-policy';
import { classify, type ClassifiedFailure } from './failures';
import { deviceProgressQuery, type DeviceProgress } from './messages';
import { preflight } from './preflight';
import type {
  CompensationReport,
  DevicePhase,
  DeviceUpgradeInput,
  DeviceUpgradeResult,
  PinnedPolicy,
} from './types';
import { compareVersions } from './versions';

/** Codes after which an upgrade call may or may not have been accepted. */
const AMBIGUOUS = new Set(['ActivityTimeout', 'RequestTimeout', 'ConnectionReset', 'NetworkError', 'InvalidResponse', 'InternalError', 'ServiceUnavailable']);

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
  const finish = (): DeviceUpgradeResult => {
    result.finishedAt = Date.now();
    result.apiCalls = calls.length;
    for (const c of calls) if (c.rid && c.a === 'UpdateSmartAccessGatewayVersion' && !c.code) requestIds.push(c.rid);
    progress.phase = 'done';
    return result;
  };
  const keep = (r: { calls: CallRecord[] }) => {
    calls.push(...r.calls);
  };
  /** Runs a step; a failure becomes a StepError carrying its phase and code. */
  async function step<T extends { calls: CallRecord[] }>(phase: DevicePhase, fn: () => Promise<T>): Promise<T> {
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
    let snapshot: DeviceSnapshot;
    try {
      snapshot = await step('inspect', () =>
        apiCall.inspectDevice({ regionId: device.regionId, smartAgId: device.smartAgId, versionType: policy.versionType, overrides: nonEmpty(policy.errorOverrides) }),
      );
    } catch (err) {
      return finishFailed(err);
    }
    result.serials = snapshot.serials.map((s) => ({
      serialNumber: s.serialNumber,
      role: s.haState,
      from: (policy.versionType === 'Dpi' ? s.dpiVersion : s.softwareVersion) ?? '',
    }));

    if (input.mode === 'compensate') return compensate(snapshot);

    const decision = preflight(snapshot, policy, Date.now());
    progress.phase = 'preflight';
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
        }),
      );
    }

    const pinned: PinnedPolicy[] = snapshot.serials.flatMap((s) => s.policies);
    result.pinned = pinned;
    try {
      await step('pin', () => apiCall.pinAutoUpgradePolicies({ regionId: device.regionId, smartAgId: device.smartAgId, policies: pinned }));
      const allSerials = snapshot.serials.map((s) => s.serialNumber);
      for (const sn of decision.order) {
        const serial = snapshot.serials.find((s) => s.serialNumber === sn)!;
        await upgradeSerial(sn, decision.targetVersion, serial.startupTime, allSerials, versionOfSerial(serial));
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

    function versionOfSerial(s: DeviceSnapshot['serials'][number]): string {
      return (policy.versionType === 'Dpi' ? s.dpiVersion : s.softwareVersion) ?? '';
    }
  });

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
    result.outcome = untouched && action === 'defer' ? 'deferred' : untouched && action === 'skip' ? 'skipped' : 'failed';
    return finish();
  }

  async function restorePolicies(pinned: PinnedPolicy[]): Promise<void> {
    if (policy.autoUpgradeAfter === 'manual' || pinned.every((p) => p.upgradeType === 'manual')) {
      result.policiesRestored = pinned.every((p) => p.upgradeType === 'manual');
      return;
    }
    try {
      await step('restore', () => apiCall.restoreAutoUpgradePolicies({ regionId: device.regionId, smartAgId: device.smartAgId, policies: pinned }));
      result.policiesRestored = true;
    } catch (err) {
      // A policy left manual is safe: it only stops Alibaba's own upgrades. Compensation retries it.
      const f = err instanceof StepError ? err.failure : classify(err);
      result.message = `${result.message ? `${result.message}; ` : ''}policy restore failed: ${f.code}`;
    }
  }

  /**
   * Sends the upgrade for one serial number and verifies it. After an ambiguous failure it waits
   * for signs that the call took before it may send again, so an accepted upgrade is never resent.
   */
  async function upgradeSerial(
    serialNumber: string,
    target: string,
    startupTime: string | undefined,
    allSerials: string[],
    fromVersion: string,
  ): Promise<void> {
    progress.serialNumber = serialNumber;
    // Sends after a settle that showed no sign follow the failure's own retry budget (a 503 is a
    // transient service fault, retried like any other); `maxSends` caps them when the policy sets
    // it. Asked only after an ambiguous failure, so other histories carry no patch marker.
    const sendLimit = (f: ClassifiedFailure): number =>
      policy.maxSends ?? (patched('resend-by-code-policy') ? Math.max(2, f.policy.maximumAttempts ?? 2) : 2);
    const verifyDeadline = Date.now() + policy.verifyTimeoutMs;
    const waiter = awaitDeviceActivity(policy.pollIntervalMs, Math.max(policy.verifyTimeoutMs, policy.upgradeSettleMs));
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
    let refusals = 0;
    for (let sends = 0; ; ) {
      progress.phase = 'upgrade';
      sends += 1;
      progress.sends = sends;
      result.upgradeCalls += 1;
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
        break;
      } catch (err) {
        const f = classify(err, policy.errorOverrides);
        calls.push(...f.calls);
        if (AMBIGUOUS.has(f.code)) {
          // The call may have been accepted. Wait for a sign before deciding anything.
          progress.phase = 'verify';
          const settled = await step('verify', () => waiter.awaitDevice({ ...base, mode: 'settle', deadline: Date.now() + policy.upgradeSettleMs }));
          if (settled.sign) break;
          if (sends >= sendLimit(f)) throw new StepError('upgrade', f);
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
    await step('verify', () => waiter.awaitDevice({ ...base, mode: 'verify', deadline: verifyDeadline }));
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
    const versionOf = (s: DeviceSnapshot['serials'][number]) => (type === 'Dpi' ? s.dpiVersion : s.softwareVersion) ?? '';
    const allSerials = snapshot.serials.map((s) => s.serialNumber);
    try {
      // A split HA pair goes forward to one version: the API documents no firmware downgrade.
      const target = prev?.serials.find((s) => s.to && s.to !== s.from)?.to ?? policy.targetVersion;
      const onTarget = snapshot.serials.filter((s) => compareVersions(versionOf(s), target, type) === 0);
      const lagging = snapshot.serials.filter((s) => compareVersions(versionOf(s), target, type) < 0);
      if (policy.repairHaPairs && snapshot.serials.length > 1 && onTarget.length > 0 && lagging.length > 0) {
        if (snapshot.serials.every((s) => s.hcState === 'online')) {
          await step('compensate', () => apiCall.pinAutoUpgradePolicies({ regionId: device.regionId, smartAgId: device.smartAgId, policies: pinned }));
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
            report.actions.push(`previous-version-requested:${sv.serialNumber}->${sv.from}`);
            const cur = result.serials.find((x) => x.serialNumber === sv.serialNumber);
            if (cur) cur.to = sv.from;
          } catch (err) {
            const f = classify(err, policy.errorOverrides);
            calls.push(...f.calls);
            const rid = f.requestId ?? [...f.calls].reverse().find((c) => c.rid)?.rid;
            report.notReversible.push({ serialNumber: sv.serialNumber, version: sv.from, code: f.code, requestId: rid });
            report.actions.push(`not-reversible:${sv.serialNumber}`);
          }
        }
      }
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError('compensate', classify(err));
      report.actions.push(`failed:${e.failure.code}`);
      result.outcome = 'failed';
      result.errorCode = e.failure.code;
      result.phase = 'compensate';
    }
    // Serial numbers compensation did not move stay where they were.
    for (const s of result.serials) s.to ??= s.from;
    // Restore what is still pinned: after a failed run, or after the HA repair pinned it again.
    const repaired = report.actions.some((a) => a.startsWith('ha-repaired'));
    if (pinned.length > 0 && (!(prev?.policiesRestored ?? false) || repaired)) {
      await restorePolicies(pinned);
      if (result.policiesRestored) report.actions.push('policy-restored');
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

/** The workflow ID of a device's upgrade lock. */
export function deviceWorkflowId(smartAgId: string): string {
  return `upgrade/${smartAgId}`;
}
