import { patched, sleep } from '@temporalio/workflow';
import { healthCall, probeActivity } from '../activity-options';
import type { DeviceSnapshot } from '../../domain/device-types';
import {
  compareHealth,
  describeFindings,
  mergeReadings,
  type HealthCheckName,
  type HealthReading,
  type HealthVerdict,
} from '../../domain/health';
import { resolveCodePolicy } from '../../domain/error-policy';
import { fillTemplate, type ProbeDevice } from '../../domain/probe';
import type { DeviceHealthPolicy } from '../../domain/types';
import { HEALTH_CHECK_FAILED } from '../../domain/device-run';
import { nonEmpty, StepError, type DeviceRun } from './run';

/** The code of a device a probe's URL template cannot be filled for. */
export const PROBE_TEMPLATE = 'ProbeTemplateIncomplete';

/** The device fields a probe URL may name, its serial numbers as inspect found them. */
function probeDevice(run: DeviceRun, snapshot: DeviceSnapshot): ProbeDevice {
  return { ...run.device, serialNumbers: snapshot.serials.map((s) => s.serialNumber) };
}

/** The reads beyond inspect and verify that the policy asks for: HA of a pair, diagnosis, features. */
function extraChecks(h: DeviceHealthPolicy, snapshot: DeviceSnapshot) {
  return {
    ...h,
    links: false,
    controller: false,
    ha: h.ha && snapshot.serials.length > 1,
  };
}

function needsExtraRead(c: ReturnType<typeof extraChecks>): boolean {
  return c.ha || c.diagnosis || c.features.length > 0;
}

/** What a restarted device brings back by itself a little after it is up: links, HA, the controller. */
const COMES_BACK: ReadonlySet<HealthCheckName> = new Set(['links', 'link-backup', 'ha', 'controller']);

/**
 * Reads links, HA and the controller again every poll interval while any of them is worse than
 * before and the policy's grace has not passed; the verdict on the last reading.
 */
async function afterGrace(
  run: DeviceRun,
  snapshot: DeviceSnapshot,
  baseline: HealthReading | undefined,
  first: HealthReading,
): Promise<{ after: HealthReading; verdict: HealthVerdict }> {
  const h = run.policy.health!;
  let after = first;
  let verdict = compareHealth(baseline, after, h);
  const until = Date.now() + (h.graceMs ?? 0);
  const checks = { ...h, diagnosis: false, features: [], ha: h.ha && snapshot.serials.length > 1 };
  while (verdict.regressions.some((f) => COMES_BACK.has(f.check)) && Date.now() < until) {
    await sleep(Math.max(1, Math.min(run.policy.pollIntervalMs, until - Date.now())));
    const r = await run.step('health', () =>
      healthCall.readHealth({
        regionId: run.device.regionId,
        smartAgId: run.device.smartAgId,
        serials: snapshot.serials.map((s) => s.serialNumber),
        checks,
        overrides: nonEmpty(run.policy.errorOverrides),
      }),
    );
    after = mergeReadings(after, r.reading);
    verdict = compareHealth(baseline, after, h);
  }
  return { after, verdict };
}

/**
 * The baseline before the upgrade call: the links and controllers inspect read, plus a diagnosis
 * and the unsupported features when the policy asks for them (the HA state of a pair came with
 * inspect too); or `carried`, the one an earlier run's call of the target read before it was sent.
 */
