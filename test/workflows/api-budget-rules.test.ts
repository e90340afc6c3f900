import { describe, expect, it } from 'vitest';
import { budgetPace, deviceReads, quietUntil, withReads } from '../../domain/api-budget';
import { InputError } from '../../src/config/errors';
import { loadPolicy } from '../../src/config/policy';
import { AGREEING_ANSWERS, SharedVersions, versionsKey, waitUntil } from '../../activities/shared-reads';
import { fastDevicePolicy } from '../helpers/fixtures';

describe('the API budget pace', () => {
  it('starts devices only as fast as their expected calls fit the budget', () => {
    expect(budgetPace({ concurrency: 400 }, { requestsPerSecond: 10, callsPerDevice: 6 })).toEqual({
      concurrency: 400,
      maxPerMinute: 100,
    });
    // The lower of the policy's cap and the budget's; the default expects 8 calls a device.
    expect(budgetPace({ concurrency: 400, maxPerMinute: 50 }, { requestsPerSecond: 10 }).maxPerMinute).toBe(
      50,
    );
    expect(budgetPace({ concurrency: 400 }, { requestsPerSecond: 10 }).maxPerMinute).toBe(75);
    // A budget too small for one device a minute still starts one.
    expect(budgetPace({ concurrency: 4 }, { requestsPerSecond: 0.01, callsPerDevice: 8 }).maxPerMinute).toBe(
      1,
    );
  });

  it('leaves the pace and the device policy untouched without a budget', () => {
    const pace = { concurrency: 5 };
    expect(budgetPace(pace, undefined)).toBe(pace);
    expect(budgetPace(pace, { bulkStatus: true })).toBe(pace);
    const policy = fastDevicePolicy();
    expect(withReads(policy, undefined, 'r')).toBe(policy);
    expect(withReads(policy, { requestsPerSecond: 10 }, 'r')).toBe(policy);
  });

  it('passes the reads a device saves, durations in ms and versions shared within the rollout', () => {
    expect(deviceReads({ firstPollAfter: '9m', bulkStatus: true, shareVersions: true }, 'r1')).toEqual({
      firstPollAfterMs: 540_000,
      bulkStatus: true,
      shareVersions: true,
      shareKey: 'r1',
    });
  });
});

describe('the quiet phase of a verify', () => {
  const policy = fastDevicePolicy({
    pollIntervalMs: 1000,
    consecutivePolls: 3,
    reads: { firstPollAfterMs: 9000 },
  });

  it('ends firstPollAfter after the send', () => {
    expect(quietUntil(policy, 100_000, 100_000 + 60_000)).toBe(109_000);
  });

  it('leaves room for the polls the verify needs before its deadline', () => {
    expect(quietUntil(policy, 100_000, 100_000 + 10_000)).toBe(106_000);
    expect(quietUntil(policy, 100_000, 100_000 + 2000)).toBe(100_000);
  });

  it('does not exist without the setting', () => {
    expect(quietUntil(fastDevicePolicy(), 100_000, 200_000)).toBeUndefined();
  });

  it('heartbeats in slices until it ends', async () => {
    const beats: number[] = [];
    const until = Date.now() + 120;
    await waitUntil(
      until,
      50,
      (ms) => new Promise((r) => setTimeout(r, ms)),
      () => beats.push(Date.now()),
    );
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    expect(beats.length).toBeGreaterThanOrEqual(3);
  });
});

describe('shared versions', () => {
  const list = [{ versionCode: '2.4.0.0', type: 'release' }];
  const key = versionsKey('r', 'cn-shanghai', 'sag-1000', 'Device');

  it(`are shared once ${AGREEING_ANSWERS} answers agree`, () => {
    const v = new SharedVersions();
    for (let i = 0; i < AGREEING_ANSWERS; i++) {
      expect(v.lookup(key)).toBeUndefined();
      v.record(key, list);
    }
    expect(v.lookup(key)).toEqual(list);
    expect(v.lookup(versionsKey('r', 'cn-shanghai', 'sag-100wm', 'Device'))).toBeUndefined();
    expect(v.lookup(versionsKey('other', 'cn-shanghai', 'sag-1000', 'Device'))).toBeUndefined();
  });

  it('are read per device for good once two answers differ', () => {
    const v = new SharedVersions();
    v.record(key, list);
    v.record(key, [...list, { versionCode: '2.5.0.0', type: 'release' }]);
    for (let i = 0; i < 5; i++) v.record(key, list);
    expect(v.lookup(key)).toBeUndefined();
  });
});

describe('the policy apiBudget block', () => {
  const base = 'targetVersion: "2.4.0.0"\n';

  it('is absent by default', () => {
    expect(loadPolicy(base, 'yaml').apiBudget).toBeUndefined();
  });

  it('reads every lever', () => {
    const p = loadPolicy(
      `${base}apiBudget: { requestsPerSecond: 10, callsPerDevice: 6, firstPollAfter: 9m, bulkStatus: true, shareVersions: true }\n`,
      'yaml',
    );
    expect(p.apiBudget).toEqual({
      requestsPerSecond: 10,
      callsPerDevice: 6,
      firstPollAfter: 540_000,
      bulkStatus: true,
      shareVersions: true,
    });
  });

  it('refuses a budget that is not positive and an unknown lever, naming them', () => {
    let problems: string[] = [];
    try {
      loadPolicy(`${base}apiBudget: { requestsPerSecond: 0, bulkStatuss: true }\n`, 'yaml');
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems = err.problems;
    }
    expect(problems.join('\n')).toMatch(/apiBudget\.requestsPerSecond/);
    expect(problems.join('\n')).toMatch(/bulkStatuss/);
  });
});
