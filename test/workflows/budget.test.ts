import { describe, expect, it } from 'vitest';
import {
  addCounts,
  budgetRules,
  countDevice,
  countRecheckFailures,
  emptyBudget,
  evaluateBudget,
  failurePercent,
  shareBreachedBeforeRules,
  type BudgetRules,
} from '../../domain/budget';
import {
  blockingSends,
  closeSends,
  inProgress,
  markReverted,
  mergeOpenSends,
  presumeFlashing,
  restorablePolicies,
} from '../../domain/open-sends';
import type { DeviceSnapshot } from '../../domain/device-types';
import type { OpenSend, PinnedPolicy } from '../../domain/types';

const rules = (o: Partial<BudgetRules> = {}): BudgetRules => ({
  limitPercent: 10,
  minFailures: 2,
  maxConsecutive: 0,
  zeroTolerance: false,
  ...o,
});
const last = { smartAgId: 'sag-1', code: 'UpgradeReverted' };

describe('evaluateBudget', () => {
  it('breaches on the share only once the minimum count is reached', () => {
    expect(evaluateBudget({ failed: 1, finished: 2, consecutive: 1 }, rules(), last)).toEqual({
      breached: false,
    });
    expect(evaluateBudget({ failed: 2, finished: 10, consecutive: 0 }, rules(), last)).toEqual({
      breached: true,
      reason: 'failure budget exceeded: 2/10 failed (20.0% > 10%)',
    });
    expect(evaluateBudget({ failed: 2, finished: 20, consecutive: 0 }, rules(), last)).toEqual({
      breached: false,
    });
  });

  it('lets the canary tolerate no failure, whatever the share', () => {
    expect(
      evaluateBudget({ failed: 1, finished: 100, consecutive: 1 }, rules({ zeroTolerance: true }), last),
    ).toEqual({
      breached: true,
      reason: 'canary device sag-1 failed (UpgradeReverted)',
    });
  });

  it('breaches on consecutive failures when the rule is on, and not when it is 0', () => {
    const c = { failed: 3, finished: 1000, consecutive: 3 };
    expect(evaluateBudget(c, rules({ maxConsecutive: 3, minFailures: 100 }), last)).toEqual({
      breached: true,
      reason: '3 consecutive failures',
    });
    expect(evaluateBudget(c, rules({ maxConsecutive: 0, minFailures: 100 }), last)).toEqual({
      breached: false,
    });
  });

  it('counts devices: a success ends a run of failures', () => {
    let c = emptyBudget();
    for (const failed of [true, true, false, true]) c = countDevice(c, failed);
    expect(c).toEqual({ failed: 3, finished: 4, consecutive: 1 });
    expect(failurePercent(c)).toBe(75);
    expect(failurePercent(emptyBudget())).toBe(0);
  });
});

const send = (o: Partial<OpenSend> = {}): OpenSend => ({
  serialNumber: 'sn1',
  version: '2.4.0.0',
  versionType: 'Device',
  at: 1000,
  accepted: true,
  rolloutId: 'r1',
  ...o,
});

describe('open sends', () => {
  it('merges lists, each call once', () => {
    expect(mergeOpenSends([send()], undefined, [send(), send({ at: 2000 })])).toEqual([
      send(),
      send({ at: 2000 }),
    ]);
  });

  it('closes a verified serial number, keeps a reverted one for the rollout that sent it', () => {
    const open = [send(), send({ serialNumber: 'sn2' })];
    expect(closeSends(open, 'sn1')).toEqual([send({ serialNumber: 'sn2' })]);
    const reverted = markReverted(open, 'sn1');
    expect(inProgress(reverted, 'sn1')).toBe(false);
    expect(blockingSends(reverted, 'sn1', 'r1')).toEqual([send({ reverted: true })]);
    expect(blockingSends(reverted, 'sn1', 'r1', true)).toEqual([]);
    expect(blockingSends(reverted, 'sn1', 'another')).toEqual([]);
    expect(blockingSends(reverted, 'sn2', 'another')).toEqual([send({ serialNumber: 'sn2' })]);
  });

  it('presumes an offline serial number with a call in progress is flashing', () => {
    const snapshot = {
      status: 'Offline',
      serials: [
        { serialNumber: 'sn1', hcState: 'offline' },
        { serialNumber: 'sn2', hcState: 'offline' },
      ],
    } as unknown as DeviceSnapshot;
    const seen = presumeFlashing(snapshot, [send()]);
    expect(seen.status).toBe('Active');
    expect(seen.serials.map((s) => s.hcState)).toEqual(['online', 'offline']);
    expect(presumeFlashing(snapshot, [send({ reverted: true })])).toBe(snapshot);
  });

  it('keeps the originals of policies an earlier run pinned and could not restore', () => {
    const manual: PinnedPolicy = { serialNumber: 'sn1', versionType: 'Device', upgradeType: 'manual' };
    const original: PinnedPolicy = {
      serialNumber: 'sn1',
      versionType: 'Device',
      upgradeType: 'scheduled',
      cronExpression: '0 0 3 ? * 1',
    };
    const dpi: PinnedPolicy = { serialNumber: 'sn1', versionType: 'Dpi', upgradeType: 'manual' };
    expect(restorablePolicies([manual, dpi], [original])).toEqual([original, dpi]);
    expect(restorablePolicies([manual, dpi], undefined)).toEqual([manual, dpi]);
  });
});

describe('budget counts across parts and the health re-check', () => {
  it('adds a part to what the rollout counted before it, taking its run of consecutive failures', () => {
    expect(addCounts({ failed: 1, finished: 10 }, { failed: 2, finished: 5, consecutive: 3 })).toEqual({
      failed: 3,
      finished: 15,
      consecutive: 3,
    });
  });

  it('turns upgraded devices that failed the re-check into failures', () => {
    expect(countRecheckFailures({ failed: 1, finished: 10, consecutive: 0 }, 2)).toEqual({
      failed: 3,
      finished: 10,
      consecutive: 2,
    });
    // A device not counted as finished before is counted now.
    expect(countRecheckFailures({ failed: 0, finished: 0, consecutive: 1 }, 2)).toEqual({
      failed: 2,
      finished: 2,
      consecutive: 3,
    });
  });

  it('keeps the share-only decision of the re-check as rollouts started before the rules counted there', () => {
    const share = { limitPercent: 20, minFailures: 2 };
    expect(shareBreachedBeforeRules({ failed: 1, finished: 10 }, 1, share)).toBe(false);
    expect(shareBreachedBeforeRules({ failed: 1, finished: 5 }, 1, share)).toBe(true);
    expect(shareBreachedBeforeRules({ failed: 0, finished: 0 }, 2, share)).toBe(true);
    expect(shareBreachedBeforeRules({ failed: 0, finished: 0 }, 1, share)).toBe(false);
  });

  it("reads a policy's failure budget as rules", () => {
    expect(
      budgetRules(
        { maxFailurePercent: 10, minFailures: 2, maxConsecutiveFailures: 3, onBreach: 'pause' },
        true,
      ),
    ).toEqual({ limitPercent: 10, minFailures: 2, maxConsecutive: 3, zeroTolerance: true });
  });
});
