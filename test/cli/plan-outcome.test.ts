import { describe, expect, it } from 'vitest';
import { DEFAULT_CODE_POLICIES } from '../../domain/error-policy';
import { estimateRollout } from '../../domain/plan-estimate';
import { predictFromInspectError, predictFromPreflight } from '../../domain/plan-outcome';
import { versionFormatProblems } from '../../domain/version-format';

const fail = (code: string) => ({ decision: 'fail', code, reason: 'r', targetVersion: '2.4.0.0' }) as const;

describe("plan's prediction reads the rollout's error table", () => {
  const rows = Object.entries(DEFAULT_CODE_POLICIES);

  it.each(rows.filter(([, p]) => p.action === 'skip'))('predicts a skip for a preflight %s', (code) => {
    expect(predictFromPreflight(fail(code), {}).outcome).toBe('skip');
  });

  it.each(rows.filter(([, p]) => p.action === 'fail'))('predicts a failure for a preflight %s', (code) => {
    expect(predictFromPreflight(fail(code), {}).outcome).toBe('fail');
  });

  it.each(rows.filter(([, p]) => p.action === 'halt' || p.class === 'rollout'))(
    'stops the plan when an inspection meets %s',
    (code) => {
      expect(predictFromInspectError(code, 'm', {}).outcome).toBe('stop');
    },
  );

  it('stops on credential codes the table does not list, by their prefix', () => {
    expect(predictFromInspectError('InvalidAccessKeyId.Expired', 'm', {}).outcome).toBe('stop');
    expect(predictFromInspectError('Forbidden.Whatever', 'm', {}).outcome).toBe('stop');
  });

  it("follows the policy's error overrides as the rollout does", () => {
    expect(predictFromPreflight(fail('NotBoundCCN'), { NotBoundCCN: { action: 'fail' } }).outcome).toBe(
      'fail',
    );
    expect(
      predictFromPreflight(fail('VersionNotExist'), { VersionNotExist: { action: 'skip' } }).outcome,
    ).toBe('skip');
  });

  it('defers an offline device and cannot say for a transient inspection error', () => {
    expect(predictFromPreflight(fail('SmartAccessGatewayNotOnline'), {}).outcome).toBe('defer');
    expect(predictFromInspectError('Throttling', 'm', {}).outcome).toBe('unknown');
  });
});

describe('version format', () => {
  it('wants four dotted numbers for firmware and the dated form for DPI', () => {
    expect(versionFormatProblems({ targetVersion: '2.4.0.0', versionType: 'Device' })).toEqual([]);
    expect(versionFormatProblems({ targetVersion: '2.4', versionType: 'Device' })).toEqual([
      'targetVersion: "2.4" is not a Device version (four dotted numbers, like 2.4.0.0)',
    ]);
    expect(
      versionFormatProblems({
        targetVersion: '2.4.0.0',
        versionType: 'Device',
        targetsByModel: { 'sag-100wm': '2.4.1' },
      }),
    ).toHaveLength(1);
    expect(versionFormatProblems({ targetVersion: '20201117_1_0-0.0.1', versionType: 'Dpi' })).toEqual([]);
    expect(versionFormatProblems({ targetVersion: '2.4.0.0', versionType: 'Dpi' })).toHaveLength(1);
  });
});

describe('estimated duration', () => {
  it('counts batches of the concurrency, the per-minute cap when slower, and the bakes', () => {
    const base = { concurrency: 10, expectedUpgradeMs: 600_000, bakeMs: 1_800_000 };
    // 1 batch, 3 batches, 10 batches; two bakes.
    expect(estimateRollout({ ...base, upgradesPerWave: [5, 30, 100] }).totalMs).toBe(
      (1 + 3 + 10) * 600_000 + 2 * 1_800_000,
    );
    // 100 devices at 2 a minute: the last starts after 49.5 minutes, and takes its 10.
    expect(
      estimateRollout({ ...base, concurrency: 100, maxPerMinute: 2, bakeMs: 0, upgradesPerWave: [100] })
        .totalMs,
    ).toBe(49.5 * 60_000 + 600_000);
    expect(estimateRollout({ ...base, upgradesPerWave: [0] }).totalMs).toBe(0);
  });
});
