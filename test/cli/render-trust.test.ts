import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../domain/counts';
import type { RolloutStatus } from '../../src/operator/status';
import { statusEvents } from '../../src/cli/render/events';
import { etaText, gateText, renderProgress } from '../../src/cli/render/progress';
import { budgetText, renderRolloutText } from '../../src/cli/render/rollout-text';

// What the renderers make of a status: an ETA with its date and zone only while devices run, the
// halt reason on the first line that shows it, English plurals, a budget that explains itself.
function status(over: Partial<RolloutStatus> = {}): RolloutStatus {
  return {
    rolloutId: 'r-1',
    state: 'running',
    closed: false,
    targetVersion: '2.4.0.0',
    versionType: 'Device',
    operator: 'alice',
    startedAt: Date.UTC(2026, 10, 29, 2, 0),
    total: 1,
    counts: { ...emptyCounts(), pending: 1 },
    currentWave: 0,
    waves: [
      { index: 0, name: 'canary', size: 1, state: 'running', counts: { ...emptyCounts(), pending: 1 } },
    ],
    failureBudget: {
      failed: 0,
      finished: 0,
      percent: 0,
      limitPercent: 10,
      minFailures: 2,
      consecutive: 0,
      breached: false,
    },
    pace: { concurrency: 1 },
    devices: [],
    ...over,
  };
}

describe('status renderers', () => {
  it('gives the ETA as a date, a time and a zone while devices run', () => {
    const eta = Date.UTC(2026, 10, 29, 4, 12);
    const text = etaText(status({ eta }));
    expect(text).toMatch(/^, eta \d{4}-\d{2}-\d{2} \d{2}:\d{2} [+-]\d{2}:\d{2}/);
    expect(renderProgress(status({ eta }), { color: false })[0]).toContain(text.slice(2));
  });

  it('gives no ETA while the rollout waits, and says why', () => {
    expect(etaText(status({ state: 'paused' }))).toBe(', no eta while paused');
    expect(renderRolloutText(status({ state: 'waiting-approval' }))).toMatch(/no eta while waiting-approval/);
  });

  it('puts the halt reason on the first event line and says 1 device in 1 wave', () => {
    const halted = status({
      state: 'paused',
      haltReason: 'failure budget exceeded: 2/7 failed (28.6% > 10%)',
    });
    const [first] = statusEvents(undefined, halted);
    expect(first).toMatch(
      /rollout r-1 → 2\.4\.0\.0 \(Device\): paused, 1 device in 1 wave: halted: failure budget exceeded: 2\/7/,
    );
    // A reason that arrives without a change of state is a line of its own.
    const running = status();
    const later = status({ haltReason: 'failure budget exceeded: 2/7 failed (28.6% > 10%)' });
    expect(statusEvents(running, later)).toContainEqual(
      expect.stringMatching(/rollout running: halted: failure budget/),
    );
  });

  it('gives a rollout first seen closed its failed devices and its closing line at once', () => {
    const closed = status({
      state: 'completed',
      closed: true,
      counts: { ...emptyCounts(), failed: 1 },
      devices: [
        {
          smartAgId: 'sag-1',
          regionId: 'cn-shanghai',
          wave: 0,
          outcome: 'failed',
          phase: 'verify',
          errorCode: 'UpgradeReverted',
          serials: [],
        },
      ],
    });
    const lines = statusEvents(undefined, closed);
    expect(lines[0]).toMatch(/rollout r-1 → 2\.4\.0\.0 \(Device\): completed/);
    expect(lines).toContainEqual(expect.stringMatching(/device sag-1 failed in verify/));
    expect(lines[lines.length - 1]).toMatch(/rollout closed completed: 0 upgraded, 0 skipped, 1 failed/);
  });

  it("shows a change window's opening in the zone the window is written in, beside UTC", () => {
    const at = Date.UTC(2026, 10, 29, 18, 0); // 02:00 the next day in Shanghai
    const waiting = status({
      state: 'waiting-window',
      part: { nextWindowAt: at, windowZone: 'Asia/Shanghai' } as RolloutStatus['part'],
    });
    expect(gateText(waiting)).toMatch(
      /^waiting for a change window \(opens 2026-11-30 02:00 Asia\/Shanghai, .*2026-11-29T18:00:00\.000Z\)$/,
    );
  });

  it('says why failed devices are not in the budget', () => {
    const s = status({ counts: { ...emptyCounts(), failed: 4 } });
    expect(budgetText(s)).toMatch(
      /^0\/0 failed \(0\.0%, limit 10%\); counts failures since the start or the last resume, not those of the rollout's credentials or permissions$/,
    );
    expect(budgetText(status())).toBe('0/0 failed (0.0%, limit 10%)');
    const halted = status({ counts: { ...emptyCounts(), failed: 3, upgraded: 1 } });
    halted.failureBudget = { ...halted.failureBudget, failed: 2, finished: 3, percent: 66.7, breached: true };
    expect(budgetText(halted)).toBe(
      '2/3 failed (66.7%, limit 10%) BREACHED; the count that decided the halt: devices that finished after it are not in it',
    );
  });
});
