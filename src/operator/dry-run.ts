/** The dry run of a rollout: its waves, and what the rollout would do with every device. */

import { createActivities } from '../../activities';
import { planWaves } from '../../domain/plan';
import {
  PLAN_OUTCOMES,
  predictFromInspectError,
  predictFromPreflight,
  type PlanOutcome,
  type PlanPrediction,
} from '../../domain/plan-outcome';
import { preflight, targetFor } from '../../domain/preflight';
import type { InventoryDevice, RolloutPolicy } from '../../domain/types';
import { compareVersions, serialVersion } from '../../domain/versions';
import { versionFormatProblems } from '../../domain/version-format';
import { InputError } from '../common/errors';
import type { SagClient } from '../sag/types';
import { PlanStoppedError, TargetNotOfferedError, type OfferedVersion } from './plan-errors';
import { planEstimate, type PlanEstimate } from './plan-estimate';
import { nextPlanWindow, type PlanWindow } from './plan-window';

/** One device as the plan predicts it. */
export interface PlanDevice {
  smartAgId: string;
  regionId: string;
  wave: string;
  outcome: PlanOutcome;
  /** The code behind a device not upgraded (the preflight's or Alibaba's). */
  code?: string;
  reason?: string;
}

/** A device the plan finds would not be upgraded (the older `skipped`/`failing` lists). */
export interface PlanException {
  smartAgId: string;
  regionId: string;
  wave: string;
  decision: Exclude<PlanOutcome, 'upgrade'>;
  code: string;
  reason: string;
}

/** The `plan --json` document (fields may be added, none removed). */
export interface PlanResult {
  targetVersion: string;
  versionType: RolloutPolicy['versionType'];
  total: number;
  /** Devices per predicted outcome. */
  counts: Record<PlanOutcome, number>;
  /** Devices per outcome and code, most frequent first (upgrades have no code). */
  byCode: { outcome: PlanOutcome; code: string; count: number }[];
  waves: {
    index: number;
    name: string;
    size: number;
    upgrade: number;
    skip: number;
    defer: number;
    fail: number;
    unknown: number;
    /** Estimated time of the wave's upgrades, ms. */
    estimatedMs: number;
    devices: string[];
  }[];
  /** Devices that would be upgraded. */
  upgrade: number;
  skipped: PlanException[];
  failing: PlanException[];
  /** Every device, in inventory order. */
  devices: PlanDevice[];
  /** The versions the inspected devices are offered, with how many are offered each. */
  offeredVersions: OfferedVersion[];
  window: PlanWindow;
  estimate: PlanEstimate;
  /** Read calls made to smartag. */
  apiCalls: number;
  /** Pace and gates the rollout would use, for the reader. */
  policy: {
    concurrency: number;
    maxPerMinute?: number;
    approval: RolloutPolicy['approval'];
    bake: RolloutPolicy['bake'];
    expectedUpgradeTime: RolloutPolicy['expectedUpgradeTime'];
    maxFailurePercent: number;
  };
}

/** Options of {@link planRollout}. */
export interface PlanOptions {
  /** Devices inspected at once (default 8). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** The instant the window and the preflight's expiry check are read at (default now). */
  nowMs?: number;
}

/**
 * The dry run: plans the waves as the rollout would, inspects every device through read-only
 * smartag calls and predicts what the rollout would do with it: the preflight's decision run
 * through the error-code table as the device workflow runs it. Starts no workflow and changes
 * nothing on any device.
 *
 * @throws InputError when a target version is not written as its version type requires.
 * @throws PlanStoppedError at the first credential or permission error (no further device is inspected).
 * @throws TargetNotOfferedError when no device is offered its target nor already on or past it.
 */
