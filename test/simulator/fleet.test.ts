import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetValidationError, generateFleet, loadFleetFile, parseFleet } from '../../src/simulator';

const minimal = {
  versions: { Device: [{ VersionCode: '2.4.0.0', Type: 'release' }], Dpi: [] },
  instances: [
    {
      SmartAGId: 'sag-0001',
      RegionId: 'cn-shanghai',
      Status: 'Active',
      AssociatedCcnId: 'ccn-01',
      EndTime: 1893456000000,
      Devices: [
        { SerialNumber: 'sage0001a', SoftwareVersion: '2.3.0.0', HaState: 'Active', HcState: 'online' },
      ],
      simulation: { upgradeSeconds: 2, outcome: 'ok' },
    },
  ],
};

function issuesOf(json: unknown): string[] {
  try {
    parseFleet(json);
  } catch (e) {
    expect(e).toBeInstanceOf(FleetValidationError);
    return (e as FleetValidationError).issues;
  }
  throw new Error('expected a validation error');
}

describe('fleet files', () => {
  it('loads the documented minimal shape from a file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sag-fleet-'));
    const file = path.join(dir, 'fleet.json');
    writeFileSync(file, JSON.stringify(minimal));
    const fleet = await loadFleetFile(file);
    expect(fleet.instances[0]).toMatchObject({
      SmartAGId: 'sag-0001',
      HardwareVersion: 'sag-1000',
      DpiStatus: 'On',
    });
    expect(fleet.instances[0]!.Devices[0]!.SoftwareVersion).toBe('2.3.0.0');
  });

  it('names the offending field of an invalid file', () => {
    const bad = structuredClone(minimal) as { instances: Record<string, unknown>[] };
    (bad.instances[0]!.Devices as Record<string, unknown>[])[0]!.HcState = 'sleeping';
    (bad.instances[0]!.simulation as Record<string, unknown>).outcome = 'explode';
    bad.instances[0]!.Statuss = 'Active';
    const issues = issuesOf(bad);
    expect(issues.some((i) => i.startsWith('instances[0].Devices[0].HcState:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('instances[0].simulation.outcome:'))).toBe(true);
    expect(issues.some((i) => i.includes('Statuss'))).toBe(true);
  });

  it('rejects duplicate ids, bad cron expressions and out-of-range durations', () => {
    const bad = structuredClone(minimal) as { instances: { Devices: Record<string, unknown>[] }[] };
    bad.instances.push(structuredClone(bad.instances[0]!));
    bad.instances[0]!.Devices[0]!.AutoUpgradePolicies = {
      Device: { UpgradeType: 'scheduled', CronExpression: 'whenever', Duration: '200' },
    };
    const issues = issuesOf(bad);
    expect(issues).toContain('instances[1].SmartAGId: duplicate id sag-0001');
    expect(issues.some((i) => i.startsWith('instances[1].Devices[0].SerialNumber: duplicate'))).toBe(true);
    expect(
      issues.some((i) => i.startsWith('instances[0].Devices[0].AutoUpgradePolicies.Device.CronExpression:')),
    ).toBe(true);
    expect(
      issues.some((i) => i.startsWith('instances[0].Devices[0].AutoUpgradePolicies.Device.Duration:')),
    ).toBe(true);
  });

  it('reports a file that is not JSON', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sag-fleet-'));
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ nope');
    await expect(loadFleetFile(file)).rejects.toThrow(/not JSON/);
  });

  it('generates the same realistic mix from the same seed', () => {
    const a = generateFleet({ devices: 1000, seed: 11 });
    const b = generateFleet({ devices: 1000, seed: 11 });
    expect(a.instances.map((i) => i.SmartAGId)).toEqual(b.instances.map((i) => i.SmartAGId));
    expect(parseFleet(a).instances).toHaveLength(1000);
    const count = (p: (i: (typeof a.instances)[number]) => boolean) => a.instances.filter(p).length;
    const now = Date.now();
    expect(
      count((i) => i.Devices.length === 1 && i.Status === 'Active' && !!i.AssociatedCcnId && i.EndTime > now),
    ).toBeGreaterThan(750);
    expect(count((i) => i.Devices.length === 2)).toBeGreaterThan(30);
    expect(count((i) => i.Devices.some((d) => d.HcState === 'offline'))).toBeGreaterThan(5);
    expect(count((i) => !i.AssociatedCcnId)).toBeGreaterThan(5);
    expect(count((i) => i.EndTime < now || i.Status === 'Arrearage')).toBeGreaterThan(5);
    expect(count((i) => ['Ordered', 'Delivered', 'Received'].includes(i.Status))).toBeGreaterThan(2);
    expect(count((i) => i.Devices[0]!.SoftwareVersion === '2.4.0.0')).toBeGreaterThan(10);
    expect(count((i) => i.HardwareVersion === 'sag-software')).toBeGreaterThan(2);
    expect(generateFleet({ devices: 50, seed: 12 }).instances.map((i) => i.SmartAGId)).not.toEqual(
      a.instances.slice(0, 50).map((i) => i.SmartAGId),
    );
  });
});
