import { apiCall, upgradeCall } from '../activity-options';
import { classify } from '../failures';
import { compensationPlan } from '../../domain/compensation';
import type { DeviceSnapshot } from '../../domain/device-types';
import { SEND_IN_PROGRESS } from '../../domain/device-run';
import { inProgress } from '../../domain/open-sends';
import type { CompensationReport, DeviceUpgradeResult, SerialVersions } from '../../domain/types';
import { serialVersion } from '../../domain/versions';
import { StepError, type DeviceRun } from './run';
import { upgradeSerial } from './upgrade-serial';

/**
 * Undoes what this rollout did to the device (`input.previous`), in reverse: HA pair, version,
 * policies. What it did, and what it could not, is in the result's `compensation` report; a step
 * that failed makes the result `failed` with its code.
 */
export async function compensate(run: DeviceRun, snapshot: DeviceSnapshot): Promise<DeviceUpgradeResult> {
  const { policy, result } = run;
  const prev = run.input.previous;
  const report: CompensationReport = { actions: [], notReversible: [] };
  result.compensation = report;
  result.outcome = 'upgraded';
  run.progress.phase = 'compensate';
  const pinned = prev?.pinned ?? [];
  try {
    const plan = compensationPlan(snapshot, prev, policy);
    if (plan.kind === 'repair-ha') {
      // A split HA pair goes forward to one version: the API documents no firmware downgrade.
      await run.step('compensate', () =>
        apiCall.pinAutoUpgradePolicies({
          regionId: run.device.regionId,
          smartAgId: run.device.smartAgId,
          policies: pinned,
        }),
      );
      const allSerials = snapshot.serials.map((s) => s.serialNumber);
      for (const s of plan.lagging) {
        const from = serialVersion(s, policy.versionType);
        await upgradeSerial(
          run,
          { serialNumber: s.serialNumber, fromVersion: from, startupTime: s.startupTime },
          plan.target,
          allSerials,
        );
        const sv = result.serials.find((x) => x.serialNumber === s.serialNumber);
        if (sv) sv.to = plan.target;
        report.actions.push(`ha-repaired:${s.serialNumber}->${plan.target}`);
      }
    } else if (plan.kind === 'ha-offline') {
      report.actions.push('ha-split-offline');
    } else if (plan.kind === 'previous-versions') {
      for (const sv of plan.serials) await requestPrevious(run, sv, report);
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
    await run.restorePolicies(pinned);
    if (result.policiesRestored) report.actions.push('policy-restored');
    else
      report.failed ??= {
        code: 'PolicyRestoreFailed',
        message: result.message ?? 'the auto-upgrade policies could not be restored',
      };
  } else if (prev?.policiesRestored) {
    result.policiesRestored = true;
  }
  return run.finish();
}

/**
 * Asks Alibaba for the version a serial number ran before the rollout. A refusal (`VersionTooOld`)
 * is reported as not reversible; an answer that proves nothing leaves the call open.
 */
async function requestPrevious(
  run: DeviceRun,
  sv: SerialVersions,
  report: CompensationReport,
): Promise<void> {
  const { device, policy, result } = run;
  const type = policy.versionType;
  if (inProgress(run.open, sv.serialNumber)) {
    // Asking for the previous version while an upgrade may still be flashing would race it.
    report.actions.push(`withheld:${sv.serialNumber}`);
    report.failed = {
      code: SEND_IN_PROGRESS,
      message: `${sv.serialNumber}: an upgrade sent earlier may still be in progress`,
    };
    return;
  }
  try {
    const r = await upgradeCall.requestUpgrade({
      regionId: device.regionId,
      smartAgId: device.smartAgId,
      serialNumber: sv.serialNumber,
      versionCode: sv.from,
      versionType: type,
    });
    run.keep(r);
    result.upgradeCalls += 1;
    run.open = [
      ...run.open,
      {
        serialNumber: sv.serialNumber,
        version: sv.from,
        versionType: type,
        at: Date.now(),
        accepted: true,
        requestId: r.requestId,
        rolloutId: run.input.rolloutId,
      },
    ];
    report.actions.push(`previous-version-requested:${sv.serialNumber}->${sv.from}`);
    const cur = result.serials.find((x) => x.serialNumber === sv.serialNumber);
    if (cur) cur.to = sv.from;
  } catch (err) {
    const f = classify(err, policy.errorOverrides);
    run.calls.push(...f.calls);
    if (!f.refused)
      run.open = [
        ...run.open,
        {
          serialNumber: sv.serialNumber,
          version: sv.from,
          versionType: type,
          at: Date.now(),
          accepted: false,
          rolloutId: run.input.rolloutId,
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
