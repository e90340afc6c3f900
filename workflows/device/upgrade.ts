import { patched } from '@temporalio/workflow';
import { awaitDeviceActivity, apiCall } from '../activity-options';
import type { DeviceSnapshot } from '../../domain/device-types';
import { resolveCodePolicy } from '../../domain/error-policy';
import { closeReached, closeSends, presumeFlashing, restorablePolicies } from '../../domain/open-sends';
import { preflight, targetFor } from '../../domain/preflight';
import type { DeviceUpgradeResult, OpenSend, PinnedPolicy } from '../../domain/types';
import { serialVersion } from '../../domain/versions';
import type { HealthReading } from '../../domain/health';
import { analyseHealth, healthBaseline } from './health';
import { StepError, type DeviceRun } from './run';
import { upgradeSerial } from './upgrade-serial';

/**
 * The upgrade of an inspected device: preflight, pin the auto-upgrade policies to manual, upgrade
 * each serial number in the order preflight gives (an HA pair's standby first), restore the
 * policies. A device an earlier run's calls already took to the target is verified instead.
 */
export async function upgrade(run: DeviceRun, snapshot: DeviceSnapshot): Promise<DeviceUpgradeResult> {
  const { device, policy, result } = run;
  // Calls of earlier targets that their serial numbers reached have ended; a serial number
  // offline while an upgrade sent to it earlier is open is presumed flashing.
  run.open = closeReached(run.open, snapshot, policy.versionType, targetFor(snapshot, policy));
  const decision = preflight(presumeFlashing(snapshot, run.open), policy, Date.now());
  run.progress.phase = 'preflight';
  // On the target because of a call an earlier run sent (a run interrupted by a credential halt,
  // an unconfirmed send that took after all): that upgrade is verified and finished here.
  const taken =
    decision.decision === 'skip' && decision.code === 'AlreadyOnTarget'
      ? run.open.filter((o) => !o.reverted && o.version === decision.targetVersion)
      : [];
  if (decision.decision === 'skip' && taken.length > 0) return finishTaken(run, snapshot, taken);
  if (decision.decision === 'skip') {
    result.outcome = 'skipped';
    result.errorCode = decision.code;
    result.message = decision.reason;
    result.phase = 'preflight';
    for (const s of result.serials) s.to = s.from;
    return run.finish();
  }
  if (decision.decision === 'fail') {
    return run.finishFailed(
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

  // The health analysis's baseline, read before anything changes (rollouts whose policy has none skip it).
  const checkHealth = policy.health !== undefined && patched('health-analysis');
  let baseline: HealthReading | undefined;
  if (checkHealth) {
    // An earlier run's call of this target that may still be flashing carries the baseline it read
    // before anything changed: what the device shows now is not "before".
    const carried = run.open.find(
      (o) => !o.reverted && o.version === decision.targetVersion && o.baseline,
    )?.baseline;
    try {
      baseline = await healthBaseline(run, snapshot, carried);
    } catch (err) {
      return run.finishFailed(err);
    }
    run.baseline = baseline;
  }

  const pinned = pinnable(run, snapshot);
  try {
    await run.step('pin', () =>
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
        run,
        {
          serialNumber: sn,
          fromVersion: serialVersion(serial, policy.versionType),
          startupTime: serial.startupTime,
        },
        decision.targetVersion,
        allSerials,
      );
      const sv = result.serials.find((s) => s.serialNumber === sn);
      if (sv) sv.to = decision.targetVersion;
    }
    for (const s of result.serials) s.to ??= s.from;
    if (checkHealth) await analyseHealth(run, snapshot, baseline);
    result.outcome = 'upgraded';
  } catch (err) {
    run.reopenAfterHealth(err);
    await run.restorePolicies(pinned);
    return run.finishFailed(err);
  }
  await run.restorePolicies(pinned);
  return run.finish();
}

/**
 * The policies to pin, recorded on the result: policies an earlier run pinned and could not
 * restore are the originals, not the manual ones now.
 */
function pinnable(run: DeviceRun, snapshot: DeviceSnapshot): PinnedPolicy[] {
  const pinned = restorablePolicies(
    snapshot.serials.flatMap((s) => s.policies),
    run.priorPinned,
  );
  run.result.pinned = pinned;
  return pinned;
}

/** Verifies serial numbers that an earlier run's calls took to the target, and restores the policies. */
async function finishTaken(
  run: DeviceRun,
  snapshot: DeviceSnapshot,
  taken: OpenSend[],
): Promise<DeviceUpgradeResult> {
  const { device, policy, result } = run;
  const target = taken[0]!.version;
  const pinned = pinnable(run, snapshot);
  const serials = [...new Set(taken.map((o) => o.serialNumber))];
  for (const s of result.serials) {
    const o = taken.find((x) => x.serialNumber === s.serialNumber);
    if (o?.fromVersion) s.from = o.fromVersion;
  }
  try {
    const waiter = awaitDeviceActivity(policy.pollIntervalMs, policy.verifyTimeoutMs);
    const verified = await run.step('verify', () =>
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
    if (verified.health) run.verifiedHealth = verified.health;
    for (const sn of serials) {
      run.verified.push(...run.open.filter((o) => o.serialNumber === sn && !o.reverted));
      run.open = closeSends(run.open, sn);
    }
    for (const s of result.serials) s.to = target;
    // The health analysis the interrupted run could not finish, against the baseline its call carried.
    if (policy.health !== undefined && patched('health-after-resume'))
      await analyseHealth(run, snapshot, taken.find((o) => o.baseline)?.baseline);
  } catch (err) {
    run.reopenAfterHealth(err);
    await run.restorePolicies(pinned);
    return run.finishFailed(err);
  }
  result.outcome = 'upgraded';
  await run.restorePolicies(pinned);
  return run.finish();
}
