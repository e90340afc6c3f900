import { patched, sleep } from '@temporalio/workflow';
import { awaitDeviceActivity, upgradeCall } from '../activity-options';
import { durationMs } from '../durations';
import { classify, type ClassifiedFailure } from '../failures';
import { ALREADY_SENT, AMBIGUOUS_BEFORE, SEND_IN_PROGRESS, UNCONFIRMED } from '../../domain/device-run';
import { quietUntil } from '../../domain/api-budget';
import { resolveCodePolicy } from '../../domain/error-policy';
import { mergeReadings } from '../../domain/health';
import { closeSends, earlierSends, markReverted } from '../../domain/open-sends';
import type { OpenSend } from '../../domain/types';
import { nonEmpty, StepError, type DeviceRun } from './run';

/** One serial number to take to a version: where it stands before the call. */
export interface SerialToUpgrade {
  serialNumber: string;
  fromVersion: string;
  startupTime: string | undefined;
}

/**
 * Sends the upgrade for one serial number and verifies it. An answer that does not prove a
 * refusal leaves the call open: the device is watched for a sign (offline, `StartupTime`
 * changed, the new version) for the settle time, counted from the send. Without a sign the
 * device is `unconfirmed` and nothing more is sent, unless the policy says `resend`. A call left
 * open by an earlier run is watched the same way instead of sending again.
 * @throws StepError with the phase and code of the failure (`UpgradeUnconfirmed`,
 * `SendInProgress`, `UpgradeAlreadySent`, a refusal, or the verify's own code).
 */
export async function upgradeSerial(
  run: DeviceRun,
  serial: SerialToUpgrade,
  target: string,
  allSerials: string[],
): Promise<void> {
  run.progress.serialNumber = serial.serialNumber;
  const upgrade = new SerialUpgrade(run, serial, target, allSerials);
  const watched = await upgrade.watchEarlierSends();
  const lastSendAt = watched.mustSend ? await upgrade.send(watched.lastSendAt) : watched.lastSendAt;
  await upgrade.verify(lastSendAt, watched.mustSend);
}

/** The upgrade of one serial number to `target`, from the check of earlier calls to the verify. */
class SerialUpgrade {
  private readonly waiter: ReturnType<typeof awaitDeviceActivity>;
  private readonly resendWithoutSign: boolean;

  constructor(
    private readonly run: DeviceRun,
    private readonly serial: SerialToUpgrade,
    private readonly target: string,
    private readonly allSerials: string[],
  ) {
    const { policy } = run;
    this.waiter = awaitDeviceActivity(
      policy.pollIntervalMs,
      Math.max(policy.verifyTimeoutMs, policy.upgradeSettleMs),
    );
    this.resendWithoutSign = policy.noSignAfterSettle === 'resend';
  }

  /** What the device poller watches: this serial number going to the target. */
  private base() {
    const { device, policy } = this.run;
    return {
      regionId: device.regionId,
      smartAgId: device.smartAgId,
      versionType: policy.versionType,
      upgrading: [
        {
          serialNumber: this.serial.serialNumber,
          fromVersion: this.serial.fromVersion,
          startupTime: this.serial.startupTime,
        },
      ],
      allSerials: this.allSerials,
      targetVersion: this.target,
      pollIntervalMs: policy.pollIntervalMs,
      consecutivePolls: policy.consecutivePolls,
      settleMs: policy.upgradeSettleMs,
      // Shared list pages show no links or controllers: with a health analysis the passing poll reads them.
      ...(policy.reads?.bulkStatus
        ? { bulkStatus: true, ...(policy.health ? { healthReading: true } : {}) }
        : {}),
    };
  }

  /**
   * Sends after a settle that showed no sign follow the failure's own retry budget; `maxSends`
   * caps them when the policy sets it. Asked only after an ambiguous failure.
   */
  private sendLimit(f: ClassifiedFailure): number {
    return (
      this.run.policy.maxSends ??
      (patched('resend-by-code-policy') ? Math.max(2, f.policy.maximumAttempts ?? 2) : 2)
    );
  }

  /** Watches for a sign of the call sent at `since`; true when one showed. */
  private async settle(since: number): Promise<boolean> {
    const { run } = this;
    run.progress.phase = 'verify';
    const r = await run.step('verify', () =>
      this.waiter.awaitDevice({
        ...this.base(),
        mode: 'settle',
        since,
        deadline: since + run.policy.upgradeSettleMs,
      }),
    );
    return r.sign === true;
  }

  private withheld(code: string, message: string, refused: boolean, f?: ClassifiedFailure): StepError {
    return new StepError('upgrade', {
      code,
      policy: resolveCodePolicy(code, this.run.policy.errorOverrides),
      message,
      requestId: f?.requestId,
      calls: [],
      timedOut: false,
      refused,
    });
  }

  private unconfirmed(why: string, f?: ClassifiedFailure): StepError {
    return this.withheld(
      UNCONFIRMED,
      `${this.serial.serialNumber}: ${why}; no sign of the upgrade to ${this.target} within the settle, and nothing more was sent`,
      false,
      f,
    );
  }

