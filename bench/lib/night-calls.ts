/**
 * The night-window benchmark's API accounting, from the simulator's own request log: calls per
 * upgraded single device by action (a bulk call's share split over the devices it named), and the
 * request rate per real second against the budget.
 */
import type { DeviceRow, RequestLogEntry } from '../../src/simulator';
import { round } from './stats';

export interface CallsPerDevice {
  /** Upgraded single devices the figures are over. */
  devices: number;
  /** Mean calls per upgraded single device. */
  total: number;
  byAction: Record<string, number>;
}

/** Devices a request was about: its SmartAGId, or the `SmartAGIds.N` of a bulk read. */
function devicesOf(e: RequestLogEntry): string[] {
  if (e.smartAgId) return [e.smartAgId];
  return Object.entries(e.params)
    .filter(([k]) => /^SmartAGIds\.\d+$/.test(k))
    .map(([, v]) => v);
}

/**
 * Calls per upgraded single device, by action: every request naming the device counts for it,
 * a bulk read of k devices 1/k. Devices are those the simulator shows on `target` after an
 * accepted upgrade call, alone in their instance.
 */
export function callsPerUpgradedDevice(
  log: RequestLogEntry[],
  rows: DeviceRow[],
  target: string,
): CallsPerDevice {
  const perInstance = new Map<string, number>();
  for (const r of rows) perInstance.set(r.SmartAGId, (perInstance.get(r.SmartAGId) ?? 0) + 1);
  const upgraded = new Set(
    rows
      .filter((r) => perInstance.get(r.SmartAGId) === 1 && r.upgradeCalls > 0 && r.SoftwareVersion === target)
      .map((r) => r.SmartAGId),
  );
  const byAction: Record<string, number> = {};
  for (const e of log) {
    const ids = devicesOf(e);
    const share = 1 / Math.max(1, ids.length);
    for (const id of ids) {
      if (!upgraded.has(id)) continue;
      const a = e.action ?? '(none)';
      byAction[a] = (byAction[a] ?? 0) + share;
    }
  }
  const n = Math.max(1, upgraded.size);
  const out: Record<string, number> = {};
  let total = 0;
  for (const [a, c] of Object.entries(byAction).sort((x, y) => y[1] - x[1])) {
    out[a] = round(c / n, 2);
    total += c / n;
  }
  return { devices: upgraded.size, total: round(total, 2), byAction: out };
}

export interface RateFigures {
  /** The budget per real second (the account's requests/s times the time scale). */
  limit: number;
  peakPerSecond: number;
  /** How far the busiest second went over the budget, in % (negative: under it). */
  peakOverLimitPct: number;
  /** Seconds more than 5% over the budget. */
  secondsOver5pct: number;
  /** Mean over the seconds that had any request. */
  meanPerBusySecond: number;
}

/** The request rate per real second against the budget. */
export function rateFigures(perSecond: { second: number; count: number }[], limit: number): RateFigures {
  const peak = Math.max(0, ...perSecond.map((s) => s.count));
  const busy = perSecond.filter((s) => s.count > 0);
  return {
    limit,
    peakPerSecond: peak,
    peakOverLimitPct: round(((peak - limit) / limit) * 100),
    secondsOver5pct: perSecond.filter((s) => s.count > limit * 1.05).length,
    meanPerBusySecond: round(busy.reduce((a, s) => a + s.count, 0) / Math.max(1, busy.length)),
  };
}
