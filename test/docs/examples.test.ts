import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/errors';
import { buildProgram } from '../../src/cli/program';
import { sendControl } from '../../src/operator/control';
import { statusJson } from '../../src/cli/render/json';
import { getRolloutStatus } from '../../src/operator/status';
import { startDashboard, type Dashboard } from '../../src/dashboard/server';
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
} from '../cli/helpers';
import {
  DOCS,
  commandLines,
  fencedBlocks,
  parseDocJson,
  readExamples,
  session,
  shapeMismatches,
  textMismatches,
  type DocExample,
} from './doc-examples';

// docs/cli.md, docs/dashboard.md and docs/report.md against the real CLI (dist/), worker,
// simulator, dashboard server and report. Every marked example (`<!-- example: NAME -->`, see
// doc-examples.ts) is checked here, and every check names the example it reads.

const DOC_FILES = ['cli.md', 'dashboard.md', 'report.md'];
const examples = new Map<string, DocExample>();
for (const doc of DOC_FILES)
  for (const e of readExamples(doc)) {
    if (examples.has(e.name)) throw new Error(`${e.where}: example ${e.name} is marked twice`);
    examples.set(e.name, e);
  }

/** The examples this file checks, by doc. */
const CHECKED = {
  'cli.md': [
    'plan-text',
    'plan-json',
    'start-json',
    'status-json',
    'status-no-worker',
    'status-no-worker-idle',
    'controls',
    'control-text',
    'control-json',
    'control-closed',
    'retry-failed-follow-up',
    'retry-failed-json',
    'export',
    'export-text',
    'report-json',
    'iam-policy-scope',
    'json-error',
    'status-no-worker-json',
    'export-json',
    'export-format-json',
    'list-json',
    'plan-devices-header',
    'status-follow-up-of',
  ],
  'dashboard.md': [
    'api-config',
    'api-rollouts',
    'api-rollout',
    'api-events',
    'api-command',
    'api-command-closed',
  ],
  'report.md': ['report-files', 'report-jsonl', 'devices-csv', 'calls-csv'],
} satisfies Record<string, string[]>;

function example(name: string): DocExample {
  const e = examples.get(name);
  if (!e) throw new Error(`no example marked ${name} in docs/`);
  return e;
}

/** The documented JSON example `name`, parsed. */
function docJson(name: string): unknown {
  const e = example(name);
  try {
    return parseDocJson(e.body);
  } catch (err) {
    throw new Error(`${e.where}: ${(err as Error).message}`, { cause: err });
  }
}

// Soft: a doc that disagrees fails the test, and the rollout the test drives goes on, so one run
// names every example that disagrees.
function expectShape(name: string, samples: unknown[]): void {
  expect.soft(shapeMismatches(docJson(name), samples), example(name).where).toEqual([]);
}

function expectText(name: string, real: string, substitute: Record<string, string>, skipDocLines = 0): void {
  const e = example(name);
  const doc = e.body.split('\n').slice(skipDocLines).join('\n');
  expect.soft(textMismatches(doc, real, substitute), e.where).toEqual([]);
}

/** An inline example that names one line of a longer output: some line of `real` must match it. */
function expectLine(name: string, real: string, substitute: Record<string, string>): void {
  const e = example(name);
  const matching = real.split('\n').filter((l) => textMismatches(e.body, l, substitute).length === 0);
  expect.soft(matching, `${e.where}: no line reads ${e.body}\n${real}`).not.toEqual([]);
}

/** The commands of a command example, with the doc's names replaced by the test's. */
function docCommands(name: string, substitute: Record<string, string>, keep: string[] = []): string[][] {
  return commandLines(example(name).body, keep).map((words) => words.map((w) => substitute[w] ?? w));
}

function json<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

