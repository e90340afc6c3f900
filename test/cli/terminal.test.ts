import { execFileSync } from 'node:child_process';
import { WorkflowNotFoundError } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/messages';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { BIN, cli, ensureBuilt, temporalArgs, tempDir, until, write } from './helpers';

// The CLI in a real terminal (tmux): what `start` shows before it asks and what the answer does,
// and the live view of a rollout that breaches its failure budget, frame by frame.
let stack: Stack;
let dir: string;
let tmuxConf: string;
// A tmux server of this file's own (its socket in the test's temp directory), stopped in afterAll
// (not when its last session closes, which would race the next test's new session); its panes
// stay after their command exits (remain-on-exit), so the last screen can be read.
let socket: string;

const ASKED = ['sag-ta01', 'sag-ta02', 'sag-ta03', 'sag-ta04', 'sag-ta05'];
const HELD = ['sag-th01', 'sag-th02'];
const BREACH = ['sag-tb01', 'sag-tb02', 'sag-tb03', 'sag-tb04', 'sag-tb05', 'sag-tb06'];

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({
    fleet: {
      versions: VERSIONS,
      instances: [
        ...ASKED.map((id) => instance(id)),
        // Slow enough that a first rollout still holds them while `start` asks.
        ...HELD.map((id) =>
          instance(id, { simulation: { downloadSeconds: 20, upgradeSeconds: 20, outcome: 'ok' } }),
        ),
        // The canary upgrades; every later device reverts, slowly enough to be seen finishing.
        ...BREACH.map((id, i) =>
          i === 0
            ? instance(id)
            : instance(id, { simulation: { downloadSeconds: 0.3, upgradeSeconds: 1, outcome: 'revert' } }),
        ),
      ],
    },
  });
  dir = tempDir('terminal');
  socket = path.join(dir, 'tmux.sock');
  tmuxConf = write(
    dir,
    'tmux.conf',
    [
      'set -s exit-empty off',
      'set -g remain-on-exit on',
      // The live view clears below its first line to redraw: keep the old frames out of the history.
      'set -g scroll-on-clear off',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  try {
    if (socket) execFileSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // No session was left, so no server runs.
  }
  await stack?.stop();
});

const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-S', socket, '-f', tmuxConf, ...args], { encoding: 'utf8' });

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI in a fresh terminal of 200 x 50 cells; `redirect` is shell text after the command.
 * The shell writes the exit status on the screen when the command ends.
 */
function openTerminal(args: string[], redirect = ''): string {
  const session = uniqueName('term');
  const command = [process.execPath, BIN, ...temporalArgs(stack.taskQueue), ...args].map(quote).join(' ');
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '200',
    '-y',
    '50',
    `${command}${redirect}; echo "[exit $?]"`,
  );
  return session;
}

/**
 * The screen as text, wrapped lines joined, with the lines scrolled off it: when a pane's command
 * exits, tmux scrolls the pane's top line into the history to make room for its notice.
 */
const screen = (session: string) => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session);

/** The command's exit status, once the shell has written it. */
function exitStatus(session: string): number | undefined {
  const m = /^\[exit (\d+)\]$/m.exec(screen(session));
  return m ? Number(m[1]) : undefined;
}

