import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import {
  BIN,
  FAST_POLICY,
  cli,
  ensureBuilt,
  temporalArgs,
  tempDir,
  until,
  write,
  type RunResult,
} from './helpers';

let stack: Stack;
let dir: string;
let policyFile: string;
let inventoryFile: string;
let simEnv: NodeJS.ProcessEnv;

const ids = ['sag-c01', 'sag-c02', 'sag-c03', 'sag-c04', 'sag-c05', 'sag-crev', 'sag-cnoccn', 'sag-c06'];
const fleet = {
  versions: VERSIONS,
  instances: [
    instance('sag-c01'),
    instance('sag-c02'),
    instance('sag-c03'),
    instance('sag-c04'),
    instance('sag-c05'),
    instance('sag-crev', { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'revert' } }),
    instance('sag-cnoccn', { AssociatedCcnId: undefined }),
    instance('sag-c06'),
  ],
};

function json<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  cli([...temporalArgs(stack.taskQueue), ...args], { env });

async function statusOf(
  id: string,
): Promise<Record<string, unknown> & { state: string; devices: Record<string, unknown>[] }> {
  return json(await run(['status', id, '--json']));
}

async function waitState(id: string, states: string[], timeoutMs = 60_000) {
  return until(
    async () => {
      const s = await statusOf(id);
      return states.includes(s.state) ? s : undefined;
    },
    timeoutMs,
    `${id} to reach ${states.join('/')}`,
  );
}

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({ fleet });
  dir = tempDir('cli');
  policyFile = write(dir, 'policy.yaml', FAST_POLICY);
  inventoryFile = write(
    dir,
    'inventory.csv',
    `SmartAGId,RegionId\n${ids.map((id) => `${id},cn-shanghai`).join('\n')}\n`,
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

describe('sag-rollout CLI', () => {
  it('explains every command with --help and exits 0', async () => {
    const commands = [
      'dev',
      'worker',
      'simulator',
      'plan',
      'start',
      'status',
      'pause',
      'resume',
      'abort',
      'approve',
      'exclude',
      'retry-failed',
      'list',
      'report',
      'iam-policy',
      'setup',
    ];
    const results = await Promise.all(commands.map((c) => cli([c, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout).toContain(`Usage: sag-rollout ${commands[i]}`);
    });
    const top = await cli(['--help']);
    expect(top.stdout).toMatch(
      /Exit codes: 0 done, 1 internal error, 2 bad input, 3 refused, 4 not found, 5/,
    );
  });

  it('refuses bad input with one clear error and exit code 2, starting nothing', async () => {
    const missing = await run([
      'start',
      '--inventory',
      `${dir}/nope.csv`,
      '--target-version',
      '2.4.0.0',
      '--yes',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.csv: no such file');
    const badPolicy = write(dir, 'bad.yaml', 'targetVersion: "2.4.0.0"\nconcurrency: many\n');
    const r = await run(['plan', '--inventory', inventoryFile, '--policy', badPolicy], simEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml line 2: concurrency/);
    const flag = await run([
      'start',
      '--inventory',
      inventoryFile,
      '--target-version',
      '2.4.0.0',
      '--canary',
      'lots',
      '--yes',
    ]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--canary');
    const badCsv = write(dir, 'bad.csv', 'SmartAGId,RegionId\nSAG-BAD,cn-shanghai\n');
    const inv = await run(['start', '--inventory', badCsv, '--target-version', '2.4.0.0', '--yes']);
    expect(inv.code).toBe(2);
    expect(inv.stderr).toMatch(/bad\.csv line 2/);
    const unknown = await cli(['strat']);
    expect(unknown.code).toBe(2);
    const signature = await run(['worker', '--signature', 'v4'], simEnv);
    expect(signature.code).toBe(2);
    expect(signature.stderr).toContain('--signature: "v4" is not a signature version; use v2');
    const signatureEnv = await run(['plan', '--inventory', inventoryFile, '--policy', policyFile], {
      ...simEnv,
      SAG_SIGNATURE: 'hmac',
    });
    expect(signatureEnv.code).toBe(2);
    expect(signatureEnv.stderr).toContain('SAG_SIGNATURE: "hmac"');
  });

  it('signs its own smartag calls with V3 when SAG_SIGNATURE=v3', async () => {
    stack.sim.resetStats();
    const r = await run(
      ['plan', '--inventory', inventoryFile, '--policy', policyFile, '--json', '--api-rate', '200'],
      { ...simEnv, SAG_SIGNATURE: 'v3' },
    );
    expect(r.code, r.stderr).toBe(0);
    const log = stack.sim.requests();
    expect(log.length).toBeGreaterThan(0);
    expect(new Set(log.map((e) => e.signature))).toEqual(new Set(['ACS3-HMAC-SHA256']));
  });

  it('plans waves and names every device that would be skipped or fail, without changing anything', async () => {
    const before = stack.sim.devices().reduce((n, d) => n + d.upgradeCalls, 0);
    const r = await run(
      ['plan', '--inventory', inventoryFile, '--policy', policyFile, '--json', '--api-rate', '200'],
      simEnv,
    );
    expect(r.code, r.stderr).toBe(0);
    const plan = json<{
      waves: { name: string; size: number }[];
      skipped: unknown[];
      failing: { smartAgId: string; code: string }[];
      upgrade: number;
    }>(r);
    expect(plan.waves.map((w) => [w.name, w.size])).toEqual([
      ['canary', 1],
      ['wave-1', 4],
      ['wave-2', 3],
    ]);
    // The rollout skips a device without a CCN (the error table's NotBoundCCN row): so does the plan.
    expect(plan.failing).toEqual([]);
    expect(plan.skipped).toEqual([expect.objectContaining({ smartAgId: 'sag-cnoccn', code: 'NotBoundCCN' })]);
    expect(plan.upgrade).toBe(7);
    expect(stack.sim.devices().reduce((n, d) => n + d.upgradeCalls, 0)).toBe(before);
    const noCreds = await run(['plan', '--inventory', inventoryFile, '--policy', policyFile]);
    expect(noCreds.code).toBe(2);
    expect(noCreds.stderr).toContain('no Alibaba Cloud credentials configured');
  });

  it('refuses to start without --yes when there is no terminal', async () => {
    const r = await run(['start', '--inventory', inventoryFile, '--policy', policyFile]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('pass --yes');
  });

  it('starts a rollout once per ID, reports its status as JSON, follows it in plain lines and writes the report', async () => {
    const id = uniqueName('full');
    const r = await run([
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policyFile,
      '--rollout-id',
      id,
      '--ticket',
      'CHG-1',
      '--yes',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ rolloutId: id, started: true });
    const again = await run([
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policyFile,
      '--rollout-id',
      id,
      '--yes',
      '--json',
    ]);
    expect(json(again)).toMatchObject({ rolloutId: id, started: false });

    const watch = await run(['status', id, '--watch', '--interval', '200ms']);
    expect(watch.stdout).not.toContain('\u001b[');
    expect(watch.stdout).toMatch(/rollout closed completed/);
    expect(watch.stdout).toMatch(/device sag-crev failed in verify/);
    // Completed with a failed device: exit 6, not a clean 0 (docs/cli.md, Exit codes).
    expect(watch.code).toBe(6);

    const s = await statusOf(id);
    expect(s).toMatchObject({ rolloutId: id, state: 'completed' });
    expect(s.counts).toMatchObject({ upgraded: 6, failed: 1, skipped: 1 });
    const devices = s.devices as {
      smartAgId: string;
      outcome: string;
      serials: { serialNumber: string; from: string; to?: string }[];
      phase?: string;
      errorCode?: string;
    }[];
    expect(devices).toHaveLength(ids.length);
    expect(devices.find((d) => d.smartAgId === 'sag-c01')).toMatchObject({
      outcome: 'upgraded',
      serials: [{ serialNumber: 'snc01a', from: '2.3.0.0', to: '2.4.0.0' }],
    });
    expect(devices.find((d) => d.smartAgId === 'sag-crev')).toMatchObject({
      outcome: 'failed',
      phase: 'verify',
      errorCode: expect.stringMatching(/^Upgrade(Reverted|NotApplied)$/) as unknown,
    });
    expect(devices.find((d) => d.smartAgId === 'sag-cnoccn')).toMatchObject({
      outcome: 'skipped',
      errorCode: 'NotBoundCCN',
    });

    const text = await run(['status', id]);
    expect(text.stdout).toContain('state     completed');

    const list = await run(['list', '--state', 'completed', '--json']);
    expect(json<{ rolloutId: string }[]>(list).map((x) => x.rolloutId)).toContain(id);

    const out = tempDir('report');
    const rep = await run(['report', id, '--out', out, '--json']);
    expect(rep.code, rep.stderr).toBe(0);
    const files = json<{ files: string[] }>(rep).files;
    expect(files.some((f) => f.endsWith('.html'))).toBe(true);
    for (const f of files) expect(existsSync(f)).toBe(true);
    const csv = await run(['report', id, '--format', 'csv']);
    expect(csv.stdout).toContain('sag-crev');
    expect(
      readFileSync(
        files.find((f) => f.endsWith('.html'))!,
        'utf8',
      ),
    ).toContain(id);
  });

  it('drives a rollout through pause, resume, approve, exclude and retry-failed, and aborts another', async () => {
    const id = uniqueName('ctl');
    const gated = write(dir, 'gated.yaml', `${FAST_POLICY}\napproval: each-wave\n`);
    // The reverting device goes into wave-1, so the gate before wave-2 waits with it failed.
    const order = [
      'sag-c01',
      'sag-crev',
      'sag-c02',
      'sag-c03',
      'sag-c04',
      'sag-c05',
      'sag-cnoccn',
      'sag-c06',
    ];
    const reordered = write(
      dir,
      'reordered.csv',
      `SmartAGId,RegionId\n${order.map((x) => `${x},cn-shanghai`).join('\n')}\n`,
    );
    expect(
      (await run(['start', '--inventory', reordered, '--policy', gated, '--rollout-id', id, '--yes'])).code,
    ).toBe(0);
    await waitState(id, ['waiting-approval']);

    const pause = await run(['pause', id, '--yes', '--reason', 'lunch', '--json']);
    expect(json(pause)).toMatchObject({ via: 'update', result: { accepted: true } });
    expect((await statusOf(id)).state).toBe('paused');
    const resume = await run(['resume', id, '--yes', '--json']);
    expect(json(resume)).toMatchObject({ result: { accepted: true, message: 'resumed' } });

    const exclude = await run(['exclude', id, 'sag-c06', '--yes', '--reason', 'branch closed', '--json']);
    expect(json(exclude)).toMatchObject({ result: { accepted: true } });
    const early = await run(['retry-failed', id, '--yes']);
    expect(early.code).toBe(3);

    expect((await run(['approve', id, '--yes', '--operator', 'alice'])).code).toBe(0);
    const gate = await waitState(id, ['waiting-approval']).then(() =>
      until(async () => {
        const s = await statusOf(id);
        return s.state === 'waiting-approval' && (s.gate as { wave: number }).wave === 2 ? s : undefined;
      }),
    );
    expect(gate.devices.find((d) => d.smartAgId === 'sag-crev')).toMatchObject({ outcome: 'failed' });
    const retry = await run(['retry-failed', id, '--yes', '--json']);
    expect(json(retry)).toMatchObject({ result: { accepted: true } });
    expect((await run(['approve', id, '--yes'])).code).toBe(0);
    const done = await waitState(id, ['completed']);
    expect(done.devices.find((d) => d.smartAgId === 'sag-c06')).toMatchObject({ outcome: 'excluded' });
    const closed = await run(['pause', id, '--yes']);
    expect(closed.code).toBe(3);

    const other = uniqueName('abort');
    expect(
      (await run(['start', '--inventory', inventoryFile, '--policy', gated, '--rollout-id', other, '--yes']))
        .code,
    ).toBe(0);
    await waitState(other, ['waiting-approval']);
    const abort = await run(['abort', other, '--yes', '--reason', 'change board said no', '--json']);
    expect(json(abort)).toMatchObject({ via: 'update', result: { accepted: true } });
    const aborted = await waitState(other, ['aborted']);
    expect(aborted.state).toBe('aborted');
    expect((await run(['status', other])).code).toBe(5);
    expect((await run(['status', 'no-such-rollout'])).code).toBe(4);
  }, 150_000);

  it('sends pause and abort as signals when no worker runs, and says so when status needs one', async () => {
    const queue = uniqueName('idle');
    const id = uniqueName('nowkr');
    const args = (xs: string[]) => cli([...temporalArgs(queue), ...xs]);
    expect(
      (
        await args([
          'start',
          '--inventory',
          inventoryFile,
          '--policy',
          policyFile,
          '--rollout-id',
          id,
          '--yes',
        ])
      ).code,
    ).toBe(0);
    const pause = await args(['pause', id, '--yes', '--json']);
    expect(pause.code).toBe(0);
    expect(json(pause)).toMatchObject({ via: 'signal', result: null });
    const status = await args(['status', id]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`no worker is running on task queue ${queue}`);
    const resume = await args(['resume', id, '--yes']);
    expect(resume.code).toBe(1);
    expect(resume.stderr).toContain('needs one to answer');
    expect((await args(['abort', id, '--yes', '--no-wait'])).code).toBe(0);
  });

  it('draws live progress bars per wave in a real terminal', async () => {
    const id = uniqueName('tty');
    const slow = write(dir, 'slow.yaml', FAST_POLICY.replace('bake: 0s', 'bake: 3s'));
    expect(
      (await run(['start', '--inventory', inventoryFile, '--policy', slow, '--rollout-id', id, '--yes']))
        .code,
    ).toBe(0);
    const session = uniqueName('sagcli');
    const command = [
      process.execPath,
      BIN,
      ...temporalArgs(stack.taskQueue),
      'status',
      id,
      '--watch',
      '--interval',
      '300ms',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '30', command]);
    try {
      const screen = await until(
        async () => {
          const text = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
          return /canary\s+\S*[█░▒]/.test(text) && text.includes('wave-1') ? text : undefined;
        },
        20_000,
        'the live view',
      );
      expect(screen).toContain(`rollout ${id}`);
      expect(screen).toMatch(/failure budget/);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });

  it('prints the least-privilege RAM policy for an inventory', async () => {
    const r = await cli(['iam-policy', '--inventory', inventoryFile, '--account-id', '1234567890123456']);
    expect(r.code).toBe(0);
    const doc = json<{ Statement: { Resource: string[] }[] }>(r);
    expect(doc.Statement[0]!.Resource).toContain('acs:smartag:cn-shanghai:1234567890123456:smartag/sag-c01');
    expect((await cli(['iam-policy', '--inventory', inventoryFile, '--account-id', 'abc'])).code).toBe(2);
  });
});
