/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { call, eventually, popClient, testFleet } from './helpers';

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function hcState(s: SimulatorHandle, id: string): Promise<string> {
  const attr = await call(popClient(s), 'DescribeSmartAccessGatewayAttribute', {
    RegionId: 'cn-shanghai',
    SmartAGId: id,
  });
  return attr.Devices.Device[0].HcState as string;
}

describe('simulator time scale', () => {
  it('runs a 60 s download and a 60 s flash in 2 s each at x30', async () => {
    sim = await startSimulator({
      fleet: testFleet({ downloadSeconds: 60, upgradeSeconds: 60 }),
      timeScale: 30,
    });
    const s = sim;
    const sent = Date.now();
    await call(popClient(s), 'UpdateSmartAccessGatewayVersion', {
      RegionId: 'cn-shanghai',
      SmartAGId: 'sag-ok1',
      VersionCode: '2.4.0.0',
    });
    expect(await hcState(s, 'sag-ok1')).toBe('online');
    await eventually(
      async () => ((await hcState(s, 'sag-ok1')) === 'offline' ? true : undefined),
      10_000,
      50,
    );
    const offlineAfter = Date.now() - sent;
    expect(offlineAfter).toBeGreaterThanOrEqual(1900);
    expect(offlineAfter).toBeLessThan(3500);
    await eventually(async () => ((await hcState(s, 'sag-ok1')) === 'online' ? true : undefined), 10_000, 50);
    const backAfter = Date.now() - sent;
    expect(backAfter).toBeGreaterThanOrEqual(3900);
    expect(backAfter).toBeLessThan(6000);
    expect(s.instance('sag-ok1')!.devices[0]!.softwareVersion).toBe('2.4.0.0');
  });

  it('refuses a time scale that is not a positive number', async () => {
    await expect(startSimulator({ timeScale: 0 })).rejects.toThrow(/timeScale: expected a positive number/);
    await expect(startSimulator({ timeScale: Number.NaN })).rejects.toThrow(/timeScale/);
  });
});