const fleet = {
  versions: VERSIONS,
  instances: [
    instance('sag-d01'),
    instance('sag-d02'),
    instance('sag-d03'),
    instance('sag-d04'),
    instance('sag-d05'),
    instance('sag-d06'),
    instance('sag-d07'),
    instance('sag-drev', { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcome: 'revert' } }),
    // In flight long enough for a status that shows it running, then back on the old version.
    instance('sag-dslow', { simulation: { downloadSeconds: 0.05, upgradeSeconds: 5, outcome: 'revert' } }),
    instance('sag-dnoccn', { AssociatedCcnId: undefined }),
    instance('sag-darrears', { EndTime: 1000 }),
  ],
};

let stack: Stack;
let dir: string;
let simEnv: NodeJS.ProcessEnv;
let fastPolicy: string;
/** Status documents seen during the run: running, waiting at a gate, closed, follow-ups. */
const statusSamples: unknown[] = [];

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  cli([...temporalArgs(stack.taskQueue), ...args], { env });

async function statusOf(id: string): Promise<Record<string, unknown>> {
  const doc = json(await run(['status', id, '--json']));
  statusSamples.push(doc);
  return doc;
}

/**
 * Waits, reading the status in-process as the CLI does, until `pred` holds of the `status --json`
 * document; then takes that document from the CLI itself, as a sample.
 */
async function untilStatus(
  id: string,
  pred: (s: Record<string, unknown>) => boolean,
  what: string,
  timeoutMs = 30_000,
) {
  let last: Record<string, unknown> | undefined;
  try {
    await until(
      async () => {
        last = statusJson(await getRolloutStatus(stack.client, id));
        return pred(last) ? true : undefined;
      },
      timeoutMs,
      `${id}: ${what}`,
    );
  } catch (err) {
    const { devices: _devices, ...seen } = last ?? {};
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(seen)}`, { cause: err });
  }
  const doc = await statusOf(id);
  expect(pred(doc), `${id}: ${what}, as the CLI reads it`).toBe(true);
  return doc;
}

const inventory = (name: string, ids: string[]) =>
  write(dir, name, `SmartAGId,RegionId\n${ids.map((id) => `${id},cn-shanghai`).join('\n')}\n`);

/** The rollouts of the run, for the dashboard and report checks. */
const r1 = uniqueName('docs-r1');
const r2 = uniqueName('docs-r2');
const r1FollowUp = `${r1}-retry-1`;

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({ fleet });
  dir = tempDir('docs');
  fastPolicy = write(dir, 'policy.yaml', FAST_POLICY);
  simEnv = {
    SAG_ENDPOINT: stack.sim.endpoint,
    SAG_SIMULATOR_ACCESS_KEY_ID: stack.sim.accessKeyId,
    SAG_SIMULATOR_ACCESS_KEY_SECRET: stack.sim.accessKeySecret,
  };
});

afterAll(async () => {
  // The rollouts still running (the one the export example starts halts on its canary) are
  // aborted, so the worker has nothing left to wait for when it stops.
  if (stack) {
    const running = () =>
      stack.client.workflow.list({
        query: `TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Running' AND WorkflowType = 'rolloutWorkflow'`,
      });
    for await (const w of running())
      await sendControl(stack.client, w.workflowId.replace(/^rollout\//, ''), 'abort', {
        by: 'docs-test',
        compensate: false,
      }).catch(() => undefined);
    await until(
      async () => {
        for await (const _ of running()) return undefined;
        return true;
      },
      30_000,
      'the rollouts to close',
    ).catch(() => undefined);
    await stack.stop();
  }
});

describe('docs: the marked examples', () => {
  it('are exactly the examples this file checks', () => {
    for (const doc of DOC_FILES) {
      const marked = readExamples(doc).map((e) => e.name);
      expect(marked.sort(), `docs/${doc}`).toEqual([...CHECKED[doc as keyof typeof CHECKED]].sort());
    }
  });
});

