import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkStatusReader, PAGE_IDS } from '../../activities/shared-reads';
import { createSagClient } from '../../src/sag/client';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { instance, VERSIONS } from '../helpers/fixtures';

// The shared status pages against the simulator over HTTP with the real client: when a batch of
// reads goes out, and what each read gets back. Pages are counted by the simulator.
const SHANGHAI = Array.from({ length: PAGE_IDS + 5 }, (_, i) => `sag-br${String(i).padStart(3, '0')}`);
const BEIJING = ['sag-brbj1', 'sag-brbj2'];
let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: [
        ...SHANGHAI.map((id) => instance(id)),
        ...BEIJING.map((id) => instance(id, { RegionId: 'cn-beijing' })),
      ],
    },
  });
});
afterAll(() => sim?.stop());

const reader = () =>
  new BulkStatusReader(
    createSagClient({
      credentials: {
        getCredentials: () =>
          Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
      },
      endpoint: sim.endpoint,
    }),
  );

/** The list pages the simulator answered since `from`: their region and how many ids each named. */
function pages(from: number): { region: string; ids: number; code: string }[] {
  return sim
    .requests()
    .slice(from)
    .filter((r) => r.action === 'DescribeSmartAccessGateways')
    .map((r) => ({
      region: String(r.params.RegionId),
      ids: Object.keys(r.params).filter((k) => k.startsWith('SmartAGIds.')).length,
      code: r.code ?? 'OK',
    }));
}

describe('BulkStatusReader', () => {
  it('shares one page among reads of a region within the delay, one per region, and names absent ids', async () => {
    const from = sim.requests().length;
    const r = reader();
    const reads = await Promise.all([
      r.read('cn-shanghai', SHANGHAI[0]!, 200),
      r.read('cn-shanghai', SHANGHAI[1]!, 200),
      r.read('cn-shanghai', SHANGHAI[1]!, 200),
      r.read('cn-shanghai', 'sag-nowhere', 200),
      r.read('cn-beijing', BEIJING[0]!, 200),
    ]);
    expect(reads.map((x) => x.item?.smartAgId)).toEqual([
      SHANGHAI[0],
      SHANGHAI[1],
      SHANGHAI[1],
      undefined,
      BEIJING[0],
    ]);
    expect(reads[0].item).toMatchObject({ softwareVersion: '2.3.0.0' });
    expect(reads[0].requestId).toBe(reads[3].requestId);
    expect(reads[0].requestId).not.toBe(reads[4].requestId);
    expect(pages(from).sort((a, b) => a.region.localeCompare(b.region))).toEqual([
      { region: 'cn-beijing', ids: 1, code: 'OK' },
      { region: 'cn-shanghai', ids: 3, code: 'OK' },
    ]);
  });

  it('sends a full page at once, without waiting out the delay, and starts the next batch afresh', async () => {
    const from = sim.requests().length;
    const r = reader();
    const t0 = Date.now();
    const full = Promise.all(SHANGHAI.slice(0, PAGE_IDS).map((id) => r.read('cn-shanghai', id, 30_000)));
    const answered = await full;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(answered.every((a, i) => a.item?.smartAgId === SHANGHAI[i])).toBe(true);
    // The rest wait for their own delay, in a page of their own.
    const rest = await Promise.all(SHANGHAI.slice(PAGE_IDS).map((id) => r.read('cn-shanghai', id, 100)));
    expect(rest.map((a) => a.item?.smartAgId)).toEqual(SHANGHAI.slice(PAGE_IDS));
    expect(pages(from)).toEqual([
      { region: 'cn-shanghai', ids: PAGE_IDS, code: 'OK' },
      { region: 'cn-shanghai', ids: SHANGHAI.length - PAGE_IDS, code: 'OK' },
    ]);
  });

  it('sends a batch when its most impatient read is due', async () => {
    const from = sim.requests().length;
    const r = reader();
    const t0 = Date.now();
    const patient = r.read('cn-shanghai', SHANGHAI[2]!, 30_000);
    const impatient = r.read('cn-shanghai', SHANGHAI[3]!, 100);
    await Promise.all([patient, impatient]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(pages(from)).toEqual([{ region: 'cn-shanghai', ids: 2, code: 'OK' }]);
  });

  it('fails every read of a page with the page error', async () => {
    sim.setFaults({
      rules: [{ action: 'DescribeSmartAccessGateways', kind: 'error', code: 'Forbidden.RAM', times: 1 }],
    });
    try {
      const r = reader();
      const reads = [SHANGHAI[4]!, SHANGHAI[5]!].map((id) => r.read('cn-shanghai', id, 100));
      for (const p of reads) await expect(p).rejects.toMatchObject({ code: 'Forbidden.RAM' });
    } finally {
      sim.setFaults({ rules: [] });
    }
  });
});
