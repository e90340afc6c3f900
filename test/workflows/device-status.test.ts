import { describe, expect, it } from 'vitest';
import {
  compensationSummary,
  needsCompensation,
  seededResult,
  serialsAfterCompensation,
} from '../../domain/compensation';
import { countOutcomes, emptyCounts } from '../../domain/counts';
import {
  interruptedEnd,
  mergeCompensated,
  mergePartDevice,
  pendingStatus,
  priorOf,
  retryPrior,
  statusOutcome,
  undoOf,
} from '../../domain/device-status';
import type { DeviceStatus, DeviceUpgradeResult, OpenSend, PinnedPolicy } from '../../domain/types';

const scheduled: PinnedPolicy = { serialNumber: 'sn1', versionType: 'Device', upgradeType: 'scheduled' };
const openSend: OpenSend = {
  serialNumber: 'sn1',
  version: '2.4.0.0',
  versionType: 'Device',
  at: 1,
  accepted: false,
};
const result = (o: Partial<DeviceUpgradeResult> = {}): DeviceUpgradeResult => ({
  smartAgId: 'sag-1',
  outcome: 'failed',
  serials: [{ serialNumber: 'sn1', from: '2.3.0.0', to: '2.4.0.0' }],
  requestIds: [],
  pinned: [scheduled],
  policiesRestored: true,
  upgradeCalls: 1,
  apiCalls: 3,
  startedAt: 0,
  finishedAt: 1,
  ...o,
});
const status = (o: Partial<DeviceStatus> = {}): DeviceStatus => ({
  smartAgId: 'sag-1',
  regionId: 'cn-shanghai',
  wave: 1,
  outcome: 'failed',
  serials: [],
  ...o,
});

describe('device status after a run', () => {
  it('maps a finished run to the status outcome, a deferral past its limit to failed', () => {
    expect(
      ['upgraded', 'skipped', 'unconfirmed', 'failed', 'deferred'].map((o) => statusOutcome(o as never)),
    ).toEqual(['upgraded', 'skipped', 'unconfirmed', 'failed', 'failed']);
  });

  it('keeps what compensation and the next run need of a failed run', () => {
    expect(undoOf(result())).toEqual({ pinned: [scheduled], policiesRestored: true, upgradeCalls: 1 });
    expect(undoOf(result({ openSends: [openSend] }))).toMatchObject({ openSends: [openSend] });
    expect(priorOf(result())).toEqual({ openSends: [] });
    expect(priorOf(result({ policiesRestored: false }))).toEqual({ openSends: [], pinned: [scheduled] });
  });

  it('ends an interrupted device unconfirmed when a call it sent may still be in progress', () => {
    const r = result({
      outcome: 'interrupted',
      errorCode: 'InvalidAccessKeyId.Expired',
      openSends: [openSend],
    });
    expect(interruptedEnd(r)).toMatchObject({
      outcome: 'unconfirmed',
      errorCode: 'InvalidAccessKeyId.Expired',
    });
    expect(interruptedEnd({ ...r, openSends: [{ ...openSend, reverted: true }] }).outcome).toBe('failed');
    expect(interruptedEnd({ ...r, errorCode: undefined }).message).toMatch(
      /^interrupted by a credential failure;/,
    );
  });

  it('passes to a retry only what a failed run left open', () => {
    expect(retryPrior(status())).toBeUndefined();
    expect(retryPrior(status({ undo: undoOf(result()) }))).toBeUndefined();
    expect(retryPrior(status({ undo: undoOf(result({ openSends: [openSend] })) }))).toEqual({
      openSends: [openSend],
    });
    expect(retryPrior(status({ undo: undoOf(result({ policiesRestored: false })) }))).toEqual({
      openSends: [],
      pinned: [scheduled],
    });
    expect(pendingStatus(status({ errorCode: 'X', undo: undoOf(result()) }))).toEqual({
      smartAgId: 'sag-1',
      regionId: 'cn-shanghai',
      wave: 1,
      outcome: 'pending',
      serials: [],
    });
  });

  it("merges a part's report: a late exclusion stands for an unstarted device, the wave stays", () => {
    const excluded = status({ outcome: 'excluded' });
    expect(mergePartDevice(excluded, status({ outcome: 'pending', wave: -1 }), 2)).toBe(excluded);
    expect(mergePartDevice(excluded, status({ outcome: 'upgraded', wave: -1 }), 2)).toMatchObject({
      outcome: 'upgraded',
      wave: 1,
    });
    expect(mergePartDevice(undefined, status({ wave: -1 }), 2).wave).toBe(2);
  });

  it("merges a compensation's report: the failed run's error and phase stay", () => {
    const prev = status({ errorCode: 'UpgradeReverted', message: 'reverted', phase: 'verify' });
    expect(
      mergeCompensated(prev, status({ outcome: 'compensated', wave: -1, compensation: 'policy-restored' })),
    ).toMatchObject({
      outcome: 'compensated',
      wave: 1,
      errorCode: 'UpgradeReverted',
      phase: 'verify',
      compensation: 'policy-restored',
    });
    expect(mergeCompensated(prev, status({ wave: -1 })).compensation).toBe('nothing-to-undo');
  });

  it("merges a compensation's report: the failed run's health analysis stays", () => {
    const health = {
      regressions: [{ check: 'links' as const, subject: 'ccn-01', before: 'Active', after: 'Inactive' }],
      notes: [],
      probes: [],
    };
    const prev = status({ errorCode: 'HealthCheckFailed', phase: 'health', health });
    expect(mergeCompensated(prev, status({ outcome: 'compensated', wave: -1 })).health).toEqual(health);
  });
});