describe('docs/cli.md', () => {
  it('lists every exit code of src/cli/errors.ts with its meaning, and no other', () => {
    const text = readFileSync(path.join(DOCS, 'cli.md'), 'utf8');
    const section = text.split('### Exit codes')[1]!.split('\n## ')[0]!;
    const rows = [...section.matchAll(/^\| (\d+)\s+\| (.+?)\s*\|$/gm)].map((m) => Number(m[1]));
    expect(rows).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });

  it('names only commands and flags that sag-rollout accepts in its command lines', () => {
    const lines = DOC_FILES.flatMap((doc) =>
      fencedBlocks(doc).flatMap((b) =>
        // Every optional group kept: its flags must exist too.
        commandLines(b.body.replace(/\[([^\]]*)\]/g, ' $1 ')).map((words) => ({ where: b.where, words })),
      ),
    );
    expect(lines.length).toBeGreaterThan(5);
    const program = buildProgram();
    const longFlags = (c: { options: readonly { long?: string }[] }) => c.options.map((o) => o.long);
    const problems: string[] = [];
    for (const { where, words } of lines) {
      const command = program.commands.find((c) => c.name() === words[0]);
      if (!command) {
        problems.push(`${where}: no command ${words[0]}`);
        continue;
      }
      const known = [...longFlags(command), ...longFlags(program)];
      for (const flag of words.filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]!))
        if (!known.includes(flag)) problems.push(`${where}: ${words[0]} has no flag ${flag}`);
    }
    expect(problems).toEqual([]);
  });

  it('shows plan as a real plan prints it, as text and as JSON', async () => {
    // A daily window that next opens about two hours from now, in the example's zone.
    const opens = new Date(Date.now() + 2 * 3600_000);
    const shanghai = new Date(opens.getTime() + 8 * 3600_000);
    const policy = write(
      dir,
      'plan-policy.yaml',
      [
        'targetVersion: "2.4.0.0"',
        'canary: 1',
        'waves: 50%,100%',
        'concurrency: 4',
        'bake: 30m',
        'expectedUpgradeTime: 10m',
        'failureBudget:',
        '  maxFailurePercent: 10',
        'windows:',
        '  - name: branch-night',
        `    cron: '0 ${shanghai.getUTCHours()} * * *'`,
        '    duration: 4h',
        '    timeZone: Asia/Shanghai',
        '',
      ].join('\n'),
    );
    const text = await run(
      [
        'plan',
        '--inventory',
        inventory('plan.csv', ['sag-d01', 'sag-d02', 'sag-d03', 'sag-darrears']),
        '--policy',
        policy,
        '--api-rate',
        '200',
      ],
      simEnv,
    );
    expect(text.code, text.stderr).toBe(0);
    expectText('plan-text', text.stdout, {});

    const mixed = inventory('plan-mixed.csv', [
      'sag-d01',
      'sag-dnoccn',
      'sag-dgone',
      'sag-darrears',
      'sag-d02',
    ]);
    const plan = await run(
      ['plan', '--inventory', mixed, '--policy', policy, '--api-rate', '200', '--json'],
      simEnv,
    );
    expect(plan.code, plan.stderr).toBe(0);
    expectShape('plan-json', [json(plan)]);

    const table = await run(
      ['plan', '--inventory', mixed, '--policy', policy, '--api-rate', '200', '--devices'],
      simEnv,
    );
    expect(table.code, table.stderr).toBe(0);
    expectLine('plan-devices-header', table.stdout, {});
  });

  it('shows start --json as a real start prints it, and status --json as a completed rollout answers', async () => {
    const r = await run([
      'start',
      '--inventory',
      inventory('r1.csv', ['sag-d01', 'sag-drev', 'sag-dnoccn', 'sag-d02']),
      '--policy',
      fastPolicy,
      '--rollout-id',
      r1,
      '--ticket',
      'CHG-1',
      '--yes',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const started = json(r);
    const again = await run([
      'start',
      '--inventory',
      path.join(dir, 'r1.csv'),
      '--policy',
      fastPolicy,
      '--rollout-id',
      r1,
      '--yes',
      '--json',
    ]);
    expectShape('start-json', [started, json(again)]);
    await untilStatus(r1, (s) => s.closed === true, 'closed');
  });

  it('runs retry-failed on a closed rollout as documented, with the documented --json', async () => {
    const [line, ...more] = docCommands('retry-failed-follow-up', { 'r-42': r1 });
    expect(more).toEqual([]);
    expect(line![0]).toBe('retry-failed');
    const r = await run([...line!, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r);
    expect(doc).toMatchObject({ via: 'follow-up', followUp: { rolloutId: r1FollowUp } });
    expectShape('retry-failed-json', [doc]);
    // Its canary is sag-drev again, which reverts again: the follow-up halts, and is aborted.
    await untilStatus(r1FollowUp, (s) => typeof s.haltReason === 'string', 'halted');
    expect((await run(['abort', r1FollowUp, '--yes'])).code).toBe(0);
    await untilStatus(r1FollowUp, (s) => s.closed === true, 'closed');
    await untilStatus(
      r1,
      (s) => Array.isArray(s.followUps) && s.followUps.length > 0,
      'listing its follow-up',
    );
    const text = await run(['status', r1FollowUp]);
    expectLine('status-follow-up-of', text.stdout, { [r1FollowUp]: 'r-42', [r1]: 'r-41' });
  }, 90_000);

  it('runs the documented controls on a rollout, printing what the doc shows', async () => {
    const gated = write(
      dir,
      'gated.yaml',
      FAST_POLICY.replace('concurrency: 10', 'concurrency: 1').replace('waves: 50%,100%', 'waves: 40%,100%') +
        'approval: each-wave\n',
    );
    // canary [d03], wave-1 [dslow, d04], wave-2 [d05, d06, d07] behind a gate: wave-2 has not
    // started when the doc's exclude names two of its devices, nor when the abort comes.
    const ids = ['sag-d03', 'sag-dslow', 'sag-d04', 'sag-d05', 'sag-d06', 'sag-d07'];
    // With serial numbers, a group and tags, which export gives back.
    const r2Inventory = write(
      dir,
      'r2.csv',
      `SmartAGId,RegionId,SerialNumber,group,tags\n${ids.map((id) => `${id},cn-shanghai,sn${id.slice(4)}a,branch,east;night`).join('\n')}\n`,
    );
    const started = await run([
      'start',
      '--inventory',
      r2Inventory,
      '--policy',
      gated,
      '--rollout-id',
      r2,
      '--yes',
    ]);
    expect(started.code, started.stderr).toBe(0);
    await untilStatus(r2, (s) => s.state === 'waiting-approval', 'waiting for approval');

    const [pause, approve, exclude, abort, ...more] = docCommands(
      'controls',
      { 'r-42': r2, 'sag-0001': 'sag-d05', 'sag-0002': 'sag-d06' },
      ['--no-compensate'],
    );
    expect(more).toEqual([]);
    const names = { [r2]: 'r-42' };

    const paused = await run(pause!);
    expect(paused.code, paused.stderr).toBe(0);
    expectText('control-text', paused.stdout, names);
    const resumed = await run(['resume', r2, '--yes', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expectShape('control-json', [json(resumed)]);

    const approved = await run(approve!);
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    await untilStatus(
      r2,
      (s) => s.state === 'running' && s.eta !== undefined,
      'running sag-dslow with an eta',
      20_000,
    );
    const excluded = await run(exclude!);
    expect(excluded.code, excluded.stdout + excluded.stderr).toBe(0);
    const aborted = await run(abort!);
    expect(aborted.code, aborted.stdout + aborted.stderr).toBe(0);
    await untilStatus(r2, (s) => s.state === 'aborted', 'aborted');

    const closed = await run(['pause', r2, '--yes']);
    expect(closed.code).toBe(ExitCode.refused);
    // The CLI prints a refusal as an error line, after its name.
    expectText('control-closed', closed.stderr.replace(/^sag-rollout: /, ''), names);
  }, 90_000);

  it('shows status --json as rollouts answer it: running, at a gate, closed, with follow-ups', () => {
    expectShape('status-json', statusSamples);
  });

  it('runs the documented export, plan and start of a closed rollout', async () => {
    // Run where the doc's file names are: retry.csv and policy.yaml in the working directory.
    const [exp, plan, start, ...more] = docCommands('export', { 'r-42': r2 });
    expect(more).toEqual([]);
    const inDir = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      cli([...temporalArgs(stack.taskQueue), ...args], { env, cwd: dir });
    const exported = await inDir(exp!);
    expect(exported.code, exported.stderr).toBe(0);
    expectText('export-text', exported.stdout, { [r2]: 'r-42' });
    const planned = await inDir(plan!, simEnv);
    expect(planned.code, planned.stderr).toBe(0);
    const startedRetry = await inDir(start!);
    expect(startedRetry.code, startedRetry.stderr).toBe(0);

    const toFile = await inDir(['export', r2, '--out', 'retry.json', '--json']);
    expect(toFile.code, toFile.stderr).toBe(0);
    expectShape('export-json', [json(toFile)]);
    const inventory = await inDir(['export', r2, '--format', 'json']);
    expect(inventory.code, inventory.stderr).toBe(0);
    expectShape('export-format-json', [json(inventory)]);
  });

  it('says what the doc says when no worker answers status', async () => {
    const queue = uniqueName('idle');
    const id = uniqueName('docs-idle');
    const idle = (args: string[]) => cli([...temporalArgs(queue), ...args]);
    const started = await idle([
      'start',
      '--inventory',
      path.join(dir, 'r1.csv'),
      '--policy',
      fastPolicy,
      '--rollout-id',
      id,
      '--yes',
    ]);
    expect(started.code, started.stderr).toBe(0);
    try {
      const status = await idle(['status', id]);
      expect(status.code).toBe(ExitCode.internal);
      const names = { [id]: 'r-42', [queue]: 'sag-rollout' };
      // The block's first line is the stderr of a worker that stopped a moment ago; with none at
      // all it is the line the paragraph under it names.
      expectText('status-no-worker', status.stdout, names, 1);
      expectText('status-no-worker-idle', status.stderr.split('\n')[0]!, { ...names, [queue]: 'Q' });
      const running = await idle(['status', id, '--json']);
      expect(running.code).toBe(ExitCode.internal);
      await stack.client.workflow.getHandle(`rollout/${id}`).terminate('docs test: no worker on its queue');
      const closed = await idle(['status', id, '--json']);
      expect(closed.code).toBe(ExitCode.internal);
      expectShape('status-no-worker-json', [json(running), json(closed)]);
    } finally {
      await stack.client.workflow
        .getHandle(`rollout/${id}`)
        .terminate('docs test: no worker on its queue')
        .catch(() => undefined);
    }
  });

  it('prints an error as the --json convention says, and list --json as documented', async () => {
    const missing = await run(['status', 'no-such-rollout', '--json']);
    expect(missing.code).toBe(ExitCode.notFound);
    expectShape('json-error', [json(missing)]);
    const list = await run(['list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expectShape('list-json', json<unknown[]>(list));
  });

  it('shows report --json as a real report command prints it', async () => {
    const out = tempDir('docs-report');
    const r = await run(['report', r1, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ files: string[] }>(r);
    expectShape('report-json', [doc]);
    for (const f of doc.files) expect(existsSync(f), f).toBe(true);
  });
});

describe('docs/cli.md: iam-policy', () => {
  it('says on stderr how it widened the scope, as the doc shows for 3,000 instances', async () => {
    const ids = Array.from({ length: 2999 }, (_, i) => `sag-w${String(i).padStart(16, '0')}`);
    const fleet = write(
      dir,
      'iam.csv',
      `SmartAGId,RegionId\n${ids.map((id) => `${id},cn-shanghai`).join('\n')}\nsag-h0001,cn-hangzhou\n`,
    );
    const r = await cli(['iam-policy', '--inventory', fleet, '--account-id', '1234567890123456']);
    expect(r.code, r.stderr).toBe(0);
    expectText('iam-policy-scope', r.stderr, {});
  });
});

describe('docs/dashboard.md', () => {
  let dashboard: Dashboard;
  beforeAll(async () => {
    dashboard = await startDashboard({
      client: stack.client,
      port: 0,
      operator: 'alice',
      temporalUiUrl: 'http://localhost:8233',
    });
  });
  afterAll(async () => {
    await dashboard?.stop();
  });

  const get = async (p: string) => {
    const r = await fetch(`${dashboard.url}${p}`);
    expect(r.status, p).toBe(200);
    return r.json();
  };

  it('serves the pages and the JSON API it documents', async () => {
    expect((await fetch(`${dashboard.url}/`)).status).toBe(200);
    expect((await fetch(`${dashboard.url}/rollouts/${encodeURIComponent(r1)}`)).status).toBe(200);
    expectShape('api-config', [await get('/api/config')]);
    const list = await get('/api/rollouts');
    expectShape('api-rollouts', [list, await get('/api/rollouts?state=aborted&limit=5')]);
    expectShape('api-rollout', [
      await get(`/api/rollouts/${encodeURIComponent(r1)}`),
      await get(`/api/rollouts/${encodeURIComponent(r2)}`),
    ]);
  });

  it('streams the view as the events example shows', async () => {
    const abort = new AbortController();
    const r = await fetch(`${dashboard.url}/api/rollouts/${encodeURIComponent(r1)}/events`, {
      signal: abort.signal,
    });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of r.body as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (/event: view\ndata: .*\n\n/.test(text)) break;
    }
    abort.abort();
    expectText('api-events', text, {});
    const data = /^data: (.*)$/m.exec(text)![1]!;
    expectShape('api-rollout', [JSON.parse(data)]);
  });

  it('answers the documented command body as documented', async () => {
    const post = (id: string) =>
      fetch(`${dashboard.url}/api/rollouts/${encodeURIComponent(id)}/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: dashboard.url },
        body: JSON.stringify(docJson('api-command')),
      });
    // r-42 in the doc's answer closed completed, as r1 did.
    const refused = await post(r1);
    expect(refused.status).toBe(409);
    const answer = (await refused.json()) as { error: string };
    expectShape('api-command-closed', [answer]);
    const documented = docJson('api-command-closed') as { error: string };
    expect(textMismatches(documented.error, answer.error, { [r1]: 'r-42' })).toEqual([]);
    expect((await post('no-such-rollout')).status).toBe(404);
  });
});

describe('docs/report.md', () => {
  let out: string;
  beforeAll(async () => {
    out = tempDir('docs-report');
  });

  it('writes the report files the doc lists, as the doc runs it', async () => {
    const { commands, output } = session(example('report-files').body);
    expect(commands).toHaveLength(1);
    const r = await cli(
      [...temporalArgs(stack.taskQueue), ...commands[0]!.map((w) => (w === 'r-42' ? r1 : w))],
      {
        cwd: out,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(textMismatches(output, r.stdout, { [r1]: 'r-42' }), example('report-files').where).toEqual([]);
  });

  it('documents records and columns that a real report has', () => {
    const base = path.join(out, 'reports', r1);
    const records = readFileSync(`${base}.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    const e = example('report-jsonl');
    const problems = e.body.split('\n').flatMap((line, n) => {
      const doc = parseDocJson(line) as { type: string };
      return shapeMismatches(
        doc,
        records.filter((r) => r.type === doc.type),
        `line ${n + 1} (${doc.type})`,
      );
    });
    expect.soft(problems, e.where).toEqual([]);

    const header = (file: string) => readFileSync(file, 'utf8').split('\r\n')[0]!.split(',');
    const columns = (name: string) => example(name).body.split(/,\s*/);
    expect.soft(header(`${base}.devices.csv`), example('devices-csv').where).toEqual(columns('devices-csv'));
    expect(header(`${base}.calls.csv`), example('calls-csv').where).toEqual(columns('calls-csv'));
  });
});
