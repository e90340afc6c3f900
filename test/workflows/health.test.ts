import { describe, expect, it } from 'vitest';
import {
  compareHealth,
  DEFAULT_HEALTH_CHECKS,
  describeFindings,
  parseDeviceTime,
  type HealthReading,
} from '../../domain/health';

const AT = parseDeviceTime('2026-11-28 12:00:00')!;
const ALL = { ...DEFAULT_HEALTH_CHECKS, diagnosis: true, features: ['CreateSmartAccessGatewayIsp'] };

function reading(over: Partial<HealthReading> = {}): HealthReading {
  return {
    at: AT,
    links: [{ id: 'ccn-01', status: 'Active' }],
    ha: {
      backupState: 'ON',
      linkBackup: [{ mainLinkId: 'wan1', mainLinkState: 'up', backupLinkId: 'wan2', backupLinkState: 'up' }],
    },
    controllers: [{ serialNumber: 'sn1', state: 'Normal', lastConnected: '2026-11-28 11:59:50' }],
    diagnosis: [{ serialNumber: 'sn1', failing: [] }],
    features: [{ serialNumber: 'sn1', openApiName: 'CreateSmartAccessGatewayIsp', features: [] }],
    ...over,
  };
}

describe('compareHealth', () => {
  it('finds nothing when the branch is as healthy after as before', () => {
    expect(compareHealth(reading(), reading(), ALL)).toEqual({ regressions: [], notes: [] });
  });

  it('fails a link that went down, naming it', () => {
    const v = compareHealth(reading(), reading({ links: [{ id: 'ccn-01', status: 'Inactive' }] }), ALL);
    expect(v.regressions).toEqual([
      { check: 'links', subject: 'ccn-01', before: 'Active', after: 'Inactive' },
    ]);
    expect(describeFindings(v.regressions)).toBe('links ccn-01: Active → Inactive');
  });

  it('notes, and does not fail, a link that was down before the upgrade', () => {
    const down = { links: [{ id: 'ccn-01', status: 'Inactive' }] };
    const v = compareHealth(reading(down), reading(down), ALL);
    expect(v.regressions).toEqual([]);
    expect(v.notes).toEqual([{ check: 'links', subject: 'ccn-01', before: 'Inactive', after: 'Inactive' }]);
  });

  it('compares no links when none were read after the upgrade', () => {
    expect(compareHealth(reading(), reading({ links: undefined }), ALL).regressions).toEqual([]);
  });

  it('fails a link that disappeared, and one that is down without a baseline', () => {
    expect(compareHealth(reading(), reading({ links: [] }), ALL).regressions).toEqual([
      { check: 'links', subject: 'ccn-01', before: 'Active', after: 'absent' },
    ]);
    expect(
      compareHealth(undefined, reading({ links: [{ id: 'ccn-01', status: 'Inactive' }] }), ALL).regressions,
    ).toEqual([{ check: 'links', subject: 'ccn-01', before: '', after: 'Inactive' }]);
  });

  it('fails a main or backup WAN link that went down and HA backup that was switched off', () => {
    const after = reading({
      ha: {
        backupState: 'OFF',
        linkBackup: [
          { mainLinkId: 'wan1', mainLinkState: 'down', backupLinkId: 'wan2', backupLinkState: 'up' },
        ],
      },
    });
    expect(compareHealth(reading(), after, ALL).regressions).toEqual([
      { check: 'ha', subject: 'DeviceLevelBackupState', before: 'ON', after: 'OFF' },
      { check: 'link-backup', subject: 'wan1', before: 'up', after: 'down' },
    ]);
  });

  it('fails a lost controller connection, and one not made since the restart', () => {
    const lost = reading({ controllers: [{ serialNumber: 'sn1', state: 'Abnormal' }] });
    expect(compareHealth(reading(), lost, ALL).regressions).toEqual([
      { check: 'controller', subject: 'sn1', before: 'Normal', after: 'Abnormal' },
    ]);
    const stale = reading({
      controllers: [
        {
          serialNumber: 'sn1',
          state: 'Normal',
          lastConnected: '2026-11-28 11:30:00',
          startupTime: '2026-11-28 11:40:00',
        },
      ],
    });
    expect(compareHealth(reading(), stale, ALL).regressions).toEqual([
      {
        check: 'controller',
        subject: 'sn1',
        before: 'Normal',
        after: 'not connected since its restart at 2026-11-28 11:40:00',
      },
    ]);
    const fresh = reading({
      controllers: [
        {
          serialNumber: 'sn1',
          state: 'Normal',
          lastConnected: '2026-11-28 11:45:00',
          startupTime: '2026-11-28 11:40:00',
        },
      ],
    });
    expect(compareHealth(reading(), fresh, ALL).regressions).toEqual([]);
  });

  it('fails a diagnosis item that passed before, and notes one that failed already', () => {
    const before = reading({ diagnosis: [{ serialNumber: 'sn1', failing: ['DnsResolution'] }] });
    const after = reading({
      diagnosis: [{ serialNumber: 'sn1', failing: ['DnsResolution', 'WanConnectivity'] }],
    });
    const v = compareHealth(before, after, ALL);
    expect(v.regressions).toEqual([
      { check: 'diagnosis', subject: 'sn1 WanConnectivity', before: 'passed', after: 'failing' },
    ]);
    expect(v.notes.map((n) => n.subject)).toEqual(['sn1 DnsResolution']);
  });

  it('fails a feature newly unsupported on the new release', () => {
    const after = reading({
      features: [{ serialNumber: 'sn1', openApiName: 'CreateSmartAccessGatewayIsp', features: ['ISP'] }],
    });
    expect(compareHealth(reading(), after, ALL).regressions).toEqual([
      {
        check: 'features',
        subject: 'sn1 CreateSmartAccessGatewayIsp ISP',
        before: 'supported',
        after: 'unsupported',
      },
    ]);
  });

  it('leaves out the checks the policy switched off', () => {
    const broken = reading({
      links: [{ id: 'ccn-01', status: 'Inactive' }],
      controllers: [{ serialNumber: 'sn1', state: 'Abnormal' }],
      diagnosis: [{ serialNumber: 'sn1', failing: ['WanConnectivity'] }],
    });
    const off = { ...ALL, links: false, controller: false, diagnosis: false };
    expect(compareHealth(reading(), broken, off).regressions).toEqual([]);
  });
});

describe('parseDeviceTime', () => {
  it('reads the device clock (UTC+8) as an instant, and refuses anything else', () => {
    expect(parseDeviceTime('2026-11-28 20:00:00')).toBe(Date.parse('2026-11-28T12:00:00Z'));
    expect(parseDeviceTime('2024-02-29 08:00:01')).toBe(Date.parse('2024-02-29T00:00:01Z'));
    expect(parseDeviceTime('2026-11-28T20:00:00')).toBeUndefined();
    expect(parseDeviceTime(undefined)).toBeUndefined();
  });
});
