import { describe, expect, it } from 'vitest';
import {
  decideApproval,
  decidePromotion,
  needsApproval,
  planExclusion,
  rememberCommand,
  sharedAccount,
  validateCommand,
  validateExclude,
  validatePace,
} from '../../domain/commands';
import { compensationPartName, partName, retryPartName } from '../../domain/plan';
import type { DeviceStatus } from '../../domain/types';

const cmd = { by: 'bob', requestId: 'r-1' };

describe('command validators', () => {
  it('rejects a command without a sender or a requestId', () => {
    expect(() => validateCommand(cmd)).not.toThrow();
    expect(() => validateCommand({ ...cmd, by: ' ' })).toThrow('the command must say who sends it (by)');
    expect(() => validateCommand({ by: 'bob', requestId: '' })).toThrow('the command needs a requestId');
  });

  it('rejects an exclusion of no device and a pace that cannot be kept', () => {
    expect(() => validateExclude({ ...cmd, smartAgIds: [] })).toThrow('name at least one SmartAGId');
    expect(() => validatePace({ ...cmd, concurrency: 1.5 })).toThrow(
      'concurrency must be a whole number ≥ 1',
    );
    expect(() => validatePace({ ...cmd, maxPerMinute: -1 })).toThrow('maxPerMinute must be ≥ 0');
    expect(() => validatePace({ ...cmd, concurrency: 3, maxPerMinute: 0 })).not.toThrow();
  });
});

describe('rememberCommand', () => {
  it('answers by requestId and forgets the oldest beyond the limit', () => {
    const seen: Record<string, number> = {};
    const order: string[] = [];
    for (const [i, id] of ['a', 'b', 'c'].entries()) rememberCommand(seen, order, id, i, 2);
    expect(seen).toEqual({ b: 1, c: 2 });
    expect(order).toEqual(['b', 'c']);
  });
});

describe('approval and promotion', () => {
  const approval = { kind: 'approval' as const, wave: 2 };

  it('approves the waiting gate, the one the operator names, by someone else when the policy says so', () => {
    expect(decideApproval(approval, undefined, 'bob', 'alice', true)).toEqual({ accepted: true, wave: 2 });
    expect(decideApproval(approval, 3, 'bob', 'alice', false)).toEqual({
      accepted: false,
      message: 'the waiting gate is before wave 2, not 3',
    });
    expect(decideApproval(approval, 2, 'alice', 'alice', true)).toEqual({
      accepted: false,
      message: 'the approver must differ from the operator who started the rollout (alice)',
    });
    expect(decideApproval({ kind: 'bake', wave: 1 }, undefined, 'bob', 'alice', false)).toEqual({
      accepted: false,
      message: 'no approval gate is waiting',
    });
  });

  it('promotes past a bake, and past an approval gate only by a different approver when required', () => {
    expect(decidePromotion({ kind: 'bake', wave: 1 }, 'alice', 'alice', true)).toEqual({
      accepted: true,
      kind: 'bake',
      wave: 1,
    });
    expect(decidePromotion(approval, 'alice', 'alice', true)).toEqual({
      accepted: false,
      message: 'promoting past an approval gate needs a different approver',
    });
    expect(decidePromotion({ kind: 'pause', wave: 0 }, 'bob', 'alice', false)).toEqual({
      accepted: false,
      message: 'no bake or gate is waiting',
    });
  });

  it('refuses an approval when the starter or the approver is a shared OS account, whatever the hosts', () => {
    expect(['os:root@a', 'os:Administrator@win', 'os:ops(uid 0)@b'].map(sharedAccount)).toEqual([
      true,
      true,
      true,
    ]);
    expect(
      ['os:alice@a', 'os:rooter@a', 'cert:CN=root', 'dashboard:root', undefined].map(sharedAccount),
    ).toEqual([false, false, false, false, false]);
    // root in two containers: two identities, no evidence of two people.
    const twoContainers = { operator: 'os:root@ctr-a', by: 'os:root@ctr-b' };
    expect(decideApproval(approval, 2, 'bob', 'alice', true, twoContainers)).toEqual({
      accepted: false,
      message:
        "approverMustDiffer needs people: the rollout was started as os:root@ctr-a, a shared OS account that names no one; start and approve with a Temporal client certificate (cert:<subject>) or the dashboard's per-operator tokens",
    });
    expect(
      decideApproval(approval, 2, 'bob', 'alice', true, {
        operator: 'cert:CN=alice',
        by: 'os:Administrator@w',
      }),
    ).toMatchObject({
      accepted: false,
      message: expect.stringContaining('the approval comes from os:Administrator@w') as unknown,
    });
    expect(decidePromotion(approval, 'bob', 'alice', true, twoContainers)).toMatchObject({
      accepted: false,
      message: expect.stringMatching(
        /^promoting past an approval gate: approverMustDiffer needs people/,
      ) as unknown,
    });
    // People on both sides, or no rule asked for: as before.
    expect(
      decideApproval(approval, 2, 'bob', 'alice', true, { operator: 'cert:CN=alice', by: 'dashboard:bob' }),
    ).toEqual({
      accepted: true,
      wave: 2,
    });
    expect(decideApproval(approval, 2, 'bob', 'alice', false, twoContainers)).toEqual({
      accepted: true,
      wave: 2,
    });
    expect(decidePromotion({ kind: 'bake', wave: 1 }, 'bob', 'alice', true, twoContainers)).toMatchObject({
      accepted: true,
    });
  });

  it('gates the waves after the canary as the policy asks, never the canary itself', () => {
    expect([0, 1, 2].map((w) => needsApproval(w, 'canary'))).toEqual([false, true, false]);
    expect([0, 1, 2].map((w) => needsApproval(w, 'each-wave'))).toEqual([false, true, true]);
    expect([0, 1, 2].map((w) => needsApproval(w, 'none'))).toEqual([false, false, false]);
  });
});

describe('planExclusion', () => {
  const status = (smartAgId: string, outcome: DeviceStatus['outcome']): DeviceStatus => ({
    smartAgId,
    regionId: 'cn-shanghai',
    wave: 1,
    outcome,
    serials: [],
  });

  it('excludes pending devices, accepts excluded ones again, and refuses the rest with why', () => {
    const devices = { a: status('a', 'pending'), b: status('b', 'excluded'), c: status('c', 'upgraded') };
    expect(planExclusion(devices, ['a', 'b', 'c', 'x'])).toEqual({
      exclude: ['a'],
      done: ['a', 'b'],
      asked: [],
      refused: ['c (upgraded)', 'x (not in this rollout)'],
    });
  });

  it('asks the running part about its devices, which the rollout shows in progress', () => {
    const devices = { a: status('a', 'in-progress'), c: status('c', 'upgraded') };
    expect(planExclusion(devices, ['a', 'c'], true)).toEqual({
      exclude: [],
      done: [],
      asked: ['a'],
      refused: ['c (upgraded)'],
    });
    expect(planExclusion(devices, ['a'], false).refused).toEqual(['a (in-progress)']);
  });
});

describe('part names', () => {
  it('names parts after their wave, retry run or compensation, numbered from the second', () => {
    expect(partName(1, 3, true)).toBe('wave-1');
    expect(partName(1, 3, false)).toBe('wave-1-part-3');
    expect([0, 1].map((k) => retryPartName(2, k))).toEqual(['retry-2', 'retry-2-part-2']);
    expect([0, 1].map((k) => compensationPartName(k))).toEqual(['compensate', 'compensate-part-2']);
  });
});