/** Polls `read` until it gives a value; on the deadline fails with what the screen shows then. */
async function poll<T>(
  session: string,
  read: () => T | undefined,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  try {
    return await until(() => Promise.resolve(read()), timeoutMs, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}; the screen:\n${screen(session)}`, { cause: err });
  }
}

const screenShows = (session: string, re: RegExp, what: string, timeoutMs?: number) =>
  poll(
    session,
    () => {
      const text = screen(session);
      return re.test(text) ? text : undefined;
    },
    what,
    timeoutMs,
  );

const exited = (session: string, timeoutMs?: number) =>
  poll(session, () => exitStatus(session), 'the command to exit', timeoutMs);

/** Whether Temporal holds workflow `rollout/<id>` (any other error fails the test). */
const rolloutExists = (id: string) =>
  stack.client.workflow
    .getHandle(`rollout/${id}`)
    .describe()
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );

function inventory(name: string, ids: string[]): string {
  return write(
    dir,
    `${name}.csv`,
    `SmartAGId,RegionId\n${ids.map((id) => `${id},cn-shanghai`).join('\n')}\n`,
  );
}

const pad = (n: number) => String(n).padStart(2, '0');
const hhmm = (minutes: number) => `${pad(Math.floor(minutes / 60) % 24)}:${pad(minutes % 60)}`;

describe('start in a terminal', () => {
  // A daily 2 h window in Asia/Kathmandu (UTC+05:45, no daylight saving) that opens 2 to 3
  // hours from now: the confirmation gives it in Kathmandu time and in UTC.
  const KTM = 5 * 60 + 45;
  const now = new Date();
  const ktmNow = (now.getUTCHours() * 60 + now.getUTCMinutes() + KTM) % 1440;
  const opensHour = (Math.floor(ktmNow / 60) + 3) % 24;
  const policyText = `
targetVersion: "2.4.0.0"
canary: 1
waves: 50%,100%
concurrency: 1
bake: 30m
approval: canary
expectedUpgradeTime: 10m
failureBudget:
  maxFailurePercent: 25
  minFailures: 2
  maxConsecutiveFailures: 0
windows:
  - name: kathmandu-night
    cron: '0 ${opensHour} * * *'
    duration: 2h
    timeZone: Asia/Kathmandu
`;
  const windowLine = new RegExp(
    `^window: next opens \\(kathmandu-night\\): \\d{4}-\\d\\d-\\d\\d ${hhmm(opensHour * 60)} to \\d{4}-\\d\\d-\\d\\d ${hhmm(opensHour * 60 + 120)} Asia/Kathmandu ` +
      `\\(\\d{4}-\\d\\d-\\d\\d ${hhmm((opensHour * 60 - KTM + 1440) % 1440)} UTC to \\d{4}-\\d\\d-\\d\\d ${hhmm((opensHour * 60 + 120 - KTM + 1440) % 1440)} UTC\\)$`,
    'm',
  );
  let policyFile: string;
  let inventoryFile: string;
  beforeAll(() => {
    policyFile = write(dir, 'asked.yaml', policyText);
    inventoryFile = inventory('asked', ASKED);
  });
  const startArgs = (id: string) => [
    'start',
    '--inventory',
    inventoryFile,
    '--policy',
    policyFile,
    '--rollout-id',
    id,
  ];

  /** The summary every asked start shows: waves and sizes, window, pace, budget, estimate, workers. */
  function expectSummary(text: string, id: string): void {
    expect(text).toMatch(
      new RegExp(`^start rollout ${id}: 5 devices to 2\\.4\\.0\\.0 \\(Device\\) in 3 waves, by `, 'm'),
    );
    // canary 1, then the other 4 by 50% and 100%: 2 and 2; one at a time, 10 minutes each.
    expect(text).toMatch(/^WAVE\s+DEVICES\s+EST\.$/m);
    expect(text).toMatch(/^canary\s+1\s+10m 00s$/m);
    expect(text).toMatch(/^wave-1\s+2\s+20m 00s$/m);
    expect(text).toMatch(/^wave-2\s+2\s+20m 00s$/m);
    expect(text).toMatch(windowLine);
    expect(text).toMatch(
      /^pace: 1 in flight; expected upgrade time 10m 00s; bake 30m 00s; approval canary$/m,
    );
    expect(text).toMatch(
      /^failure budget: pause when more than 25% of the finished devices failed, at least 2 devices; or a canary device failed$/m,
    );
    // 10m + 20m + 20m of upgrades and two bakes of 30m.
    expect(text).toMatch(
      /^estimated duration: 1h 50m \(3 waves, bakes 1h 00m; every device upgraded; not counting approvals, time waiting for a change window\)$/m,
    );
    expect(text).toMatch(new RegExp(`^workers: 1 polling task queue ${stack.taskQueue}$`, 'm'));
    expect(text).toMatch(/^held: none/m);
    expect(text).toMatch(/^running rollouts: none has a device of the inventory in its inventory$/m);
    expect(text).toMatch(/^ {2}sag-rollout plan with the same inventory and policy/m);
  }

  it('shows the summary before [y/N], and answering n starts nothing (exit 3)', async () => {
    const id = uniqueName('asked-no');
    const session = openTerminal(startArgs(id));
    try {
      const text = await screenShows(
        session,
        new RegExp(`start rollout ${id}\\? \\[y/N\\]\\s*$`, 'm'),
        'the question',
      );
      expectSummary(text, id);
      // The summary stands in for the warnings: nothing is said twice.
      expect(text).not.toMatch(/warning:/);
      tmux('send-keys', '-t', session, 'n', 'Enter');
      expect(await exited(session)).toBe(3);
      expect(screen(session)).toContain('not confirmed: nothing was changed');
      expect(await rolloutExists(id)).toBe(false);
    } finally {
      tmux('kill-session', '-t', session);
    }
  });

  it('starts the rollout when answered y (exit 0)', async () => {
    const id = uniqueName('asked-yes');
    const session = openTerminal(startArgs(id));
    try {
      expectSummary(
        await screenShows(session, new RegExp(`start rollout ${id}\\? \\[y/N\\]\\s*$`, 'm'), 'the question'),
        id,
      );
      expect(await rolloutExists(id)).toBe(false);
      tmux('send-keys', '-t', session, 'y', 'Enter');
      expect(await exited(session)).toBe(0);
      expect(screen(session)).toMatch(
        new RegExp(
          `^started rollout ${id}: 5 devices in canary \\(1\\), wave-1 \\(2\\), wave-2 \\(2\\)$`,
          'm',
        ),
      );
      expect(await rolloutExists(id)).toBe(true);
    } finally {
      tmux('kill-session', '-t', session);
      await stack.client.workflow
        .getHandle(`rollout/${id}`)
        .terminate('test over')
        .catch(() => undefined);
    }
  });

  it('names the devices a running rollout holds, by that rollout', async () => {
    const first = await startRolloutOf(
      stack,
      HELD,
      { canary: { count: 0 }, waves: { cumulativePercents: [100] } },
      'holder',
    );
    const holder = first.workflowId.slice('rollout/'.length);
    const id = uniqueName('asked-held');
    let session: string | undefined;
    try {
      await until(
        async () =>
          (await first.query(progressQuery)).counts['in-progress'] === HELD.length ? true : undefined,
        30_000,
        'the first rollout holding both devices',
      );
      session = openTerminal([
        'start',
        '--inventory',
        inventory('held', [...HELD, ASKED[0]!]),
        '--policy',
        policyFile,
        '--rollout-id',
        id,
      ]);
      const text = await screenShows(
        session,
        new RegExp(`start rollout ${id}\\? \\[y/N\\]\\s*$`, 'm'),
        'the question',
      );
      expect(text).toMatch(
        /^held: 2 of the devices, by running rollouts: reported HeldByAnotherRollout, not touched$/m,
      );
      expect(text).toMatch(new RegExp(`^ {2}rollout ${holder} holds 2 \\(sag-th01, sag-th02\\)$`, 'm'));
      // The holding rollout has them in its inventory, to the same version: named under running rollouts.
      expect(text).toMatch(
        /^running rollouts: 1 rollout has devices of the inventory: the rollouts race for them/m,
      );
      expect(text).toMatch(
        new RegExp(
          `^ {2}rollout ${holder} \\(to 2\\.4\\.0\\.0\\) has 2 of the devices in its inventory$`,
          'm',
        ),
      );
      expect(text).not.toMatch(/warning:/);
      tmux('send-keys', '-t', session, 'n', 'Enter');
      expect(await exited(session)).toBe(3);
      expect(await rolloutExists(id)).toBe(false);
    } finally {
      if (session) tmux('kill-session', '-t', session);
      await first.terminate('test over');
    }
  });

  it('with --yes shows the summary on the terminal without asking, and leaves stdout to the result', async () => {
    const id = uniqueName('asked-yes-flag');
    const out = path.join(dir, `${id}.json`);
    const session = openTerminal([...startArgs(id), '--yes', '--json'], ` > ${quote(out)}`);
    try {
      expect(await exited(session)).toBe(0);
      const text = screen(session);
      expectSummary(text, id);
      expect(text).not.toContain('[y/N]');
      expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ rolloutId: id, started: true });
      expect(await rolloutExists(id)).toBe(true);
    } finally {
      tmux('kill-session', '-t', session);
      await stack.client.workflow
        .getHandle(`rollout/${id}`)
        .terminate('test over')
        .catch(() => undefined);
    }
  });

  it('with --yes and no terminal prints only the result', async () => {
    const id = uniqueName('asked-piped');
    const r = await cli([...temporalArgs(stack.taskQueue), ...startArgs(id), '--yes']);
    try {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`started rollout ${id}: 5 devices in canary (1), wave-1 (2), wave-2 (2)\n`);
      expect(r.stderr).not.toMatch(/^(window|pace|workers|held):/m);
    } finally {
      await stack.client.workflow
        .getHandle(`rollout/${id}`)
        .terminate('test over')
        .catch(() => undefined);
    }
  });
});

/** What one frame of the live view says about the failure budget. */
interface BudgetFrame {
  text: string;
  state: string;
  failed: number;
  finished: number;
  percent: string;
  limit: number;
  breachedFlag: boolean;
  /** The failed/finished figures of the halt reason on screen, if one shows. */
  reason?: { failed: number; finished: number; text: string };
}

function readFrame(text: string): BudgetFrame | undefined {
  const state = /^rollout \S+ → \S+ \(\w+\)\s+([A-Z-]+)\s/m.exec(text);
  const fig = /failure budget: (\d+)\/(\d+) \((\d+\.\d)% of (\d+)% allowed\)( BREACHED)?/.exec(text);
  if (!state || !fig) return undefined;
  const why = /(failure budget exceeded: (\d+)\/(\d+) failed \([^)]*\))/.exec(text);
  return {
    text,
    state: state[1]!,
    failed: Number(fig[1]),
    finished: Number(fig[2]),
    percent: fig[3]!,
    limit: Number(fig[4]),
    breachedFlag: Boolean(fig[5]),
    ...(why ? { reason: { failed: Number(why[2]), finished: Number(why[3]), text: why[1]! } } : {}),
  };
}

describe('the live view of a rollout that breaches its failure budget', () => {
  it('never shows a failure budget that disagrees with the halt, and exits 5 on it with --exit-on-halt', async () => {
    const id = uniqueName('breach');
    const policyFile = write(
      dir,
      'breach.yaml',
      `
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
failureBudget:
  maxFailurePercent: 10
  minFailures: 2
  maxConsecutiveFailures: 0
`,
    );
    const started = await cli([
      ...temporalArgs(stack.taskQueue),
      'start',
      '--inventory',
      inventory('breach', BREACH),
      '--policy',
      policyFile,
      '--rollout-id',
      id,
      '--yes',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const session = openTerminal(['status', id, '--watch', '--exit-on-halt', '--interval', '200ms']);
    try {
      // Every frame drawn while devices finish, read as often as tmux allows. A frame is judged
      // once two reads in a row agree, so a read taken halfway through a redraw is not mistaken
      // for what the view showed.
      const frames: BudgetFrame[] = [];
      let last = '';
      const deadline = Date.now() + 40_000;
      let code: number | undefined;
      while ((code = exitStatus(session)) === undefined) {
        if (Date.now() > deadline) throw new Error(`the watch did not exit; the screen:\n${screen(session)}`);
        const text = screen(session);
        const frame = text === last ? readFrame(text) : undefined;
        if (frame && frames[frames.length - 1]?.text !== text) frames.push(frame);
        last = text;
        await new Promise((r) => setTimeout(r, 40));
      }
      expect(code, screen(session)).toBe(5);
      const final = readFrame(screen(session));
      expect(final, screen(session)).toBeDefined();
      frames.push(final!);

      for (const f of frames) {
        const shown = `${f.failed}/${f.finished}`;
        // The figure is the count: its share is failed/finished.
        expect(f.percent, f.text).toBe(((f.finished > 0 ? f.failed / f.finished : 0) * 100).toFixed(1));
        // Over the budget (at least 2 failed and more than 10%) exactly when the view shows the halt.
        const over = f.failed >= 2 && (f.failed / f.finished) * 100 > f.limit;
        expect({ shown, over, breached: f.breachedFlag, halted: f.reason !== undefined }, f.text).toEqual({
          shown,
          over: f.reason !== undefined,
          breached: f.reason !== undefined,
          halted: f.reason !== undefined,
        });
        if (f.reason) expect(`${f.reason.failed}/${f.reason.finished}`, f.text).toBe(shown);
      }
      // Devices finished under the watch: the count grew frame by frame, never back.
      for (let i = 1; i < frames.length; i++) {
        expect(frames[i]!.finished, frames[i]!.text).toBeGreaterThanOrEqual(frames[i - 1]!.finished);
        expect(frames[i]!.failed, frames[i]!.text).toBeGreaterThanOrEqual(frames[i - 1]!.failed);
      }
      expect(
        frames.some((f) => f.state === 'RUNNING' && f.finished >= 1 && !f.reason),
        frames.map((f) => f.text).join('\n----\n'),
      ).toBe(true);
      // After the halt the screen gives its reason with the figures the reason states.
      expect(final!.reason, final!.text).toBeDefined();
      expect(final!.breachedFlag).toBe(true);
      expect(`${final!.failed}/${final!.finished}`).toBe(
        `${final!.reason!.failed}/${final!.reason!.finished}`,
      );
      expect(final!.reason!.failed).toBe(2);
      const status = await cli([...temporalArgs(stack.taskQueue), 'status', id, '--json']);
      expect((JSON.parse(status.stdout) as { haltReason: string }).haltReason).toContain(final!.reason!.text);
    } finally {
      tmux('kill-session', '-t', session);
      await cli([...temporalArgs(stack.taskQueue), 'abort', id, '--yes', '--reason', 'test over']);
    }
  });
});
