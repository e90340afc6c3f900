import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import {
  FAST_POLICY,
  cli,
  ensureBuilt,
  temporalArgs,
  tempDir,
  until,
  write,
  type RunResult,
} from './helpers';

// A mixed fleet: devices the rollout upgrades, skips (by preflight and by the error table) and
// fails, so that plan's prediction can be checked device by device against what the rollout did.
const UPGRADED = ['sag-pa1', 'sag-pa2', 'sag-pa3', 'sag-pa4'];
const fleet = {
  versions: VERSIONS,
  instances: [
    ...UPGRADED.map((id) => instance(id)),
    instance('sag-pnoccn', { AssociatedCcnId: undefined }),
    instance('sag-parrears', { Status: 'Arrearage' }),
    instance('sag-pontarget', {}, { SoftwareVersion: '2.4.0.0' }),
    instance('sag-pnoversion', {
      versions: { Device: [{ VersionCode: '2.3.0.0', Type: 'release' }], Dpi: [] },
    }),
  ],
};
// sag-pgone is in the inventory but not in the account: InvalidId.SMARTAG.
const INVENTORY = [
  'sag-pa1',
  'sag-pnoccn',
  'sag-pa2',
  'sag-parrears',
  'sag-pontarget',
  'sag-pa3',
  'sag-pnoversion',
  'sag-pgone',
  'sag-pa4',
];
const EXPECTED: Record<string, { outcome: string; code?: string }> = {
  'sag-pa1': { outcome: 'upgrade' },
  'sag-pa2': { outcome: 'upgrade' },
  'sag-pa3': { outcome: 'upgrade' },
  'sag-pa4': { outcome: 'upgrade' },
  'sag-pnoccn': { outcome: 'skip', code: 'NotBoundCCN' },
  'sag-parrears': { outcome: 'skip', code: 'SmartAccessGatewayInArrears' },
  'sag-pontarget': { outcome: 'skip', code: 'AlreadyOnTarget' },
  'sag-pnoversion': { outcome: 'fail', code: 'VersionNotExist' },
  'sag-pgone': { outcome: 'fail', code: 'InvalidId.SMARTAG' },
};
/** The rollout's outcome for each plan outcome. */
const ROLLOUT_OUTCOME: Record<string, string> = { upgrade: 'upgraded', skip: 'skipped', fail: 'failed' };

let stack: Stack;
let dir: string;
let policyFile: string;
let inventoryFile: string;
let simEnv: NodeJS.ProcessEnv;

interface PlanJson {
  counts: Record<string, number>;
  byCode: { outcome: string; code: string; count: number }[];
  devices: { smartAgId: string; outcome: string; code?: string; wave: string }[];
  waves: { name: string; size: number; upgrade: number; estimatedMs: number }[];
  skipped: { smartAgId: string }[];
  failing: { smartAgId: string }[];
  window: { state: string; timeZone?: string; localStart?: string; start?: string };
  estimate: { totalMs: number; wavesMs: number[]; expectedUpgradeMs: number };
}

function json<T>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

const run = (args: string[], env: NodeJS.ProcessEnv = simEnv) =>
  cli([...temporalArgs(stack.taskQueue), ...args], { env });
const plan = (args: string[], env?: NodeJS.ProcessEnv) =>
  run(['plan', '--inventory', inventoryFile, '--api-rate', '200', ...args], env);

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({ fleet });
  dir = tempDir('plan');
  // A budget the two failing devices cannot breach: the rollout runs to its end.
  policyFile = write(
    dir,
    'policy.yaml',
    FAST_POLICY.replace('maxFailurePercent: 50', 'maxFailurePercent: 90').replace(
      'minFailures: 3',
      'minFailures: 9',
    ),
  );
  inventoryFile = write(
    dir,
    'inventory.csv',
    `SmartAGId,RegionId\n${INVENTORY.map((id) => `${id},cn-shanghai`).join('\n')}\n`,
  );
  simEnv = {
    SAG_ENDPOINT: stack.sim.endpoint,
    SAG_SIMULATOR_ACCESS_KEY_ID: stack.sim.accessKeyId,
    SAG_SIMULATOR_ACCESS_KEY_SECRET: stack.sim.accessKeySecret,
  };
});
afterAll(async () => {
  await stack?.stop();
});

