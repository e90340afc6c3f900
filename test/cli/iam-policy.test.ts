import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import type { RamPolicy } from '../../src/simulator';
import { RAM_POLICY_DOCUMENT_LIMIT } from '../../src/operator/iam-policy';
import { instance, VERSIONS } from '../helpers/stack';
import { FAST_POLICY, cli, ensureBuilt, tempDir, write } from './helpers';

// The simulator enforces a RAM policy on its AccessKey as RAM does (wildcards in resources), so the
// generated policy is checked by what it lets plan read, not only by its text.
let sim: SimulatorHandle;
let dir: string;
let env: NodeJS.ProcessEnv;
let account: string;
let policyFile: string;

type Doc = { Version: '1'; Statement: { Effect: 'Allow' | 'Deny'; Action: string[]; Resource: string[] }[] };

const ids = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `sag-${prefix}${String(i).padStart(16, '0')}`);
const csv = (rows: [string, string][]) =>
  `SmartAGId,RegionId\n${rows.map(([id, region]) => `${id},${region}`).join('\n')}\n`;

beforeAll(async () => {
  ensureBuilt();
  sim = await startSimulator({
    fleet: {
      versions: VERSIONS,
      instances: [
        instance('sag-i01'),
        instance('sag-i02'),
        instance('sag-i03', { RegionId: 'cn-hangzhou' }),
        instance('sag-i04', { RegionId: 'cn-hangzhou' }),
      ],
    },
  });
  account = sim.accountId;
  dir = tempDir('iam');
  env = {
    SAG_ENDPOINT: sim.endpoint,
    SAG_SIMULATOR_ACCESS_KEY_ID: sim.accessKeyId,
    SAG_SIMULATOR_ACCESS_KEY_SECRET: sim.accessKeySecret,
  };
  policyFile = write(dir, 'policy.yaml', FAST_POLICY);
});
afterAll(async () => {
  sim?.setPolicy(sim.accessKeyId, undefined);
  await sim?.stop();
});

async function iam(inventory: string, extra: string[] = []) {
  const r = await cli(['iam-policy', '--inventory', inventory, '--account-id', account, '--json', ...extra], {
    env,
  });
  expect(r.code, r.stderr).toBe(0);
  const docs = r.stdout
    .trim()
    .split('\n')
    .map((line) => ({ line, doc: JSON.parse(line) as Doc }));
  return { ...r, docs };
}

/** Plans the given devices under `policy` on the simulator's key. */
async function planUnder(policy: RamPolicy, devices: [string, string][]) {
  sim.setPolicy(sim.accessKeyId, policy);
  try {
    const inv = write(dir, `plan-${devices.length}.csv`, csv(devices));
    return await cli(['plan', '--inventory', inv, '--policy', policyFile, '--api-rate', '200'], { env });
  } finally {
    sim.setPolicy(sim.accessKeyId, undefined);
  }
}

