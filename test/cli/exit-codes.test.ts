import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../domain/counts';
import type { DeviceStatus } from '../../domain/types';
import { exitCodeForState } from '../../src/cli/errors';

const device = (smartAgId: string, outcome: DeviceStatus['outcome'], errorCode?: string): DeviceStatus => ({
  smartAgId,
  regionId: 'cn-shanghai',
  wave: 0,
  outcome,
  serials: [],
  ...(errorCode ? { errorCode } : {}),
});

function completed(devices: DeviceStatus[]) {
  const counts = emptyCounts();
  for (const d of devices) counts[d.outcome] += 1;
  return { state: 'completed' as const, counts, devices };
}

describe('the exit code of a completed rollout', () => {
  it('is 6 when a device was skipped because the deadline passed before it started', () => {
    expect(
      exitCodeForState(
        completed([device('sag-1', 'upgraded'), device('sag-2', 'skipped', 'DeadlinePassed')]),
      ),
    ).toBe(6);
  });

  it('is 6 when a device was skipped because another rollout held it', () => {
    expect(
      exitCodeForState(
        completed([device('sag-1', 'upgraded'), device('sag-2', 'skipped', 'HeldByAnotherRollout')]),
      ),
    ).toBe(6);
    expect(exitCodeForState(completed([device('sag-2', 'skipped', 'HeldByAnotherRollout')]))).toBe(6);
  });

  it('is 0 when the devices not upgraded were skipped as on the target or left out on purpose', () => {
    expect(
      exitCodeForState(
        completed([
          device('sag-1', 'upgraded'),
          device('sag-2', 'skipped'),
          device('sag-3', 'skipped', 'NotBoundCCN'),
          device('sag-4', 'excluded'),
        ]),
      ),
    ).toBe(0);
  });
});
