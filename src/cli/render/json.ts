import type { DeviceStatus } from '../../../domain/types';
import type { RolloutStatus } from '../../operator/status';

/**
 * The `status --json` document: the contract documented in docs/cli.md. Field order is stable;
 * new fields may be added, none removed or renamed.
 */
export function statusJson(s: RolloutStatus): Record<string, unknown> {
  return {
    rolloutId: s.rolloutId,
    state: s.state,
    closed: s.closed,
    targetVersion: s.targetVersion,
    versionType: s.versionType,
    operator: s.operator,
    ticket: s.ticket,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    eta: iso(s.eta),
    total: s.total,
    counts: s.counts,
    currentWave: s.currentWave,
    gate: s.gate,
    haltReason: s.haltReason,
    failureBudget: s.failureBudget,
    pace: s.pace,
    activePart: s.activePart,
    activeParts: s.activeParts,
    followUpOf: s.followUpOf,
    followUps: s.followUps?.map((f) => f.rolloutId),
    waves: s.waves.map((w) => ({
      index: w.index,
      name: w.name,
      size: w.size,
      state: w.state,
      counts: w.counts,
      startedAt: iso(w.startedAt),
      finishedAt: iso(w.finishedAt),
      bakeUntil: iso(w.bakeUntil),
    })),
    devices: s.devices.map(deviceJson),
  };
}

/** One device of the `status --json` contract. */
export function deviceJson(d: DeviceStatus): Record<string, unknown> {
  return {
    smartAgId: d.smartAgId,
    regionId: d.regionId,
    wave: d.wave,
    outcome: d.outcome,
    serials: d.serials.map((s) => ({ serialNumber: s.serialNumber, role: s.role, from: s.from, to: s.to })),
    phase: d.phase,
    errorCode: d.errorCode,
    message: d.message,
    compensation: d.compensation,
    requestIds: d.requestIds,
  };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