describe('plan predicts the rollout', () => {
  it('prints counts by outcome and code first, the devices only with --devices', async () => {
    const r = await plan(['--policy', policyFile]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^plan: 9 devices to 2\.4\.0\.0 \(Device\) in 3 waves$/);
    expect(lines[1]).toMatch(/^\s*4 would be upgraded$/);
    expect(lines[2]).toMatch(
      /^\s*3 would be skipped: AlreadyOnTarget 1, NotBoundCCN 1, SmartAccessGatewayInArrears 1$/,
    );
    expect(lines[3]).toMatch(/^\s*2 would fail: InvalidId\.SMARTAG 1, VersionNotExist 1$/);
    expect(r.stdout).not.toContain('sag-pnoccn');
    expect(r.stdout).toContain('--devices');
    const withDevices = await plan(['--policy', policyFile, '--devices']);
    expect(withDevices.stdout).toMatch(/sag-pnoccn\s+cn-shanghai\s+\S+\s+skip\s+NotBoundCCN/);
    expect(withDevices.stdout).toMatch(/sag-pa1\s+cn-shanghai\s+canary\s+upgrade/);
  });

  it('stops at the first credential error with a non-zero exit, not one row per device', async () => {
    stack.sim.resetStats();
    const r = await plan(['--policy', policyFile, '--api-rate', '2'], {
      ...simEnv,
      SAG_SIMULATOR_ACCESS_KEY_SECRET: 'not-the-secret',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('plan stopped at SignatureDoesNotMatch on sag-pa1');
    expect(r.stderr).not.toContain('not-the-secret');
    expect(r.stdout).toBe('');
    // One device at a time (--api-rate 2): the first refused call was the last one sent.
    const log = stack.sim.requests();
    expect(log.length).toBe(1);
    expect(log[0]?.code).toBe('SignatureDoesNotMatch');
  });

  it('refuses a target no device is offered, listing the versions that are', async () => {
    stack.sim.resetStats();
    const r = await plan(['--policy', policyFile, '--target-version', '2.9.9.9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no device is offered Device version 2.9.9.9');
    expect(r.stderr).toContain('2.3.0.0, 2.4.0.0, 2.5.0.0 (beta)');
  });

  it('refuses a version not written as four dotted numbers before any call', async () => {
    stack.sim.resetStats();
    const r = await plan(['--policy', policyFile, '--target-version', '2.4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'targetVersion: "2.4" is not a Device version (four dotted numbers, like 2.4.0.0)',
    );
    expect(stack.sim.requests()).toEqual([]);
  });

  it('shows the waves, the next window in its own time zone and UTC, and an estimated duration', async () => {
    const windowed = write(
      dir,
      'windowed.yaml',
      `${FAST_POLICY}
windows:
  - cron: "0 2 * * *"
    duration: 3h
    timeZone: Asia/Shanghai
    name: branch-night
`
        .replace('expectedUpgradeTime: 1s', 'expectedUpgradeTime: 10m')
        .replace('concurrency: 10', 'concurrency: 2'),
    );
    const r = await plan(['--policy', windowed, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const p = json<PlanJson>(r);
    expect(p.waves.map((w) => [w.name, w.size, w.upgrade])).toEqual([
      ['canary', 1, 1],
      ['wave-1', 4, 1],
      ['wave-2', 4, 2],
    ]);
    expect(p.window.timeZone).toBe('Asia/Shanghai');
    expect(p.window.localStart).toMatch(/ 02:00$/);
    expect(p.window.start).toMatch(/T18:00:00\.000Z$/);
    // 1 + ceil(2/2) + 1 batches of 10 minutes (no bake).
    expect(p.estimate.totalMs).toBe(30 * 60_000);
    const text = await plan(['--policy', windowed]);
    expect(text.stdout).toMatch(
      /window: (next opens|open now) \(branch-night\): \S+ 02:00 to \S+ 05:00 Asia\/Shanghai \(\S+ 18:00 UTC to \S+ 21:00 UTC\)/,
    );
    expect(text.stdout).toContain('estimated duration: 30m 00s');
    expect(text.stdout).toMatch(/canary\s+1\s+1\s+0\s+0\s+0\s+10m 00s/);
  });

  // Last: the rollout upgrades the fleet.
  it('agrees with the rollout device by device on a mixed fleet', async () => {
    const r = await plan(['--policy', policyFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const p = json<PlanJson>(r);
    const predicted = Object.fromEntries(
      p.devices.map((d) => [d.smartAgId, { outcome: d.outcome, code: d.code }]),
    );
    expect(predicted).toEqual(EXPECTED);
    expect(p.counts).toEqual({ upgrade: 4, skip: 3, defer: 0, fail: 2, unknown: 0 });
    // The older lists agree: NotBoundCCN and InArrears are skipped, as the rollout skips them.
    expect(p.skipped.map((d) => d.smartAgId).sort()).toEqual(['sag-parrears', 'sag-pnoccn', 'sag-pontarget']);
    expect(p.failing.map((d) => d.smartAgId).sort()).toEqual(['sag-pgone', 'sag-pnoversion']);
    expect(stack.sim.upgrades()).toEqual([]);

    const id = uniqueName('plan-agree');
    const started = await run([
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policyFile,
      '--rollout-id',
      id,
      '--yes',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const status = await until(
      async () => {
        const s = json<{
          state: string;
          devices: { smartAgId: string; outcome: string; errorCode?: string }[];
        }>(await run(['status', id, '--json', '--all-devices']));
        return ['completed', 'aborted', 'failed'].includes(s.state) ? s : undefined;
      },
      90_000,
      `${id} to close`,
    );
    expect(status.state).toBe('completed');
    const outcomes = Object.fromEntries(status.devices.map((d) => [d.smartAgId, d.outcome]));
    for (const d of p.devices) expect(outcomes[d.smartAgId], d.smartAgId).toBe(ROLLOUT_OUTCOME[d.outcome]);
    for (const d of status.devices.filter((x) => x.outcome !== 'upgraded'))
      expect(d.errorCode, d.smartAgId).toBe(EXPECTED[d.smartAgId]?.code);
    // The simulator's ledger: an upgrade accepted for exactly the devices plan said it would upgrade.
    const accepted = [...new Set(stack.sim.upgrades().map((u) => u.SmartAGId))].sort();
    expect(accepted).toEqual(
      p.devices
        .filter((d) => d.outcome === 'upgrade')
        .map((d) => d.smartAgId)
        .sort(),
    );
    for (const d of stack.sim.devices())
      if (UPGRADED.includes(d.SmartAGId)) expect(d.SoftwareVersion, d.SmartAGId).toBe('2.4.0.0');
      else if (d.SmartAGId !== 'sag-pontarget') expect(d.SoftwareVersion, d.SmartAGId).toBe('2.3.0.0');
  });
});
