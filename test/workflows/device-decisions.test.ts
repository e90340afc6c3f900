import { describe, expect, it } from 'vitest';
import { compensationPlan } from '../../domain/compensation';
import type { DeviceSnapshot, SerialSnapshot } from '../../domain/device-types';
import { outcomeOfFailure, SEND_IN_PROGRESS, UNCONFIRMED } from '../../domain/device-run';
import { earlierSends } from '../../domain/open-sends';
import type { CodePolicy, DeviceUpgradeResult, OpenSend } from '../../domain/types';

const send = (o: Partial<OpenSend> = {}): OpenSend => ({
  serialNumber: 'sn1',
  version: '2.4.0.0',
  versionType: 'Device',
  at: 1000,
  accepted: false,
  rolloutId: 'r1',
  ...o,
});

describe('earlierSends', () => {
  it('sends when no earlier call to the serial number is open', () => {
    expect(earlierSends([send({ serialNumber: 'sn2' })], 'sn1', '2.4.0.0', 'r1')).toEqual({ kind: 'none' });
  });

  it("never sends again what this rollout's call took and the device reverted, unless an operator retries", () => {
    const open = [send({ reverted: true })];
    expect(earlierSends(open, 'sn1', '2.4.0.0', 'r1')).toEqual({ kind: 'reverted' });
    expect(earlierSends(open, 'sn1', '2.4.0.0', 'r1', true)).toEqual({ kind: 'none' });
    expect(earlierSends(open, 'sn1', '2.4.0.0', 'another')).toEqual({ kind: 'none' });
  });

  it('withholds the send while a call of another version may still be in progress', () => {
    const open = [send(), send({ version: '2.3.5.0', at: 500 })];
    expect(earlierSends(open, 'sn1', '2.4.0.0', 'r1')).toEqual({
      kind: 'other-version',
      versions: ['2.4.0.0', '2.3.5.0'],
    });
  });

  it('watches earlier calls of the target from the latest, noting whether Alibaba accepted one', () => {
    expect(earlierSends([send(), send({ at: 3000 })], 'sn1', '2.4.0.0', 'r1')).toEqual({
      kind: 'same-version',
      since: 3000,
      accepted: false,
    });
    expect(earlierSends([send({ accepted: true })], 'sn1', '2.4.0.0', 'r1')).toMatchObject({
      accepted: true,
    });
  });
});

describe('outcomeOfFailure', () => {
  const policy = (action: CodePolicy['action'], cls: CodePolicy['class'] = 'device') => ({
    action,
    class: cls,
  });
  const yes = () => true;

  it('leaves a device whose upgrade may still be in progress unconfirmed', () => {
    expect(outcomeOfFailure(UNCONFIRMED, policy('fail'), false, yes)).toBe('unconfirmed');
    expect(outcomeOfFailure(SEND_IN_PROGRESS, policy('fail'), true, yes)).toBe('unconfirmed');
  });

  it('interrupts the device when the credentials fail, asking whether it may only then', () => {
    let asked = 0;
    const interrupts = () => (asked++, false);
    expect(outcomeOfFailure('Forbidden.RAM', policy('halt', 'rollout'), true, yes)).toBe('interrupted');
    expect(outcomeOfFailure('Forbidden.RAM', policy('halt', 'rollout'), false, interrupts)).toBe('failed');
    expect(outcomeOfFailure('VersionNotExist', policy('fail'), true, interrupts)).toBe('failed');
    expect(asked).toBe(1);
  });

  it('defers or skips only a device nothing was sent to', () => {
    expect(outcomeOfFailure('SmartAccessGatewayNotOnline', policy('defer'), true, yes)).toBe('deferred');
    expect(outcomeOfFailure('SmartAccessGatewayNotOnline', policy('defer'), false, yes)).toBe('failed');
    expect(outcomeOfFailure('DpiDisabled', policy('skip'), true, yes)).toBe('skipped');
    expect(outcomeOfFailure('DpiDisabled', policy('skip'), false, yes)).toBe('failed');
  });
});

describe('compensationPlan', () => {
  const serial = (serialNumber: string, softwareVersion: string, hcState = 'online'): SerialSnapshot => ({
    serialNumber,
    softwareVersion,
    hcState,
    policies: [],
  });
  const snapshot = (...serials: SerialSnapshot[]) => ({ serials }) as unknown as DeviceSnapshot;
  const previous = (serials: DeviceUpgradeResult['serials']) => ({ serials }) as DeviceUpgradeResult;
  const policy = {
    targetVersion: '2.4.0.0',
    versionType: 'Device' as const,
    repairHaPairs: true,
    requestPreviousVersion: true,
  };

  it('takes the lagging half of a split HA pair forward to the version the other half reached', () => {
    const prev = previous([
      { serialNumber: 'a', from: '2.3.0.0', to: '2.4.0.0' },
      { serialNumber: 'b', from: '2.3.0.0' },
    ]);
    const lagging = serial('b', '2.3.0.0');
    expect(compensationPlan(snapshot(serial('a', '2.4.0.0'), lagging), prev, policy)).toEqual({
      kind: 'repair-ha',
      target: '2.4.0.0',
      lagging: [lagging],
    });
    expect(
      compensationPlan(snapshot(serial('a', '2.4.0.0'), serial('b', '2.3.0.0', 'offline')), prev, policy),
    ).toEqual({ kind: 'ha-offline' });
  });

  it('asks for the previous version only of serial numbers that are no longer on it', () => {
    const prev = previous([
      { serialNumber: 'a', from: '2.3.0.0', to: '2.4.0.0' },
      { serialNumber: 'b', from: '2.3.0.0', to: '2.3.0.0' },
      { serialNumber: 'gone', from: '2.3.0.0', to: '2.4.0.0' },
    ]);
    const plan = compensationPlan(snapshot(serial('a', '2.4.0.0'), serial('b', '2.3.0.0')), prev, {
      ...policy,
      repairHaPairs: false,
    });
    expect(plan).toEqual({ kind: 'previous-versions', serials: [prev.serials[0]] });
  });

  it('leaves the versions alone when the policy asks for neither', () => {
    const prev = previous([{ serialNumber: 'a', from: '2.3.0.0', to: '2.4.0.0' }]);
    expect(
      compensationPlan(snapshot(serial('a', '2.4.0.0')), prev, {
        ...policy,
        repairHaPairs: false,
        requestPreviousVersion: false,
      }),
    ).toEqual({ kind: 'nothing' });
  });
});