export async function healthBaseline(
  run: DeviceRun,
  snapshot: DeviceSnapshot,
  carried?: HealthReading,
): Promise<HealthReading | undefined> {
  const h = run.policy.health!;
  // A probe URL the device cannot fill is a configuration error: found before anything is sent.
  for (const spec of h.probes) {
    const filled = fillTemplate(spec.url, probeDevice(run, snapshot));
    if ('missing' in filled) {
      throw new StepError('preflight', {
        code: PROBE_TEMPLATE,
        policy: resolveCodePolicy(PROBE_TEMPLATE, run.policy.errorOverrides),
        message: `${run.device.smartAgId}: probe ${spec.name} names fields the device lacks: ${filled.missing.join(', ')}; nothing was sent`,
        calls: [],
        timedOut: false,
        refused: true,
      });
    }
  }
  if (carried) return carried;
  const extra = { ...extraChecks(h, snapshot), ha: false };
  if (!needsExtraRead(extra)) return snapshot.health;
  const r = await run.step('health', () =>
    healthCall.readHealth({
      regionId: run.device.regionId,
      smartAgId: run.device.smartAgId,
      serials: snapshot.serials.map((s) => s.serialNumber),
      checks: extra,
      diagnosisPollMs: run.policy.pollIntervalMs,
      overrides: nonEmpty(run.policy.errorOverrides),
    }),
  );
  return snapshot.health ? mergeReadings(snapshot.health, r.reading) : r.reading;
}

/**
 * After the version check passed: compares the branch with its baseline and runs the policy's
 * probes. Regressions and failed probes fail the device with `HealthCheckFailed` naming the check
 * and its evidence; what was already broken before is kept as a note.
 * @throws StepError `HealthCheckFailed` (phase `health`), or the code of a read that failed.
 */
export async function analyseHealth(
  run: DeviceRun,
  snapshot: DeviceSnapshot,
  baseline: HealthReading | undefined,
): Promise<void> {
  const h = run.policy.health!;
  let after: HealthReading = run.verifiedHealth ?? { at: Date.now() };
  // Verify reads the controller only for the serial numbers whose restart it watched: a run that
  // finishes an earlier run's upgrade reads it here, for those the baseline has a reading of.
  const unread = (baseline?.controllers ?? []).filter(
    (c) => !after.controllers?.some((a) => a.serialNumber === c.serialNumber),
  );
  const extra = {
    ...extraChecks(h, snapshot),
    controller: h.controller && unread.length > 0 && patched('health-controller-unread'),
  };
  if (needsExtraRead(extra) || extra.controller) {
    const r = await run.step('health', () =>
      healthCall.readHealth({
        regionId: run.device.regionId,
        smartAgId: run.device.smartAgId,
        serials: snapshot.serials.map((s) => s.serialNumber),
        checks: extra,
        diagnosisPollMs: run.policy.pollIntervalMs,
        overrides: nonEmpty(run.policy.errorOverrides),
      }),
    );
    after = mergeReadings(after, r.reading);
  }
  const { verdict } = await afterGrace(run, snapshot, baseline, after);
  const probes: { name: string; passed: boolean; evidence: string }[] = [];
  // Kept before the probes run: a probe that fails to run does not lose what was found.
  run.result.health = { regressions: verdict.regressions, notes: verdict.notes, probes };
  for (const spec of h.probes) {
    const r = await run.step('health', () =>
      probeActivity(spec).runProbe({ spec, device: probeDevice(run, snapshot) }),
    );
    probes.push({ name: spec.name, passed: r.passed, evidence: r.evidence });
  }
  const failedProbes = probes.filter((p) => !p.passed);
  if (verdict.regressions.length === 0 && failedProbes.length === 0) {
    if (verdict.notes.length > 0)
      run.result.message = `no worse than before the upgrade: ${describeFindings(verdict.notes)}`;
    return;
  }
  const what = [
    ...(verdict.regressions.length > 0 ? [describeFindings(verdict.regressions)] : []),
    ...failedProbes.map((p) => `probe ${p.name}: ${p.evidence}`),
  ].join('; ');
  throw new StepError('health', {
    code: HEALTH_CHECK_FAILED,
    policy: resolveCodePolicy(HEALTH_CHECK_FAILED, run.policy.errorOverrides),
    message: `${run.device.smartAgId}: on the target, but worse than before the upgrade: ${what}`,
    calls: [],
    timedOut: false,
    refused: false,
  });
}
