import { patched } from '@temporalio/workflow';
import { apiCall } from '../activity-options';
import { classify, type ClassifiedFailure } from '../failures';
import type { DeviceProgress } from '../messages';
import type { CallRecord } from '../../domain/device-types';
import type { HealthReading } from '../../domain/health';
import { HEALTH_CHECK_FAILED, outcomeOfFailure } from '../../domain/device-run';
import { mergeOpenSends } from '../../domain/open-sends';
import type {
  DeviceOutcome,
  DevicePhase,
  DeviceUpgradeInput,
  DeviceUpgradeResult,
  OpenSend,
  PinnedPolicy,
} from '../../domain/types';

/** A step that failed: the phase it failed in and the failure, classified once. */
export class StepError extends Error {
  constructor(
    readonly phase: DevicePhase,
    readonly failure: ClassifiedFailure,
  ) {
    super(failure.message);
  }
}

/**
 * One run of `upgrade/<SmartAGId>`: the result it builds, the API calls it made, where it is (for
 * the progress query) and the upgrade calls whose effect was never seen to end.
 */
export class DeviceRun {
  readonly device: DeviceUpgradeInput['device'];
  readonly policy: DeviceUpgradeInput['policy'];
  readonly calls: CallRecord[] = [];
  readonly requestIds: string[] = [];
  readonly progress: DeviceProgress;
  readonly result: DeviceUpgradeResult;
  /** Upgrade calls to this device whose effect was never seen to end, carried from run to run. */
  open: OpenSend[];
  /** Policies as an earlier run found them, when it could not put them back. */
  priorPinned: PinnedPolicy[] | undefined;
  /** The links and controller connections of the verify polls that passed, merged over the serial numbers. */
  verifiedHealth: HealthReading | undefined;
  /** The health before the upgrade call, carried on the calls this run sends. */
  baseline: HealthReading | undefined;
  /** Calls this run saw reach the target, closed by the version check: reopened if the health analysis is interrupted. */
  readonly verified: OpenSend[] = [];

  constructor(
    readonly input: DeviceUpgradeInput,
    startedAt: number,
  ) {
    this.device = input.device;
    this.policy = input.policy;
    this.progress = { smartAgId: input.device.smartAgId, phase: 'inspect', sends: 0 };
    this.result = {
      smartAgId: input.device.smartAgId,
      outcome: 'failed',
      serials: [],
      requestIds: this.requestIds,
      pinned: [],
      policiesRestored: false,
      upgradeCalls: 0,
      apiCalls: 0,
      startedAt,
      finishedAt: startedAt,
    };
    this.open = mergeOpenSends(input.prior?.openSends, input.previous?.openSends);
    this.priorPinned = input.prior?.pinned;
  }

  /** The result as the run ends: open calls, API call count, the RequestIds of accepted upgrades. */
  finish(): DeviceUpgradeResult {
    const { result } = this;
    if (this.open.length > 0) result.openSends = this.open;
    result.finishedAt = Date.now();
    result.apiCalls = this.calls.length;
    for (const c of this.calls)
      if (c.rid && c.a === 'UpdateSmartAccessGatewayVersion' && !c.code) this.requestIds.push(c.rid);
    this.progress.phase = 'done';
    return result;
  }

  /** Keeps the calls an activity made. */
  keep(r: { calls: CallRecord[] }): void {
    this.calls.push(...r.calls);
  }

  /** Runs a step; a failure becomes a StepError carrying its phase and code. */
  async step<T extends { calls: CallRecord[] }>(phase: DevicePhase, fn: () => Promise<T>): Promise<T> {
    this.progress.phase = phase;
    try {
      const r = await fn();
      this.keep(r);
      return r;
    } catch (err) {
      const f = classify(err, this.policy.errorOverrides);
      this.calls.push(...f.calls);
      throw new StepError(phase, f);
    }
  }

  /** The failure as a StepError (a failure outside any step counts as inspect's). */
  stepError(err: unknown): StepError {
    return err instanceof StepError
      ? err
      : new StepError('inspect', classify(err, this.policy.errorOverrides));
  }

  /** The outcome a failure leaves the device in (see {@link outcomeOfFailure}). */
  outcomeOf(e: StepError): DeviceOutcome {
    return outcomeOfFailure(e.failure.code, e.failure.policy, this.result.upgradeCalls === 0, () =>
      patched('halt-interrupts-device'),
    );
  }

  /**
   * Keeps the calls that reached the target open, marked `verified`, when the health analysis after
   * them was interrupted (the credentials failed) or found the device worse: the run that resumes
   * the device, and an operator's retry, finish the analysis against the baseline instead of
   * finding the device on the target and skipping it. Verified calls block no other send.
   */
  reopenAfterHealth(err: unknown): void {
    const e = this.stepError(err);
    if (e.phase !== 'health' || this.verified.length === 0) return;
    if (e.failure.code !== HEALTH_CHECK_FAILED && this.outcomeOf(e) !== 'interrupted') return;
    this.open = mergeOpenSends(
      this.open,
      this.verified.map((o) => ({ ...o, verified: true })),
    );
  }

  /** Maps a failure to the device outcome the error policy asks for, and ends the run. */
  finishFailed(err: unknown): DeviceUpgradeResult {
    const { result } = this;
    const e = this.stepError(err);
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
    // Only a device nothing was sent to can be deferred or skipped; once a call went out it has failed.
    // The credentials or permissions failing (or the credential chain producing no keys) interrupts it.
    result.outcome = this.outcomeOf(e);
    return this.finish();
  }

  /** Puts the auto-upgrade policies back as they were found, unless the policy keeps them manual. */
  async restorePolicies(pinned: PinnedPolicy[]): Promise<void> {
    const { device, policy, result } = this;
    if (policy.autoUpgradeAfter === 'manual' || pinned.every((p) => p.upgradeType === 'manual')) {
      result.policiesRestored = pinned.every((p) => p.upgradeType === 'manual');
      return;
    }
    try {
      await this.step('restore', () =>
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
}

/** The object, or undefined when it is empty (activity inputs leave out empty overrides). */
export function nonEmpty<T extends object>(o: T | undefined): T | undefined {
  return o && Object.keys(o).length > 0 ? o : undefined;
}