  /**
   * An earlier call to this serial number may still be in progress, or this rollout's own call
   * of this version already ended in a revert. Returns whether a call must still be sent, and
   * when the last one that may have been accepted left (0: none).
   */
  async watchEarlierSends(): Promise<{ mustSend: boolean; lastSendAt: number }> {
    const { run, target } = this;
    const sn = this.serial.serialNumber;
    const earlier = earlierSends(run.open, sn, target, run.input.rolloutId, run.input.operatorRetry);
    if (earlier.kind === 'reverted') {
      throw this.withheld(
        ALREADY_SENT,
        `${sn}: this rollout's upgrade to ${target} was accepted once and reverted; it is not sent again`,
        true,
      );
    }
    if (earlier.kind === 'none') return { mustSend: true, lastSendAt: 0 };
    if (earlier.kind === 'other-version') {
      throw this.withheld(
        SEND_IN_PROGRESS,
        `${sn}: an upgrade to ${earlier.versions.join(', ')} sent earlier may still be in progress; ${target} is not sent`,
        false,
      );
    }
    // Alibaba accepted an earlier call (a run interrupted by a credential halt): it is verified,
    // from now, however long the device still downloads.
    if (earlier.accepted && patched('verify-accepted-earlier-send'))
      return { mustSend: false, lastSendAt: Math.max(earlier.since, Date.now()) };
    if (await this.settle(earlier.since)) return { mustSend: false, lastSendAt: earlier.since };
    if (!this.resendWithoutSign)
      throw this.unconfirmed(
        `an upgrade sent at ${new Date(earlier.since).toISOString()} was never confirmed`,
      );
    return { mustSend: true, lastSendAt: earlier.since };
  }

  /**
   * Sends the upgrade until Alibaba accepts it, a sign shows after an ambiguous answer, or the
   * failure's budget is spent. Returns when the last call that may have been accepted left.
   */
  async send(lastSendAt: number): Promise<number> {
    const { run, target, serial } = this;
    const { device, policy, result, progress } = run;
    let sentAt = 0;
    /** The record of a call of `target` to this serial number, sent at `sentAt`. */
    const sent = (accepted: boolean, requestId: string | undefined): OpenSend => ({
      serialNumber: serial.serialNumber,
      version: target,
      fromVersion: serial.fromVersion,
      versionType: policy.versionType,
      at: sentAt,
      accepted,
      requestId,
      rolloutId: run.input.rolloutId,
      ...(run.baseline ? { baseline: run.baseline } : {}),
    });
    let refusals = 0;
    for (let sends = 0; ;) {
      progress.phase = 'upgrade';
      sends += 1;
      progress.sends = sends;
      result.upgradeCalls += 1;
      sentAt = Date.now();
      try {
        const r = await upgradeCall.requestUpgrade({
          regionId: device.regionId,
          smartAgId: device.smartAgId,
          serialNumber: serial.serialNumber,
          versionCode: target,
          versionType: policy.versionType,
          overrides: nonEmpty(policy.errorOverrides),
        });
        run.keep(r);
        run.open = [...run.open, sent(true, r.requestId)];
        return sentAt;
      } catch (err) {
        const f = classify(err, policy.errorOverrides);
        run.calls.push(...f.calls);
        const ambiguous = AMBIGUOUS_BEFORE.has(f.code) || (!f.refused && patched('ambiguous-unless-refused'));
        if (ambiguous) {
          // The call may have been accepted. Wait for a sign before deciding anything.
          run.open = [...run.open, sent(false, f.requestId)];
          lastSendAt = sentAt;
          if (await this.settle(sentAt)) return lastSendAt;
          if (!this.resendWithoutSign && patched('unconfirmed-without-sign'))
            throw this.unconfirmed(`the upgrade call was answered ${f.code}`, f);
          if (sends >= this.sendLimit(f))
            throw this.unconfirmed(`${sends} upgrade calls were answered ${f.code}`, f);
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
  }

  /**
   * Verifies the serial number on the target; the deadline counts from the last call that may have
   * been accepted. A call this run sent is not polled while the device is expected to download and
   * flash (`apiBudget.firstPollAfter`).
   */
  async verify(lastSendAt: number, sentHere: boolean): Promise<void> {
    const { run } = this;
    const sn = this.serial.serialNumber;
    const deadline = (lastSendAt || Date.now()) + run.policy.verifyTimeoutMs;
    const quiet = sentHere && lastSendAt > 0 ? quietUntil(run.policy, lastSendAt, deadline) : undefined;
    try {
      const r = await run.step('verify', () =>
        this.waiter.awaitDevice({
          ...this.base(),
          mode: 'verify',
          deadline,
          ...(quiet !== undefined ? { quietUntil: quiet } : {}),
        }),
      );
      if (r.health) run.verifiedHealth = mergeReadings(run.verifiedHealth, r.health);
    } catch (err) {
      // A device seen to come back on its old version has ended that attempt.
      if (err instanceof StepError && err.failure.code === 'UpgradeReverted')
        run.open = markReverted(run.open, sn);
      throw err;
    }
    run.verified.push(...run.open.filter((o) => o.serialNumber === sn && !o.reverted));
    run.open = closeSends(run.open, sn);
  }
}

/** The wait before another attempt after a refusal the code table retries. */
function backoff(f: ClassifiedFailure, attempt: number): number {
  const initial = durationMs(f.policy.initialInterval, 1000);
  const max = durationMs(f.policy.maximumInterval, 60_000);
  return Math.min(max, initial * Math.pow(f.policy.backoffCoefficient ?? 2, attempt - 1));
}
