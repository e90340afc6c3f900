import { describe, expect, it } from 'vitest';
import { overlayPart } from '../../src/audit/live';
import { countOutcomes, emptyCounts } from '../../domain/counts';
import type { DeviceStatus, DeviceStatusOutcome, RolloutProgress } from '../../domain/types';
import type { PartProgress } from '../../workflows/messages';

// The one reading of a running rollout that the report and status share: the part running now
// laid over the rollout's own figures.
const dev = (smartAgId: string, wave: number, outcome: DeviceStatusOutcome): DeviceStatus => ({
  smartAgId,
  regionId: 'cn-shanghai',
  wave,
  outcome,
  serials: [],
});

function progress(over: Partial<RolloutProgress> = {}): RolloutProgress {
  return {
    rolloutId: 'r-1',
    state: 'running',
    targetVersion: '2.4.0.0',
    versionType: 'Device',
    operator: 'alice',
    startedAt: 0,
    total: 4,
    counts: emptyCounts(),
    currentWave: 1,
    waves: [
      { index: 0, name: 'canary', size: 1, state: 'done', counts: emptyCounts() },
      { index: 1, name: 'wave-1', size: 3, state: 'running', counts: emptyCounts() },
    ],
    failureBudget: {
      failed: 0,
      finished: 1,
      percent: 0,
      limitPercent: 10,
      minFailures: 1,
      consecutive: 0,
      breached: false,
    },
    pace: { concurrency: 3 },
    activePart: 'rollout/r-1/wave-1/part-0',
    ...over,
  };
}

const rolloutDevices = [
  dev('c', 0, 'upgraded'),
  dev('a', 1, 'in-progress'),
  dev('b', 1, 'in-progress'),
  dev('x', 1, 'excluded'),
];
const partDevices = [dev('a', 1, 'upgraded'), dev('b', 1, 'failed'), dev('x', 1, 'pending')];

function part(over: Partial<PartProgress> = {}): PartProgress {
  return {
    wave: 1,
    part: 0,
    total: 3,
    started: 2,
    inFlight: 0,
    counts: countOutcomes(partDevices),
    state: 'running',
    failed: 1,
    finished: 2,
    consecutive: 1,
    budget: { failed: 1, finished: 3, consecutive: 1 },
    halted: { reason: 'failure budget exceeded: 1/3 failed (33.3% > 10%)' },
    ...over,
  };
}

