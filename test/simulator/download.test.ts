/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type FleetFile, type SimulatorHandle } from '../../src/simulator';
import { call, eventually, popClient, testFleet, type Json } from './helpers';

const DOWNLOAD_SECONDS = 2;

let sim: SimulatorHandle;
beforeAll(async () => {
  const fleet: FleetFile = testFleet();
  // The fleet file gives one device a long download of its own.
  const ok1 = (fleet.instances as Json[]).find((i) => i.SmartAGId === 'sag-ok1')!;
  ok1.Devices[0].simulation = { downloadSeconds: DOWNLOAD_SECONDS, upgradeSeconds: 0.3 };
  sim = await startSimulator({ fleet });
});
afterAll(() => sim.stop());

interface Observation {
  /** Client clock when the answers had both arrived. */
  at: number;
  hc: string;
  version: string;
  startup: string;
}

async function observe(id: string): Promise<Observation> {
  const client = popClient(sim);
  const params = { RegionId: 'cn-shanghai', SmartAGId: id };
  const attr = await call(client, 'DescribeSmartAccessGatewayAttribute', params);
  const info = await call(client, 'DescribeSAGDeviceInfo', { ...params, SmartAGSn: `sn-${id}` });
  const d = attr.Devices.Device[0];
  return { at: Date.now(), hc: d.HcState, version: info.Version, startup: info.StartupTime };
}

/**
 * Upgrades `id` and watches it: every observation answered before the download can have ended
 * shows the device online on its old version with its old StartupTime; then it goes offline
 * (flashing) and comes back on the target with a new StartupTime.
 */
async function expectLongDownloadThenFlash(id: string): Promise<void> {
  const before = await observe(id);
  const sent = Date.now();
  await call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
    RegionId: 'cn-shanghai',
    SmartAGId: id,
    VersionCode: '2.4.0.0',
  });
  // The server accepted the call after `sent`, so an answer that arrived before
  // sent + download was read while the device was still downloading.
  const downloadEnds = sent + DOWNLOAD_SECONDS * 1000;
  const during: Observation[] = [];
  const offline = await eventually(
    async () => {
      const o = await observe(id);
      if (o.at < downloadEnds) during.push(o);
      return o.hc === 'offline' ? o : undefined;
    },
    15_000,
    100,
  );
  expect(during.length).toBeGreaterThanOrEqual(3);
  for (const o of during) expect([o.hc, o.version, o.startup]).toEqual(['online', '2.3.0.0', before.startup]);
  expect(during.at(-1)!.at - sent).toBeGreaterThan(DOWNLOAD_SECONDS * 1000 * 0.5);
  expect(offline.version).toBe('2.3.0.0');
  const back = await eventually(async () => {
    const o = await observe(id);
    return o.hc === 'online' ? o : undefined;
  }, 15_000);
  expect(back.version).toBe('2.4.0.0');
  expect(back.startup).not.toBe(before.startup);
}

describe('download phase at a realistic length', () => {
  it('keeps a device whose fleet file sets a long download online on its old version with its StartupTime, then flashes it', async () => {
    await expectLongDownloadThenFlash('sag-ok1');
  });

  it('does the same for a download set at run time through POST /_admin/devices/{SerialNumber}', async () => {
    const res = await fetch(`${sim.endpoint}/_admin/devices/sn-sag-ok2`, {
      method: 'POST',
      body: JSON.stringify({ downloadSeconds: DOWNLOAD_SECONDS, upgradeSeconds: 0.3 }),
    });
    expect(res.status).toBe(200);
    await expectLongDownloadThenFlash('sag-ok2');
  });
});
