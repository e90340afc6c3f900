import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import type { SetupResult } from '../../src/temporal/setup';
import { VERSIONS, instance } from '../helpers/fixtures';
import { testConnectionOptions, uniqueName } from '../helpers/temporal';
import { runCli, spawnCli } from './helpers';

const DAY = 86_400_000;
const NAMES = PROJECT_SEARCH_ATTRIBUTES.map((k) => k.name).sort();
let conn: Connection;
let sim: SimulatorHandle;

beforeAll(async () => {
  const { address, tls } = testConnectionOptions();
  conn = await Connection.connect({ address, tls });
  sim = await startSimulator({ fleet: { versions: VERSIONS, instances: [instance('sag-setup01')] } });
});
afterAll(async () => {
  await conn?.close();
  await sim?.stop();
});

const simEnv = () => ({
  SAG_ENDPOINT: sim.endpoint,
  SAG_SIMULATOR_ACCESS_KEY_ID: sim.accessKeyId,
  SAG_SIMULATOR_ACCESS_KEY_SECRET: sim.accessKeySecret,
});

async function setupJson(args: string[]): Promise<{ code: number; result: SetupResult; stderr: string }> {
  const r = await runCli(['--json', 'setup', ...args]);
  return { code: r.code, result: JSON.parse(r.stdout) as SetupResult, stderr: r.stderr };
}

describe('sag-rollout setup on a self-hosted cluster (through the TLS profile)', () => {
  it('creates the namespace with its retention and the search attributes, and changes nothing when run again', async () => {
    const ns = uniqueName('setup');
    const first = await setupJson(['--namespace', ns, '--retention', '2']);
    expect(first.code).toBe(0);
    expect(first.result.ready).toBe(true);
    expect(first.result.steps[0]).toMatchObject({ subject: `namespace ${ns}`, outcome: 'created' });
    expect(
      first.result.steps.filter((s) => s.outcome === 'created' && s.subject.startsWith('search attribute')),
    ).toHaveLength(NAMES.length);

    const again = await setupJson(['--namespace', ns]);
    expect(again.code).toBe(0);
    expect(again.result.steps.map((s) => s.outcome)).toEqual([ns, ...NAMES].map(() => 'present'));

    const described = await conn.workflowService.describeNamespace({ namespace: ns });
    expect(tsToMs(described.config?.workflowExecutionRetentionTtl)).toBe(2 * DAY);
    const listed = await conn.operatorService.listSearchAttributes({ namespace: ns });
    expect(Object.keys(listed.customAttributes ?? {}).sort()).toEqual(expect.arrayContaining(NAMES));

    const longer = await setupJson(['--namespace', ns, '--retention', '7d']);
    expect(longer.code).toBe(0);
    expect(longer.result.steps[0]).toMatchObject({ outcome: 'updated', detail: 'retention 2 → 7 days' });
    const text = await runCli(['setup', '--namespace', ns]);
    expect(text.stdout).toContain(`namespace ${ns}: present (retention 7 days)`);
    expect(text.stdout).toContain('is ready for sag-rollout');
  });

  it('with --cloud creates nothing and prints what must be created on Temporal Cloud', async () => {
    const ns = uniqueName('cloud');
    const r = await runCli(['setup', '--namespace', ns, '--cloud']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`namespace ${ns}: missing`);
    expect(r.stdout).toContain(`tcld namespace create --namespace ${ns}`);
    expect(r.stdout).toContain(`tcld namespace search-attributes add --namespace ${ns}`);
    for (const name of NAMES) expect(r.stdout).toContain(`--search-attribute "${name}=Keyword"`);
    expect(r.stdout).toContain('--no-register-search-attributes');
    await expect(conn.workflowService.describeNamespace({ namespace: ns })).rejects.toThrow(/not found/i);
  });
});

describe('the worker at start-up', () => {
  it('names a missing namespace and the setup command instead of failing silently', async () => {
    const ns = uniqueName('nowhere');
    const r = await runCli(['--namespace', ns, 'worker'], simEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`namespace ${ns} does not exist`);
    expect(r.stderr).toContain(`sag-rollout setup --namespace ${ns}`);
  });

  it('with --no-register-search-attributes names the missing attributes; without it, registers them and runs', async () => {
    // A namespace an operator made by hand, without the project's search attributes.
    const ns = uniqueName('bare');
    await conn.workflowService.registerNamespace({
      namespace: ns,
      workflowExecutionRetentionPeriod: msToTs(DAY),
    });
    // The frontend serves a new namespace after its namespace cache refreshes.
    for (let i = 0; i < 60; i++) {
      try {
        await conn.workflowService.countWorkflowExecutions({ namespace: ns, query: '' });
        break;
      } catch {
        await new Promise((res) => setTimeout(res, 500));
      }
    }
    const refused = await runCli(['--namespace', ns, 'worker', '--no-register-search-attributes'], simEnv());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`namespace ${ns} lacks the search attributes`);
    for (const name of NAMES) expect(refused.stderr).toContain(name);
    expect(refused.stderr).toContain('sag-rollout setup');

    const worker = spawnCli(['--namespace', ns, '--task-queue', uniqueName('tq'), 'worker'], simEnv());
    try {
      const registered = await worker.line(/registered the search attributes/);
      for (const name of NAMES) expect(registered).toContain(name);
      await worker.line(/worker: polling task queue/, 180_000);
    } finally {
      await worker.stop();
    }
    const listed = await conn.operatorService.listSearchAttributes({ namespace: ns });
    expect(Object.keys(listed.customAttributes ?? {})).toEqual(expect.arrayContaining(NAMES));
  }, 240_000);
});
