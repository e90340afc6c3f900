import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectReport } from '../../src/audit/collect';
import { instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { sendControl } from '../../src/operator/control';
import { getRolloutStatus } from '../../src/operator/status';
import { cli, ensureBuilt, temporalArgs, tempDir, until, write, type RunResult } from './helpers';

// Honest end states: exit codes that tell a clean success from "completed with failures" and
// "nothing upgraded", a halt that stops a watch and gives its reason in every output form, an
// abort that shows `aborting` while a device is in flight and closes its waves, controls and the
// report that name the real close state.
let stack: Stack;
let dir: string;

const ok = (id: string) => instance(id);
const reverts = (id: string) =>
  instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'revert' } });
const slow = (id: string) =>
  instance(id, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 8, outcome: 'ok' } });
const unbound = (id: string) => instance(id, { AssociatedCcnId: undefined });

const MIXED = ['sag-em01', 'sag-em02', 'sag-em03', 'sag-em04'];
const NOOP = ['sag-en01', 'sag-en02'];
const HALT = ['sag-eh01', 'sag-eh02', 'sag-eh03', 'sag-eh04', 'sag-eh05', 'sag-eh06'];
const ABORT = ['sag-ea01', 'sag-ea02', 'sag-ea03', 'sag-ea04'];
/** The canary upgrades; every other device reverts, each time it is asked. */
const HALT_WATCH = ['sag-ew01', 'sag-ew02', 'sag-ew03', 'sag-ew04'];
/** The second one's upgrade call is answered 503 before the simulator processes it. */
const UNSURE = ['sag-eu01', 'sag-eu02'];

const POLICY = (extra: string) => `
targetVersion: "2.4.0.0"
canary: 1
waves: 50%,100%
concurrency: 1
bake: 0s
healthRecheck: false
verify:
  timeout: 20s
  pollInterval: 100ms
  consecutivePolls: 2
upgradeSettle: 1s
expectedUpgradeTime: 1s
offlineRetryDelay: 300ms
${extra}
`;

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({
    fleet: {
      versions: VERSIONS,
      instances: [
        ...MIXED.map((id, i) => (i === 2 ? reverts(id) : ok(id))),
        ...NOOP.map(unbound),
        ...HALT.map((id, i) => (i >= 1 ? reverts(id) : ok(id))),
        ...ABORT.map((id, i) => (i === 0 ? ok(id) : slow(id))),
        ...UNSURE.map(ok),
        ...HALT_WATCH.map((id, i) => (i >= 1 ? reverts(id) : ok(id))),
      ],
    },
  });
  dir = tempDir('end-states');
});
afterAll(async () => {
  await stack?.stop();
});

const run = (args: string[], timeoutMs = 60_000) =>
  cli([...temporalArgs(stack.taskQueue), ...args], {
    env: {
      SAG_ENDPOINT: stack.sim.endpoint,
      SAG_SIMULATOR_ACCESS_KEY_ID: stack.sim.accessKeyId,
      SAG_SIMULATOR_ACCESS_KEY_SECRET: stack.sim.accessKeySecret,
    },
    timeoutMs,
  });

function startArgs(ids: string[], policy: string, rolloutId: string): string[] {
  const inv = write(
    dir,
    `${rolloutId}.csv`,
    `SmartAGId,RegionId\n${ids.map((id) => `${id},cn-shanghai`).join('\n')}\n`,
  );
  const pol = write(dir, `${rolloutId}.yaml`, POLICY(policy));
  return ['start', '--inventory', inv, '--policy', pol, '--rollout-id', rolloutId, '--yes'];
}

const GENEROUS = `failureBudget:
  maxFailurePercent: 90
  minFailures: 5
  maxConsecutiveFailures: 0`;