describe('iam-policy at fleet scale', () => {
  it('keeps per-instance ARNs for 50 devices, in one policy under the limit', async () => {
    const fifty = ids(48, 'f').map((id): [string, string] => [id, 'cn-shanghai']);
    const rows: [string, string][] = [['sag-i01', 'cn-shanghai'], ['sag-i03', 'cn-hangzhou'], ...fifty];
    const r = await iam(write(dir, 'fifty.csv', csv(rows)));
    expect(r.docs).toHaveLength(1);
    const { line, doc } = r.docs[0]!;
    expect(line.length).toBeLessThanOrEqual(RAM_POLICY_DOCUMENT_LIMIT);
    expect(doc.Statement[0]!.Resource).toHaveLength(50);
    expect(doc.Statement[0]!.Resource).toContain(`acs:smartag:cn-hangzhou:${account}:smartag/sag-i03`);
    expect(r.stderr).toContain(
      `iam-policy: scope: per instance (50 instances); ${line.length} of RAM's 6144 characters`,
    );
    // What it grants: plan reads the two listed devices, and is refused a device left out.
    expect(
      (
        await planUnder(doc, [
          ['sag-i01', 'cn-shanghai'],
          ['sag-i03', 'cn-hangzhou'],
        ])
      ).code,
    ).toBe(0);
    const refused = await planUnder(doc, [['sag-i02', 'cn-shanghai']]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('plan stopped at Forbidden.RAM on sag-i02');
  });

  it('prints by default the very document it measured: 74 devices fit compact, not indented', async () => {
    const rows = ids(74, 'b').map((id): [string, string] => [id, 'cn-shanghai']);
    const inventory = write(dir, 'band.csv', csv(rows));
    const r = await cli(['iam-policy', '--inventory', inventory, '--account-id', account], { env });
    expect(r.code, r.stderr).toBe(0);
    const printed = r.stdout.trim();
    const doc = JSON.parse(printed) as Doc;
    // The band where only the compact form fits: indented, this document is over the limit.
    expect(JSON.stringify(doc, null, 2).length).toBeGreaterThan(RAM_POLICY_DOCUMENT_LIMIT);
    expect(doc.Statement[0]!.Resource).toHaveLength(74);
    expect(printed.length).toBeLessThanOrEqual(RAM_POLICY_DOCUMENT_LIMIT);
    expect(r.stderr).toContain(
      `iam-policy: scope: per instance (74 instances); ${printed.length} of RAM's 6144 characters`,
    );
    // The same document `--json` prints for `aliyun ram CreatePolicy`.
    expect((await iam(inventory)).docs.map(({ line }) => line)).toEqual([printed]);
  });

  it('widens the largest region for 3,000 devices, says so, and keeps the others per instance', async () => {
    const rows: [string, string][] = [
      ['sag-i01', 'cn-shanghai'],
      ['sag-i02', 'cn-shanghai'],
      ['sag-i03', 'cn-hangzhou'],
      ...ids(2997, 't').map((id): [string, string] => [id, 'cn-shanghai']),
    ];
    const r = await iam(write(dir, 'fleet.csv', csv(rows)));
    expect(r.docs).toHaveLength(1);
    const { line, doc } = r.docs[0]!;
    expect(line.length).toBeLessThanOrEqual(RAM_POLICY_DOCUMENT_LIMIT);
    expect(doc.Statement[0]!.Resource).toEqual([
      `acs:smartag:cn-shanghai:${account}:smartag/*`,
      `acs:smartag:cn-hangzhou:${account}:smartag/sag-i03`,
    ]);
    expect(r.stderr).toContain(
      `iam-policy: scope widened: every SAG instance of account ${account} in cn-shanghai (acs:smartag:cn-shanghai:${account}:smartag/*, for the inventory's 2999)`,
    );
    expect(r.stderr).toMatch(
      /why: per-instance ARNs for 3000 instances make a \d+-character policy, over RAM's limit of 6144/,
    );
    expect(r.stderr).toContain('kept per instance: 1 instance in the other regions');
    // The widened region covers its instances; the region kept per instance does not grow.
    expect(
      (
        await planUnder(doc, [
          ['sag-i02', 'cn-shanghai'],
          ['sag-i03', 'cn-hangzhou'],
        ])
      ).code,
    ).toBe(0);
    expect((await planUnder(doc, [['sag-i04', 'cn-hangzhou']])).stderr).toContain('Forbidden.RAM on sag-i04');
  });

  it("splits 3,000 devices into per-instance policies under the limit with --split, warning past RAM's attach quota", async () => {
    const rows = ids(3000, 's').map((id): [string, string] => [id, 'cn-shanghai']);
    const r = await iam(write(dir, 'split.csv', csv(rows)), ['--split']);
    expect(r.docs.length).toBeGreaterThan(10);
    for (const { line } of r.docs) expect(line.length).toBeLessThanOrEqual(RAM_POLICY_DOCUMENT_LIMIT);
    const granted = r.docs.flatMap(({ doc }) => doc.Statement[0]!.Resource);
    expect(granted).toEqual(rows.map(([id]) => `acs:smartag:cn-shanghai:${account}:smartag/${id}`));
    // The list actions on * once, in the first policy.
    expect(r.docs.filter(({ doc }) => doc.Statement.some((s) => s.Resource.includes('*')))).toHaveLength(1);
    expect(r.stderr).toContain(`scope: per instance, split into ${r.docs.length} policies`);
    expect(r.stderr).toContain(
      `warning: ${r.docs.length} policies exceed the 10 custom policies RAM attaches`,
    );
  });
});
