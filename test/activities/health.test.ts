import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import {
  FAILED_DIAGNOSIS,
  UNFINISHED_DIAGNOSIS,
  type ReadHealthInput,
  type ReadHealthResult,
} from '../../activities/health';
import { compareHealth, DEFAULT_HEALTH_CHECKS } from '../../domain/health';
import { createSagClient } from '../../src/sag/client';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { instance, VERSIONS } from '../helpers/fixtures';

// The health reads against the simulator over HTTP with the real client: a baseline before the
// upgrade, a reading after, and the comparison that decides.
let sim: SimulatorHandle;
const fast = { downloadSeconds: 0.05, upgradeSeconds: 0.1, diagnosisSeconds: 0.2 };

beforeAll(async () => {
  sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: [
        instance('sag-rhlnk', { simulation: { ...fast, outcome: 'link-down' } }),
        instance('sag-rhdia', { simulation: { ...fast, outcome: 'diagnosis-fail' } }),
        instance('sag-rhslow', { simulation: { ...fast, diagnosisSeconds: 30 } }),
        instance('sag-rhlag', { simulation: { ...fast, diagnosisLagSeconds: 3 } }),
        instance('sag-rhend', { simulation: { ...fast, diagnosisEnd: 'upload_to_sls_fail' } }),
      ],
    },
  });
});
afterAll(() => sim?.stop());

const acts = () =>
  createActivities({
    client: createSagClient({
      credentials: {
        getCredentials: () =>
          Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
      },
      endpoint: sim.endpoint,
    }),
  });
const env = () => new MockActivityEnvironment();
const read = (i: ReadHealthInput): Promise<ReadHealthResult> => {
  const a = acts();
  return env().run((x: ReadHealthInput) => a.readHealth(x), i);
};
const ALL = { ...DEFAULT_HEALTH_CHECKS, diagnosis: true, features: ['CreateSmartAccessGatewayIsp'] };
const input = (id: string, checks = ALL) => ({
  regionId: 'cn-shanghai',
  smartAgId: id,
  serials: [`sn${id.slice(4)}a`],
  checks,
  diagnosisWaitMs: 5000,
});

async function upgrade(id: string): Promise<void> {
  const a = acts();
  await env().run((i: Parameters<typeof a.requestUpgrade>[0]) => a.requestUpgrade(i), {
    regionId: 'cn-shanghai',
    smartAgId: id,
    serialNumber: `sn${id.slice(4)}a`,
    versionCode: '2.4.0.0',
    versionType: 'Device' as const,
  });
  for (let i = 0; i < 100; i++) {
    const row = sim.devices().find((d) => d.SmartAGId === id)!;
    if (row.SoftwareVersion === '2.4.0.0' && row.HcState === 'online') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} never came back on the target`);
}

describe('readHealth', () => {
  it('reads links, link backup, controller, diagnosis and features, each call recorded', async () => {
    const { reading, calls } = await read(input('sag-rhlnk'));
    expect(reading.links).toEqual([{ id: 'ccn-01', status: 'Active' }]);
    expect(reading.ha?.linkBackup[0]).toMatchObject({ mainLinkState: 'up', backupLinkState: 'up' });
    expect(reading.controllers).toEqual([
      expect.objectContaining({ serialNumber: 'snrhlnka', state: 'Normal' }),
    ]);
    expect(reading.diagnosis).toEqual([{ serialNumber: 'snrhlnka', failing: [] }]);
    expect(reading.features).toEqual([
      { serialNumber: 'snrhlnka', openApiName: 'CreateSmartAccessGatewayIsp', features: [] },
    ]);
    expect(calls.map((c) => c.a)).toEqual(
      expect.arrayContaining([
        'DescribeSmartAccessGatewayAttribute',
        'DescribeSmartAccessGatewayHa',
        'DescribeSAGDeviceInfo',
        'DiagnoseSmartAccessGateway',
        'DiscribeSmartAccessGatewayDiagnosisReport',
        'ListSmartAGApiUnsupportedFeature',
      ]),
    );
  });

  it('reads only what the checks ask for', async () => {
    const only = { ...DEFAULT_HEALTH_CHECKS, ha: false, controller: false };
    const { reading, calls } = await read(input('sag-rhlnk', only));
    expect(Object.keys(reading).sort()).toEqual(['at', 'links']);
    expect(calls.map((c) => c.a)).toEqual(['DescribeSmartAccessGatewayAttribute']);
  });

  it('catches a link that an upgrade took down, comparing with the baseline', async () => {
    const before = (await read(input('sag-rhlnk'))).reading;
    await upgrade('sag-rhlnk');
    const after = (await read(input('sag-rhlnk'))).reading;
    const v = compareHealth(before, after, ALL);
    expect(v.regressions).toEqual([
      { check: 'links', subject: 'ccn-01', before: 'Active', after: 'Inactive' },
      { check: 'link-backup', subject: 'wan1', before: 'up', after: 'down' },
    ]);
  });

  it('catches a diagnosis item that an upgrade broke', async () => {
    const before = (await read(input('sag-rhdia'))).reading;
    await upgrade('sag-rhdia');
    const after = (await read(input('sag-rhdia'))).reading;
    expect(compareHealth(before, after, ALL).regressions).toEqual([
      { check: 'diagnosis', subject: 'snrhdiaa WanConnectivity', before: 'passed', after: 'failing' },
    ]);
  });

  it('reports a diagnosis that did not finish within the wait as failing', async () => {
    const checks = { ...DEFAULT_HEALTH_CHECKS, links: false, ha: false, controller: false, diagnosis: true };
    const { reading } = await read({
      ...input('sag-rhslow', checks),
      diagnosisWaitMs: 1500,
    });
    expect(reading.diagnosis).toEqual([{ serialNumber: 'snrhslowa', failing: [UNFINISHED_DIAGNOSIS] }]);
  });

  const diagnosisOnly = {
    ...DEFAULT_HEALTH_CHECKS,
    links: false,
    ha: false,
    controller: false,
    diagnosis: true,
  };

  it('waits out a report that still describes the previous diagnosis, and reads the new one', async () => {
    const first = await read({ ...input('sag-rhlag', diagnosisOnly), diagnosisPollMs: 100 });
    expect(first.reading.diagnosis).toEqual([{ serialNumber: 'snrhlaga', failing: [] }]);
    // The item breaks; for three seconds after the next Diagnose the report still shows the old run.
    sim.instance('sag-rhlag')!.devices[0]!.health.failingDiagnosis = ['WanConnectivity'];
    await new Promise((r) => setTimeout(r, 1500));
    const second = await read({
      ...input('sag-rhlag', diagnosisOnly),
      diagnosisPollMs: 100,
      diagnosisSkewMs: 1000,
    });
    expect(second.reading.diagnosis).toEqual([{ serialNumber: 'snrhlaga', failing: ['WanConnectivity'] }]);
    // The stale report was asked for and passed over: more than one report read after the Diagnose call.
    expect(
      second.calls.filter((c) => c.a === 'DiscribeSmartAccessGatewayDiagnosisReport').length,
    ).toBeGreaterThan(3);
  });

  it('ends at a diagnosis that failed (a failed State of the SDK model), without waiting out the wait', async () => {
    const started = Date.now();
    const { reading } = await read({ ...input('sag-rhend', diagnosisOnly), diagnosisPollMs: 100 });
    expect(reading.diagnosis).toEqual([{ serialNumber: 'snrhenda', failing: [FAILED_DIAGNOSIS] }]);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
