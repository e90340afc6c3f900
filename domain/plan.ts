import type { DeviceSelector, InventoryDevice, RolloutPolicy } from './types';

export interface PlannedWave {
  index: number;
  /** `canary`, `wave-1`, `wave-2`, ... */
  name: string;
  devices: string[];
}

/** Whether a device matches a selector (an empty selector matches every device). */
export function matches(d: InventoryDevice, sel: DeviceSelector | undefined): boolean {
  if (!sel) return true;
  if (sel.devices?.length && !sel.devices.includes(d.smartAgId)) return false;
  if (sel.regions?.length && !sel.regions.includes(d.regionId)) return false;
  if (sel.groups?.length && (!d.group || !sel.groups.includes(d.group))) return false;
  if (sel.tags?.length && !(d.tags ?? []).some((t) => sel.tags!.includes(t))) return false;
  return true;
}

/**
 * Splits the inventory into waves: the canary (named devices, a group, or a count or percentage
 * from the top of the inventory in its order), then waves by cumulative shares of the rest or by
 * fixed sizes. Pure, so a plan is the same on replay and in `plan` dry runs.
 */
export function planWaves(
  inventory: InventoryDevice[],
  policy: Pick<RolloutPolicy, 'canary' | 'waves'>,
): PlannedWave[] {
  const ids = inventory.map((d) => d.smartAgId);
  let canary: string[];
  const c = policy.canary;
  if (c.devices?.length) canary = ids.filter((id) => c.devices!.includes(id));
  else if (c.group) canary = inventory.filter((d) => d.group === c.group).map((d) => d.smartAgId);
  else if (c.percent !== undefined)
    canary = ids.slice(0, Math.max(1, Math.ceil((ids.length * c.percent) / 100)));
  else canary = ids.slice(0, Math.min(ids.length, c.count ?? 1));
  const inCanary = new Set(canary);
  const rest = ids.filter((id) => !inCanary.has(id));
  const waves: PlannedWave[] = [];
  if (canary.length > 0) waves.push({ index: 0, name: 'canary', devices: canary });
  const push = (devices: string[]) => {
    if (devices.length > 0)
      waves.push({
        index: waves.length,
        name: `wave-${waves.length + (canary.length > 0 ? 0 : 1)}`,
        devices,
      });
  };
  if (policy.waves.sizes?.length) {
    let at = 0;
    for (const size of policy.waves.sizes) {
      push(rest.slice(at, at + size));
      at += size;
    }
    push(rest.slice(at));
  } else {
    const shares = policy.waves.cumulativePercents?.length ? policy.waves.cumulativePercents : [100];
    let at = 0;
    for (const pct of shares) {
      const upTo =
        pct >= 100
          ? rest.length
          : Math.min(rest.length, Math.max(at + 1, Math.ceil((rest.length * pct) / 100)));
      push(rest.slice(at, upTo));
      at = upTo;
    }
    push(rest.slice(at));
  }
  return waves;
}

/** Splits a wave into parts of at most `maxPartSize` devices (Temporal history and child limits). */
export function splitParts<T>(items: T[], maxPartSize: number): T[][] {
  const parts: T[][] = [];
  const n = Math.max(1, Math.ceil(items.length / Math.max(1, maxPartSize)));
  const size = Math.ceil(items.length / n);
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/**
 * The next slice of a wave's devices (`wave`) still pending in `statuses`, at most `maxPartSize`
 * of them as `splitParts` cuts them; undefined when none is pending.
 */
export function nextSlice(
  statuses: Record<string, { outcome: string } | undefined>,
  wave: string[],
  maxPartSize: number,
): string[] | undefined {
  const pending = wave.filter((id) => statuses[id]?.outcome === 'pending');
  if (pending.length === 0) return undefined;
  return splitParts(pending, maxPartSize)[0]!;
}

/**
 * The name of a wave's part (its child workflow ID's last segment): the wave's own name when the
 * wave fits one part, else numbered; `retry` parts run an operator's retry, numbered by run.
 */
export function partName(wave: number, part: number, single: boolean): string {
  return single ? `wave-${wave}` : `wave-${wave}-part-${part}`;
}

/** The name of the `k`-th part (from 0) of retry run `run`. */
export function retryPartName(run: number, k: number): string {
  return `retry-${run}${k > 0 ? `-part-${k + 1}` : ''}`;
}

/** The name of the `k`-th part (from 0) that compensates an aborted rollout's failed devices. */
export function compensationPartName(k: number): string {
  return `compensate${k > 0 ? `-part-${k + 1}` : ''}`;
}