describe('the live view of a rollout', () => {
  it("lays the part's devices, budget and halt over the rollout's, keeping an exclusion the part has not applied", () => {
    const v = overlayPart(progress(), rolloutDevices, { part: part(), devices: partDevices }, false);
    expect(v.devices.map((d) => [d.smartAgId, d.outcome])).toEqual([
      ['c', 'upgraded'],
      ['a', 'upgraded'],
      ['b', 'failed'],
      ['x', 'excluded'],
    ]);
    expect(v.progress.counts).toEqual({ ...emptyCounts(), upgraded: 2, failed: 1, excluded: 1 });
    expect(v.progress.waves.map((w) => w.counts)).toEqual([
      { ...emptyCounts(), upgraded: 1 },
      { ...emptyCounts(), upgraded: 1, failed: 1, excluded: 1 },
    ]);
    expect(v.progress.failureBudget).toMatchObject({
      failed: 1,
      finished: 3,
      consecutive: 1,
      breached: true,
    });
    expect(v.progress.failureBudget.percent).toBeCloseTo(33.33, 1);
    expect(v.progress.haltReason).toBe('failure budget exceeded: 1/3 failed (33.3% > 10%)');
  });

  it("keeps the rollout's own halt reason and calls a credential halt no breach", () => {
    const own = overlayPart(
      progress({ haltReason: 'health re-check after canary: 1 device unhealthy' }),
      rolloutDevices,
      { part: part(), devices: partDevices },
      false,
    );
    expect(own.progress.haltReason).toBe('health re-check after canary: 1 device unhealthy');
    const credentials = overlayPart(
      progress(),
      rolloutDevices,
      { part: part({ halted: { reason: 'Forbidden.RAM on a', credentials: true } }), devices: partDevices },
      false,
    );
    expect(credentials.progress.haltReason).toBe('Forbidden.RAM on a');
    expect(credentials.progress.failureBudget.breached).toBe(false);
  });

  it('takes no budget from a compensation-only part or from the part of a closed rollout', () => {
    for (const [p, closed] of [
      [part({ wave: -1 }), false],
      [part(), true],
    ] as const) {
      const v = overlayPart(progress(), rolloutDevices, { part: p, devices: partDevices }, closed);
      expect(v.progress.failureBudget).toEqual(progress().failureBudget);
      expect(v.progress.haltReason).toBeUndefined();
    }
  });

  it('reads waiting-window while the part waits for a change window, and the rollout alone without a part', () => {
    const waiting = overlayPart(
      progress(),
      rolloutDevices,
      { part: part({ state: 'waiting-window', halted: undefined }), devices: partDevices },
      false,
    );
    expect(waiting.progress.state).toBe('waiting-window');
    const alone = overlayPart(progress({ activePart: undefined }), rolloutDevices, undefined, false);
    expect(alone.devices).toEqual(rolloutDevices);
    expect(alone.part).toBeUndefined();
    expect(alone.progress.failureBudget).toEqual(progress().failureBudget);
  });

  it('estimates the end from the devices as they finish, and gives none while a halt plays out', () => {
    const partDevices4 = [dev('a', 1, 'upgraded'), dev('b', 1, 'in-progress'), dev('x', 1, 'pending')];
    const rollout4 = rolloutDevices.map((d) =>
      d.smartAgId === 'x' ? { ...d, outcome: 'pending' as const } : d,
    );
    const running = overlayPart(
      progress({ startedAt: 0, eta: undefined }),
      rollout4,
      { part: part({ halted: undefined }), devices: partDevices4 },
      false,
      60_000,
    );
    // Two of four done in a minute (the canary and a): two minutes in all, one to go.
    expect(running.progress.eta).toBe(120_000);
    const halting = overlayPart(progress(), rollout4, { part: part(), devices: partDevices4 }, false, 60_000);
    expect(halting.progress.haltReason).toBeDefined();
    expect(halting.progress.eta).toBeUndefined();
  });

  it("lays every overlapping part over the rollout; the budget is the halting part's, else the newest's", () => {
    const older = {
      part: part({
        part: 1,
        halted: undefined,
        budget: { failed: 0, finished: 1, consecutive: 0 },
        counts: countOutcomes([dev('a', 1, 'upgraded')]),
      }),
      devices: [dev('a', 1, 'upgraded')],
    };
    const newer = {
      part: part({
        part: 2,
        halted: undefined,
        budget: { failed: 1, finished: 2, consecutive: 1 },
        counts: countOutcomes([dev('b', 1, 'failed')]),
      }),
      devices: [dev('b', 1, 'failed')],
    };
    const v = overlayPart(progress(), rolloutDevices, newer, false, 0, [older]);
    expect(v.devices.map((d) => [d.smartAgId, d.outcome])).toEqual([
      ['c', 'upgraded'],
      ['a', 'upgraded'],
      ['b', 'failed'],
      ['x', 'excluded'],
    ]);
    expect(v.progress.failureBudget).toMatchObject({ failed: 1, finished: 2, breached: false });
    // The older part decided a halt: its count, the one its reason quotes, is shown.
    const halting = {
      ...older,
      part: { ...older.part, budget: { failed: 3, finished: 9, consecutive: 0 }, halted: { reason: 'r' } },
    };
    const h = overlayPart(progress(), rolloutDevices, newer, false, 0, [halting]);
    expect(h.progress.haltReason).toBe('r');
    expect(h.progress.failureBudget).toMatchObject({ failed: 3, finished: 9, breached: true });
  });
});