describe('compensation of a part', () => {
  it('compensates failed runs that sent an upgrade or left a policy pinned', () => {
    expect(needsCompensation(result(), false, false)).toBe(true);
    expect(needsCompensation(result({ upgradeCalls: 0 }), false, false)).toBe(false);
    expect(needsCompensation(result({ upgradeCalls: 0, policiesRestored: false }), false, false)).toBe(true);
    expect(
      needsCompensation(
        result({
          upgradeCalls: 0,
          policiesRestored: false,
          pinned: [{ ...scheduled, upgradeType: 'manual' }],
        }),
        false,
        false,
      ),
    ).toBe(false);
  });

  it('compensates an upgraded device only when the policy asks for the previous version', () => {
    expect(needsCompensation(result({ outcome: 'upgraded' }), false, false)).toBe(false);
    expect(needsCompensation(result({ outcome: 'upgraded' }), true, false)).toBe(true);
    expect(needsCompensation(result({ outcome: 'upgraded' }), true, true)).toBe(false);
  });

  it('says what compensation did, a failure once and in front', () => {
    const c = result({
      outcome: 'upgraded',
      compensation: {
        actions: ['not-reversible:sn1', 'failed:Throttling', 'policy-restored'],
        failed: { code: 'Throttling', message: 'slow down' },
        notReversible: [
          { serialNumber: 'sn1', version: '2.3.0.0', code: 'VersionTooOld', requestId: 'rid-1' },
        ],
      },
    });
    expect(compensationSummary(c)).toEqual({
      did: 'not-reversible:sn1 policy-restored not-reversible:sn1:VersionTooOld:rid-1',
      failedWith: 'Throttling',
    });
    expect(compensationSummary(result({ outcome: 'failed', errorCode: undefined }))).toEqual({
      did: '',
      failedWith: 'Unknown',
    });
    expect(compensationSummary(result({ outcome: 'upgraded' })).failedWith).toBeUndefined();
  });

  it('keeps where each serial number started and records where compensation left it', () => {
    const serials = [
      { serialNumber: 'sn1', from: '2.3.0.0', to: '2.4.0.0' },
      { serialNumber: 'sn2', from: '2.3.0.0', to: '2.4.0.0' },
    ];
    const c = result({ serials: [{ serialNumber: 'sn1', from: '2.4.0.0', to: '2.3.0.0' }] });
    expect(serialsAfterCompensation(serials, c)).toEqual([
      { serialNumber: 'sn1', from: '2.3.0.0', to: '2.3.0.0' },
      { serialNumber: 'sn2', from: '2.3.0.0', to: '2.4.0.0' },
    ]);
  });

  it('rebuilds a failed run from the rollout record for a compensation-only part', () => {
    const u = {
      pinned: [scheduled],
      policiesRestored: false,
      upgradeCalls: 2,
      serials: [],
      outcome: 'unconfirmed' as const,
    };
    expect(seededResult('sag-1', u)).toMatchObject({
      smartAgId: 'sag-1',
      outcome: 'unconfirmed',
      upgradeCalls: 2,
    });
    expect(seededResult('sag-1', { ...u, outcome: 'failed' }).outcome).toBe('failed');
  });
});

describe('outcome counts', () => {
  it('counts devices by outcome', () => {
    expect(countOutcomes([status(), status({ outcome: 'upgraded' }), status()])).toEqual({
      ...emptyCounts(),
      failed: 2,
      upgraded: 1,
    });
  });
});