function lines(r: RunResult): Record<string, unknown>[] {
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}\n(exit ${r.code}) ${r.stderr}`);
      }
    });
}

describe('end states and exit codes', () => {
  it('exits 6 when a watched rollout completes with a failed device, in JSON Lines only', async () => {
    const id = uniqueName('mixed');
    const r = await run([...startArgs(MIXED, GENEROUS, id), '--watch', '--json', '--interval', '0.2']);
    expect(r.code, r.stderr).toBe(6);
    const docs = lines(r);
    expect(docs[0]).toMatchObject({ rolloutId: id, started: true });
    const last = docs[docs.length - 1]!;
    expect(last).toMatchObject({ state: 'completed', closed: true });
    expect(last.counts).toMatchObject({ upgraded: 3, failed: 1 });
    // The simulator agrees: one device asked to upgrade is still on 2.3.0.0.
    const stayed = stack.sim
      .devices()
      .filter((d) => MIXED.includes(d.SmartAGId) && d.SoftwareVersion === '2.3.0.0');
    expect(stayed.map((d) => d.SmartAGId)).toEqual(['sag-em03']);
    const again = await run(['status', id]);
    expect(again.code).toBe(6);
  });

  it('exits 6 when the only device not upgraded is unconfirmed, not failed', async () => {
    stack.sim.setFaults({
      rules: [
        {
          action: 'UpdateSmartAccessGatewayVersion',
          smartAgId: UNSURE[1],
          kind: 'error',
          code: 'ServiceUnavailable',
        },
      ],
    });
    try {
      const id = uniqueName('unsure');
      const r = await run([...startArgs(UNSURE, GENEROUS, id), '--watch', '--interval', '200ms']);
      expect(r.code, r.stdout + r.stderr).toBe(6);
      const s = await run(['status', id, '--json']);
      expect(s.code).toBe(6);
      expect(JSON.parse(s.stdout)).toMatchObject({
        state: 'completed',
        counts: { upgraded: 1, unconfirmed: 1, failed: 0, compensated: 0 },
      });
      // The simulator agrees: the first device was upgraded, the second answered 503 and stayed.
      const [first, second] = UNSURE.map((u) => stack.sim.devices().find((d) => d.SmartAGId === u)!);
      expect(first).toMatchObject({ SoftwareVersion: '2.4.0.0', upgradeCalls: 1 });
      expect(second).toMatchObject({ SoftwareVersion: '2.3.0.0', upgradeCalls: 0 });
    } finally {
      stack.sim.setFaults({ rules: [] });
    }
  });

  it('exits 7 when a rollout completes without upgrading any device', async () => {
    const id = uniqueName('noop');
    const r = await run([...startArgs(NOOP, GENEROUS, id), '--watch', '--interval', '200ms']);
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(stack.sim.devices().filter((d) => NOOP.includes(d.SmartAGId) && d.upgradeCalls > 0)).toEqual([]);
    const s = await run(['status', id, '--json']);
    expect(s.code).toBe(7);
    expect(JSON.parse(s.stdout)).toMatchObject({ state: 'completed', counts: { upgraded: 0, skipped: 2 } });
  });

  it('stops a watch on a halt with --exit-on-halt (exit 5) and gives the reason in every form', async () => {
    const id = uniqueName('halt');
    const started = await run(
      startArgs(
        HALT,
        `failureBudget:
  maxFailurePercent: 10
  minFailures: 2
  maxConsecutiveFailures: 0`,
        id,
      ),
    );
    expect(started.code, started.stderr).toBe(0);
    const watched = await run(['status', id, '--watch', '--exit-on-halt', '--interval', '0.2']);
    expect(watched.code, watched.stdout + watched.stderr).toBe(5);
    expect(watched.stdout).toMatch(/halted: failure budget exceeded: 2\/\d failed/);
    const text = await run(['status', id]);
    expect(text.code).toBe(5);
    expect(text.stdout).toMatch(/^halted {4}failure budget exceeded: 2\/(\d) failed/m);
    const n = /failure budget exceeded: 2\/(\d)/.exec(text.stdout)![1];
    expect(text.stdout).toMatch(new RegExp(`^budget {4}2/${n} failed .* BREACHED`, 'm'));
    const js = await run(['status', id, '--json']);
    const doc = JSON.parse(js.stdout) as {
      haltReason: string;
      failureBudget: { failed: number; finished: number };
    };
    expect(doc.haltReason).toMatch(/failure budget exceeded/);
    expect(`${doc.failureBudget.failed}/${doc.failureBudget.finished}`).toBe(`2/${n}`);
    // A later watch of the halted rollout starts with its reason.
    const piped = await run(['status', id, '--watch', '--exit-on-halt']);
    expect(piped.code).toBe(5);
    expect(piped.stdout.split('\n')[0]).toMatch(/paused.*: halted: failure budget exceeded/);
    await run(['abort', id, '--yes', '--reason', 'test over']);
  });

  it('stops start --watch and retry-failed --watch on a halt with --exit-on-halt (exit 5)', async () => {
    const strict = `failureBudget:
  maxFailurePercent: 10
  minFailures: 2
  maxConsecutiveFailures: 0`;
    const id = uniqueName('haltw');
    const watched = await run([
      ...startArgs(HALT_WATCH, strict, id),
      '--watch',
      '--exit-on-halt',
      '--interval',
      '0.2',
    ]);
    expect(watched.code, watched.stdout + watched.stderr).toBe(5);
    expect(watched.stdout).toMatch(/halted: failure budget exceeded: 2\/\d failed/);
    // Halted, not closed: the watch stopped without waiting for a resume.
    const halted = await getRolloutStatus(stack.client, id);
    expect(halted.closed).toBe(false);
    expect(halted.haltReason).toMatch(/failure budget exceeded/);
    const aborted = await run(['abort', id, '--yes', '--no-compensate', '--reason', 'test']);
    expect(aborted.code, aborted.stderr).toBe(0);
    await until(
      async () => ((await getRolloutStatus(stack.client, id)).closed ? true : undefined),
      30_000,
      'the abort to close',
    );
    // Its follow-up retries the reverting devices: its canary reverts again and halts it.
    const retried = await run([
      'retry-failed',
      id,
      '--yes',
      '--watch',
      '--exit-on-halt',
      '--interval',
      '0.2',
    ]);
    expect(retried.code, retried.stdout + retried.stderr).toBe(5);
    const followUp = await getRolloutStatus(stack.client, `${id}-retry-1`);
    expect(followUp.closed).toBe(false);
    expect(followUp.haltReason).toBeDefined();
    await run(['abort', `${id}-retry-1`, '--yes', '--reason', 'test over']);
  });

  it('shows aborting while a device is in flight, then closes its waves as aborted and skipped', async () => {
    const id = uniqueName('abort');
    const started = await run(startArgs(ABORT, GENEROUS, id));
    expect(started.code, started.stderr).toBe(0);
    // The canary is done and a slow device of wave-1 is in flight: abort then (in process, so
    // the device is still in flight when the abort lands and when the status is read).
    await until(
      async () => {
        const s = await getRolloutStatus(stack.client, id);
        return s.counts['in-progress'] > 0 && s.counts.upgraded >= 1 ? s : undefined;
      },
      30_000,
      'a wave-1 device in flight',
    );
    await sendControl(stack.client, id, 'abort', { by: 'alice', reason: 'test', compensate: false });
    const during = await getRolloutStatus(stack.client, id);
    expect(during.state).toBe('aborting');
    expect(during.counts['in-progress']).toBe(1);
    const final = await until(
      async () => {
        const s = JSON.parse((await run(['status', id, '--json'])).stdout) as {
          state: string;
          waves: { name: string; state: string }[];
        };
        return s.state === 'aborted' ? s : undefined;
      },
      30_000,
      'the abort to close',
    );
    expect(final.waves.map((w) => [w.name, w.state])).toEqual([
      ['canary', 'done'],
      ['wave-1', 'aborted'],
      ['wave-2', 'skipped'],
    ]);
    // The device in flight finished; nothing started after the abort: the simulator saw calls
    // for the devices done or in flight when it came, none for wave-2.
    const called = stack.sim.devices().filter((d) => ABORT.includes(d.SmartAGId) && d.upgradeCalls > 0);
    expect(called).toHaveLength(during.counts.upgraded + 1);
    expect(called.map((d) => d.SmartAGId)).not.toContain(ABORT[3]);
    const pause = await run(['pause', id, '--yes']);
    expect(pause.code).toBe(3);
    expect(pause.stderr).toContain(`rollout ${id} has closed (aborted)`);
    const text = await run(['status', id]);
    expect(text.code).toBe(5);
    expect(text.stdout).toMatch(/wave-2\s+skipped/);
    const report = await collectReport(stack.client, id, { visibilityWaitMs: 0 });
    expect(report.workflowStatus).toBe('COMPLETED');
    expect(report.waves.map((w) => w.state)).toEqual(['done', 'aborted', 'skipped']);
  });

  it('lists rollouts newest first, closed and halted ones alike', async () => {
    const r = await run(['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const starts = (JSON.parse(r.stdout) as { startedAt: string }[]).map((x) => Date.parse(x.startedAt));
    expect(starts.length).toBeGreaterThanOrEqual(3);
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
  });

  it('refuses to serve the dashboard beyond loopback without a token, with exit 2 as documented', async () => {
    const r = await run(['dashboard', '--host', '0.0.0.0', '--port', '0']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/token/);
  });

  it('reads --interval as seconds or a duration, and refuses one under 100ms', async () => {
    const r = await run(['status', 'whatever', '--watch', '--interval', '2ms']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--interval: 2ms is shorter than 100ms');
    const help = await cli(['status', '--help']);
    expect(help.stdout).toMatch(/--interval <seconds\|duration>\s+with --watch: poll interval in seconds/);
  });
});
