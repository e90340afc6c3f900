import { describe, expect, it } from 'vitest';
import { compareVersions, serialVersion } from '../../domain/versions';

describe('serialVersion', () => {
  const serial = { softwareVersion: '2.3.0.0', dpiVersion: '20240101_1_0-0.0.2' };

  it('reads the firmware for Device and the signature database for Dpi', () => {
    expect(serialVersion(serial, 'Device')).toBe('2.3.0.0');
    expect(serialVersion(serial, 'Dpi')).toBe('20240101_1_0-0.0.2');
  });

  it('is empty when the serial number reports no version of that type, or is unknown', () => {
    expect(serialVersion({ softwareVersion: '2.3.0.0' }, 'Dpi')).toBe('');
    expect(serialVersion(undefined, 'Device')).toBe('');
  });
});

describe('compareVersions', () => {
  it('orders firmware as dotted numbers and signature databases by date first', () => {
    expect(compareVersions('2.10.0.0', '2.9.1.0', 'Device')).toBe(1);
    expect(compareVersions('20201117_1_0-0.0.1', '20201118_1_0-0.0.0', 'Dpi')).toBe(-1);
    expect(compareVersions('2.4.0.0', '2.4.0.0', 'Device')).toBe(0);
  });
});