export async function planRollout(
  sag: SagClient,
  inventory: InventoryDevice[],
  policy: RolloutPolicy,
  opts: PlanOptions = {},
): Promise<PlanResult> {
  const problems = versionFormatProblems(policy);
  if (problems.length > 0) throw new InputError(problems);
  const nowMs = opts.nowMs ?? Date.now();
  let apiCalls = 0;
  // Counting wrapper: every method is a read on this path (inspect only).
  const counted = new Proxy(sag, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        apiCalls++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const waves = planWaves(inventory, policy);
  const inspected = await inspectFleet(counted, inventory, policy, nowMs, opts);
  checkTargetOffered(policy, inspected);

  const waveOf = new Map<string, string>();
  for (const w of waves) for (const id of w.devices) waveOf.set(id, w.name);
  const devices: PlanDevice[] = inventory.map((d) => {
    const p = inspected.get(d.smartAgId)?.prediction ?? { outcome: 'unknown' as const };
    return {
      smartAgId: d.smartAgId,
      regionId: d.regionId,
      wave: waveOf.get(d.smartAgId) ?? '-',
      outcome: p.outcome,
      ...(p.code !== undefined ? { code: p.code } : {}),
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
    };
  });
  const byId = new Map(devices.map((d) => [d.smartAgId, d]));
  const exceptions = devices
    .filter((d) => d.outcome !== 'upgrade')
    .map((d): PlanException => ({
      smartAgId: d.smartAgId,
      regionId: d.regionId,
      wave: d.wave,
      decision: d.outcome as PlanException['decision'],
      code: d.code ?? '',
      reason: d.reason ?? '',
    }));
  const waveRows = waves.map((w) => {
    const count = (k: PlanOutcome) => w.devices.filter((id) => byId.get(id)?.outcome === k).length;
    return {
      index: w.index,
      name: w.name,
      size: w.devices.length,
      upgrade: count('upgrade'),
      skip: count('skip'),
      defer: count('defer'),
      fail: count('fail'),
      unknown: count('unknown'),
      devices: w.devices,
    };
  });
  const estimate = planEstimate(
    policy,
    waveRows.map((w) => w.upgrade + w.defer + w.unknown),
  );
  return {
    targetVersion: policy.targetVersion,
    versionType: policy.versionType,
    total: inventory.length,
    counts: countBy(devices),
    byCode: codeCounts(devices),
    waves: waveRows.map((w, i) => ({ ...w, estimatedMs: estimate.wavesMs[i] ?? 0 })),
    upgrade: devices.filter((d) => d.outcome === 'upgrade').length,
    skipped: exceptions.filter((e) => e.decision === 'skip'),
    failing: exceptions.filter((e) => e.decision === 'fail'),
    devices,
    offeredVersions: offeredVersions(inspected, policy.versionType),
    window: nextPlanWindow(policy, nowMs),
    estimate,
    apiCalls,
    policy: {
      concurrency: policy.concurrency,
      ...(policy.maxPerMinute !== undefined ? { maxPerMinute: policy.maxPerMinute } : {}),
      approval: policy.approval,
      bake: policy.bake,
      expectedUpgradeTime: policy.expectedUpgradeTime,
      maxFailurePercent: policy.failureBudget.maxFailurePercent,
    },
  };
}

/** What the plan learnt of one device. */
interface Inspected {
  prediction: PlanPrediction;
  /** Its offered versions (absent when the inspection failed). */
  versions?: { versionCode: string; type: string }[];
  /** Whether it is offered its target, or already on or past it. */
  reachable?: boolean;
}

/**
 * Inspects every device, `concurrency` at a time, and predicts each. At the first credential or
 * permission error no further device is started and the error is thrown once the calls in flight end.
 */
async function inspectFleet(
  sag: SagClient,
  inventory: InventoryDevice[],
  policy: RolloutPolicy,
  nowMs: number,
  opts: PlanOptions,
): Promise<Map<string, Inspected>> {
  const activities = createActivities({ client: sag });
  const out = new Map<string, Inspected>();
  let next = 0;
  let done = 0;
  let stopped: PlanStoppedError | undefined;
  const worker = async () => {
    while (next < inventory.length && !stopped) {
      const d = inventory[next++]!;
      try {
        const snapshot = await activities.inspectDevice({
          regionId: d.regionId,
          smartAgId: d.smartAgId,
          versionType: policy.versionType,
          overrides: policy.errorOverrides,
        });
        const target = targetFor(snapshot, policy);
        const onOrPast =
          snapshot.serials.length > 0 &&
          snapshot.serials.every(
            (s) => compareVersions(serialVersion(s, policy.versionType), target, policy.versionType) >= 0,
          );
        out.set(d.smartAgId, {
          prediction: predictFromPreflight(preflight(snapshot, policy, nowMs), policy.errorOverrides),
          versions: snapshot.versions,
          reachable: onOrPast || snapshot.versions.some((v) => v.versionCode === target),
        });
      } catch (err) {
        const code = (err as { type?: string }).type ?? 'InspectFailed';
        const message = err instanceof Error ? err.message : String(err);
        const p = predictFromInspectError(code, message, policy.errorOverrides);
        if (p.outcome === 'stop') {
          stopped ??= new PlanStoppedError(d, code, message, done);
        } else out.set(d.smartAgId, { prediction: p });
      }
      opts.onProgress?.(++done, inventory.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 8, inventory.length)) }, worker),
  );
  if (stopped) throw stopped;
  return out;
}

/** Refuses a target that no inspected device is offered (and none is on or past it already). */
function checkTargetOffered(policy: RolloutPolicy, inspected: Map<string, Inspected>): void {
  const read = [...inspected.values()].filter((i) => i.versions !== undefined);
  if (read.length === 0 || read.some((i) => i.reachable)) return;
  throw new TargetNotOfferedError(
    policy.targetVersion,
    policy.versionType,
    offeredVersions(inspected, policy.versionType),
  );
}

function offeredVersions(
  inspected: Map<string, Inspected>,
  type: RolloutPolicy['versionType'],
): OfferedVersion[] {
  const by = new Map<string, OfferedVersion>();
  for (const i of inspected.values())
    for (const v of i.versions ?? []) {
      const e = by.get(v.versionCode) ?? { versionCode: v.versionCode, type: v.type, devices: 0 };
      e.devices++;
      by.set(v.versionCode, e);
    }
  return [...by.values()].sort((a, b) => compareVersions(a.versionCode, b.versionCode, type));
}

function countBy(devices: PlanDevice[]): Record<PlanOutcome, number> {
  const c = Object.fromEntries(PLAN_OUTCOMES.map((o) => [o, 0])) as Record<PlanOutcome, number>;
  for (const d of devices) c[d.outcome]++;
  return c;
}

function codeCounts(devices: PlanDevice[]): PlanResult['byCode'] {
  const by = new Map<string, PlanResult['byCode'][number]>();
  for (const d of devices) {
    const code = d.code ?? '';
    const key = `${d.outcome}\u0000${code}`;
    const e = by.get(key) ?? { outcome: d.outcome, code, count: 0 };
    e.count++;
    by.set(key, e);
  }
  return [...by.values()].sort(
    (a, b) =>
      PLAN_OUTCOMES.indexOf(a.outcome) - PLAN_OUTCOMES.indexOf(b.outcome) ||
      b.count - a.count ||
      a.code.localeCompare(b.code),
  );
}
