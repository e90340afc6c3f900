import { describe, expect, it } from 'vitest';
import { planEstimate } from '../../src/operator/plan-estimate';
import { nextPlanWindow } from '../../src/operator/plan-window';
import type { StartChecks } from '../../src/operator/start-checks';
import { renderStartSummary } from '../../src/cli/render/start-summary';
import { fastRolloutPolicy } from '../helpers/fixtures';

function summary(checks: StartChecks): string {
  const policy = fastRolloutPolicy();
  const waves = [{ name: 'wave-1', size: 3000 }];
  return renderStartSummary({
    rolloutId: 'r-43',
    policy,
    devices: 3000,
    waves,
    window: nextPlanWindow(policy, Date.now()),
    estimate: planEstimate(policy, [3000]),
    checks,
    taskQueue: 'sag-rollout',
    operator: 'alice',
  });
}

const NONE = { overlaps: [], running: 0, read: 0, unreadable: [] };

describe('the start summary', () => {
  it('names running rollouts with devices of the inventory, another target version loudly', () => {
    const text = summary({
      workers: 1,
      held: [{ smartAgId: 'sag-1', heldBy: 'r-41' }],
      rollouts: {
        overlaps: [
          { rolloutId: 'r-41', targetVersion: '2.4.0.0', versionType: 'Device', devices: 2950 },
          { rolloutId: 'r-40', targetVersion: '2.5.0.0', versionType: 'Device', devices: 12 },
          { rolloutId: 'r-38', targetVersion: '20240101_1_0-0.0.2', versionType: 'Dpi', devices: 3 },
        ],
        running: 60,
        read: 50,
        unreadable: ['r-39'],
      },
    });
    expect(text).toContain(
      'running rollouts: 3 rollouts have devices of the inventory: the rollouts race for them (whichever reaches a device first upgrades it)\n' +
        '  rollout r-41 (to 2.4.0.0) has 2950 of the devices in its inventory\n' +
        '  rollout r-40 (to 2.5.0.0, not 2.4.0.0) has 12 of the devices in its inventory\n' +
        '  rollout r-38 (to 20240101_1_0-0.0.2, Dpi) has 3 of the devices in its inventory\n' +
        '  ANOTHER TARGET VERSION: rollout r-40 upgrades to 2.5.0.0, this one to 2.4.0.0: a device both reach ends on whichever version reached it last\n' +
        '  only 50 of 60 running rollouts read (at most 50); the others not checked; the inventory of r-39 could not be read',
    );
  });

  it('says the held devices and the running rollouts are unknown when they could not be read', () => {
    const text = summary({
      workers: 1,
      held: [],
      heldUnknown: 'visibility unavailable',
      rollouts: NONE,
      rolloutsUnknown: 'visibility unavailable',
    });
    expect(text).toContain(
      'held: unknown (visibility unavailable)\nrunning rollouts: unknown (visibility unavailable)',
    );
    expect(summary({ workers: 1, held: [], rollouts: NONE })).toContain(
      'held: none (no running rollout holds a device of the inventory)\nrunning rollouts: none has a device of the inventory in its inventory',
    );
  });
});
