/** The dry run of a rollout: its waves and what the preflight would decide on every device. */

import { createActivities } from '../../activities';
import { planWaves } from '../../domain/plan';
import { preflight } from '../../domain/preflight';
import type { InventoryDevice, RolloutPolicy } from '../../domain/types';
import type { SagClient } from '../sag/types';

/** One device the plan finds that would not be upgraded, and why. */
export interface PlanException {
  smartAgId: string;
  regionId: string;
  wave: string;
  /** `skip`: left alone (already on target, no CCN, ...); `fail`: preflight fails. */
  decision: 'skip' | 'fail';
  code: string;
  reason: string;
}

/** The `plan --json` document. */
export interface PlanResult {
  targetVersion: string;
  versionType: RolloutPolicy['versionType'];
  total: number;
  waves: {
    index: number;
    name: string;
    size: number;
    upgrade: number;
    skip: number;
    fail: number;
    devices: string[];
  }[];
  /** Devices that would be upgraded, per the preflight. */
  upgrade: number;
  skipped: PlanException[];
  failing: PlanException[];
  /** Read calls made to smartag. */
  apiCalls: number;
  /** Pace and gates the rollout would use, for the reader. */
  policy: {
    concurrency: number;
    maxPerMinute?: number;
    approval: RolloutPolicy['approval'];
    bake: RolloutPolicy['bake'];
    maxFailurePercent: number;
  };
}

/**
 * The dry run: plans the waves as the rollout would and runs the inspect step and the pure
 * preflight on every device, through read-only smartag calls. Starts no workflow and changes
 * nothing on any device.
 */
export async function planRollout(
  sag: SagClient,
  inventory: InventoryDevice[],
  policy: RolloutPolicy,
  opts: InspectOptions = {},
): Promise<PlanResult> {
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
  const decisions = await inspectFleet(counted, inventory, policy, opts);
  const waveOf = new Map<string, string>();
  for (const w of waves) for (const id of w.devices) waveOf.set(id, w.name);
  const exceptions: PlanException[] = [];
  for (const d of inventory) {
    const r = decisions.get(d.smartAgId);
    if (!r || r.decision === 'go') continue;
    exceptions.push({
      smartAgId: d.smartAgId,
      regionId: d.regionId,
      wave: waveOf.get(d.smartAgId) ?? '-',
      decision: r.decision,
      code: r.code ?? '',
      reason: r.reason ?? '',
    });
  }
  return {
    targetVersion: policy.targetVersion,
    versionType: policy.versionType,
    total: inventory.length,
    waves: waves.map((w) => {
      const count = (k: Decision['decision']) =>
        w.devices.filter((id) => decisions.get(id)?.decision === k).length;
      return {
        index: w.index,
        name: w.name,
        size: w.devices.length,
        upgrade: count('go'),
        skip: count('skip'),
        fail: count('fail'),
        devices: w.devices,
      };
    }),
    upgrade: inventory.filter((d) => decisions.get(d.smartAgId)?.decision === 'go').length,
    skipped: exceptions.filter((e) => e.decision === 'skip'),
    failing: exceptions.filter((e) => e.decision === 'fail'),
    apiCalls,
    policy: {
      concurrency: policy.concurrency,
      ...(policy.maxPerMinute !== undefined ? { maxPerMinute: policy.maxPerMinute } : {}),
      approval: policy.approval,
      bake: policy.bake,
      maxFailurePercent: policy.failureBudget.maxFailurePercent,
    },
  };
}

interface InspectOptions {
  /** Devices inspected at once (default 8). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The preflight's decision on one device; a failed inspection counts as `fail`. */
interface Decision {
  decision: 'go' | 'skip' | 'fail';
  code?: string;
  reason?: string;
}

/** Inspects every device, `concurrency` at a time, and decides on each as the preflight would. */
async function inspectFleet(
  sag: SagClient,
  inventory: InventoryDevice[],
  policy: RolloutPolicy,
  opts: InspectOptions,
): Promise<Map<string, Decision>> {
  const activities = createActivities({ client: sag });
  const decisions = new Map<string, Decision>();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < inventory.length) {
      const d = inventory[next++]!;
      try {
        const snapshot = await activities.inspectDevice({
          regionId: d.regionId,
          smartAgId: d.smartAgId,
          versionType: policy.versionType,
          overrides: policy.errorOverrides,
        });
        const p = preflight(snapshot, policy, Date.now());
        decisions.set(
          d.smartAgId,
          p.decision === 'go' ? { decision: 'go' } : { decision: p.decision, code: p.code, reason: p.reason },
        );
      } catch (err) {
        const code = (err as { type?: string }).type ?? 'InspectFailed';
        const message = err instanceof Error ? err.message : String(err);
        decisions.set(d.smartAgId, { decision: 'fail', code, reason: message });
      }
      opts.onProgress?.(++done, inventory.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 8, inventory.length)) }, worker),
  );
  return decisions;
}
