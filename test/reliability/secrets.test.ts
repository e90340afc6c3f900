import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomCredentials, startSimulator, type SimulatorHandle } from '../../src/simulator';
import type { HealthPolicy } from '../../domain/types';
import { VERSIONS } from '../helpers/stack';
import { connectTestEnv, uniqueName, workflowBundle } from '../helpers/temporal';
import {
  inventoryOf,
  quickFleet,
  quickPolicy,
  spawnWorker,
  startRollout,
  waitFor,
  type WorkerProcess,
} from './helpers';

// The AccessKey secret, every device's SecretKey, the webhooks' tokens and the probes' headers stay
// out of histories, logs and error output.
const FLEET = quickFleet('sec', 5);
let sim: SimulatorHandle;
let env: TestWorkflowEnvironment;
let worker: WorkerProcess | undefined;

// Chat webhooks in the shapes that carry their token: Slack's path, DingTalk's access_token, and
// an Authorization header. A local server stands in for both.
const token = () => randomBytes(18).toString('hex');
const SLACK_TOKEN = token();
const DING_TOKEN = token();
const BEARER = token();
// A probe's and a wave query's secret headers, from the worker's environment.
const PROBE_TOKEN = token();
const QUERY_TOKEN = token();
const probeHits: { path: string; authorization?: string }[] = [];
let hooks: http.Server;
let slackUrl: string;
let dingUrl: string;
let webhooksFile: string;
const posts: { path: string; authorization?: string; body: { text?: { content?: string } } }[] = [];

beforeAll(async () => {
  sim = await startSimulator({ fleet: { versions: VERSIONS, instances: FLEET } });
  env = await connectTestEnv();
  hooks = http.createServer((req, res) => {
    if (req.url?.startsWith('/probe/') || req.url?.startsWith('/metric')) {
      probeHits.push({ path: req.url, authorization: req.headers.authorization });
      res.writeHead(200).end(req.url.startsWith('/metric') ? '0' : 'ok');
      return;
    }
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      posts.push({
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: JSON.parse(data || '{}') as (typeof posts)[number]['body'],
      });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  slackUrl = `${base}/services/T0SEC0001/B0SEC0002/${SLACK_TOKEN}`;
  dingUrl = `${base}/robot/send?access_token=${DING_TOKEN}`;
  webhooksFile = path.join(mkdtempSync(path.join(inject('tmpRoot'), 'webhooks-')), 'webhooks.yaml');
  writeFileSync(webhooksFile, `ding:\n  url: ${dingUrl}\n  headers:\n    Authorization: Bearer ${BEARER}\n`);
});
afterAll(async () => {
  await worker?.kill();
  await env?.teardown();
  await sim?.stop();
  hooks?.closeAllConnections();
  await new Promise((r) => hooks?.close(r));
});

/** Every string in a history, with payload bytes decoded as UTF-8 (and as base64 text). */
function texts(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array)
    out.push(Buffer.from(value).toString('utf8'), Buffer.from(value).toString('base64'));
  else if (Array.isArray(value)) for (const v of value) texts(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) texts(v, out);
  return out;
}

function runCli(
  args: string[],
  extraEnv: NodeJS.ProcessEnv,
  until?: RegExp,
): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'cli-main.ts'), ...args], {
    cwd: path.resolve(__dirname, '../..'),
    env: { PATH: process.env.PATH, HOME: '/nonexistent-home', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      if (until && until.test(output)) proc.kill('SIGTERM');
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => resolve({ code, output }));
  });
}

describe('secrets', () => {
  it('never appear in the histories of a rollout, its parts, its device and notification workflows, nor in the worker log', async () => {
    const keys = [
      sim.accessKeySecret,
      ...sim.instances().flatMap((i) => i.devices.map((d) => d.secretKey)),
    ].filter((s): s is string => typeof s === 'string' && s.length > 0);
    expect(keys.length).toBe(1 + FLEET.length);
    const secrets = [...keys, SLACK_TOKEN, DING_TOKEN, BEARER, slackUrl, dingUrl, PROBE_TOKEN, QUERY_TOKEN];
    const taskQueue = uniqueName('secrets');
    worker = spawnWorker({
      address: inject('temporalAddress'),
      taskQueue,
      sim,
      workflowBundle: workflowBundle().codePath,
      env: {
        SAG_WEBHOOK_OPS_CHAT_URL: slackUrl,
        WEBHOOKS_FILE: webhooksFile,
        SAG_PROBE_BRANCH_HEADERS: JSON.stringify({ Authorization: `Bearer ${PROBE_TOKEN}` }),
        SAG_PROBE_ERRORS_HEADERS: JSON.stringify({ Authorization: `Bearer ${QUERY_TOKEN}` }),
      },
    });
    await worker.ready;
    const rolloutId = uniqueName('secrets');
    const webhooks = [
      { name: 'ops-chat', format: 'chat' as const },
      { name: 'ding', format: 'chat' as const, events: ['completed'] },
      { name: 'ghost', format: 'json' as const, events: ['completed'] },
    ];
    const base = new URL(slackUrl).origin;
    const health: HealthPolicy = {
      links: true,
      ha: true,
      controller: true,
      diagnosis: false,
      features: [],
      probes: [
        {
          name: 'branch',
          url: `${base}/probe/{SmartAGId}`,
          method: 'GET',
          expectStatus: 200,
          timeout: 5000,
          interval: 100,
          successes: 1,
          failureLimit: 2,
        },
      ],
      waveQuery: { name: 'errors', url: `${base}/metric`, max: 1, timeout: 5000 },
    };
    const h = await startRollout(
      env.client,
      taskQueue,
      rolloutId,
      inventoryOf(FLEET),
      quickPolicy({ canary: { count: 1 }, waves: { cumulativePercents: [100] }, webhooks, health }),
    );
    const r = await h.result();
    expect(r.counts.upgraded).toBe(FLEET.length);
    // The probe asked once per device and the wave query once per wave, each with its header.
    expect(probeHits.filter((p) => p.path.startsWith('/probe/')).map((p) => p.authorization)).toEqual(
      FLEET.map(() => `Bearer ${PROBE_TOKEN}`),
    );
    expect(probeHits.filter((p) => p.path.startsWith('/metric')).map((p) => p.authorization)).toEqual([
      `Bearer ${QUERY_TOKEN}`,
      `Bearer ${QUERY_TOKEN}`,
    ]);
    // Delivered to the token-bearing URLs, with the header: ghost is known to no worker.
    const closing: unknown = await env.client.workflow
      .getHandle(`rollout/${rolloutId}/notify-completed`)
      .result();
    expect(closing).toEqual({ delivered: 2, failed: [2] });
    const completed = `[sag-rollout] ${rolloutId}: completed (devices=${FLEET.length})`;
    const slack = await waitFor('the chat events', () => {
      const got = posts.filter((p) => p.path === new URL(slackUrl).pathname);
      return got.some((p) => p.body.text?.content === completed) && got.length >= 4 ? got : undefined;
    });
    expect(slack.map((p) => /: ([a-z-]+)/.exec(p.body.text?.content ?? '')?.[1]).sort()).toEqual([
      'completed',
      'rollout-started',
      'wave-done',
      'wave-done',
    ]);
    const ding = posts.filter((p) => p.path.startsWith('/robot/send'));
    expect(ding).toEqual([
      {
        path: `/robot/send?access_token=${DING_TOKEN}`,
        authorization: `Bearer ${BEARER}`,
        body: expect.objectContaining({ text: { content: completed } }) as unknown,
      },
    ]);
    const ids = [
      `rollout/${rolloutId}`,
      `rollout/${rolloutId}/wave-0`,
      `rollout/${rolloutId}/wave-1`,
      `rollout/${rolloutId}/notify-completed`,
      ...FLEET.map((i) => `upgrade/${i.SmartAGId}`),
    ];
    let events = 0;
    for (const id of ids) {
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      events += history.events?.length ?? 0;
      const all = texts(history).join('\n');
      for (const s of secrets) expect(all.includes(s), `${id} contains a secret`).toBe(false);
      for (const s of secrets)
        expect(all.includes(Buffer.from(s).toString('base64')), `${id} contains a secret (base64)`).toBe(
          false,
        );
    }
    expect(events).toBeGreaterThan(50);
    await worker.kill('SIGTERM');
    const log = worker.output();
    expect(log).toContain('upgrade accepted');
    expect(log).toMatch(/webhook not configured on this worker .*"webhook":"ghost".*SAG_WEBHOOK_GHOST_URL/);
    for (const s of secrets) expect(log.includes(s), 'the worker log contains a secret').toBe(false);
  }, 120_000);

  it('never appear with signature V3 either: an STS key, its token and its signatures stay out of histories, the worker log and error messages', async () => {
    const fleet = quickFleet('sv3', 4);
    const sts = { ...randomCredentials(), securityToken: `CAIS${randomBytes(24).toString('base64')}` };
    const simV3 = await startSimulator({
      fleet: { versions: VERSIONS, instances: fleet },
      credentials: [sts],
    });
    let v3Worker: WorkerProcess | undefined;
    try {
      // Answers that echo the credentials: the error messages they become must not carry them.
      const echo = `echo ${sts.accessKeySecret} ${sts.securityToken} ${sts.accessKeyId}`;
      simV3.setFaults({
        rules: [
          {
            action: 'DescribeSmartAccessGatewayAttribute',
            smartAgId: fleet[1]!.SmartAGId,
            kind: 'error',
            code: 'ServiceUnavailable',
            message: echo,
            times: 4,
          },
          {
            action: 'DescribeSmartAccessGatewayVersions',
            smartAgId: fleet[2]!.SmartAGId,
            kind: 'error',
            code: 'InternalError',
            message: echo,
            times: 4,
          },
          // A refusal that fails the device, so its message is kept in the histories.
          {
            action: 'UpdateSmartAccessGatewayVersion',
            smartAgId: fleet[3]!.SmartAGId,
            kind: 'error',
            code: 'InvalidId.SMARTAG',
            message: echo,
          },
        ],
      });
      const secrets = [
        sts.accessKeySecret,
        sts.securityToken,
        sts.accessKeyId,
        ...simV3.instances().flatMap((i) => i.devices.map((d) => d.secretKey)),
      ].filter((v): v is string => typeof v === 'string' && v.length > 0);
      expect(secrets.length).toBe(3 + fleet.length);
      const taskQueue = uniqueName('secrets-v3');
      v3Worker = spawnWorker({
        address: inject('temporalAddress'),
        taskQueue,
        sim: { endpoint: simV3.endpoint, accessKeyId: sts.accessKeyId, accessKeySecret: sts.accessKeySecret },
        securityToken: sts.securityToken,
        signature: 'v3',
        workflowBundle: workflowBundle().codePath,
      });
      await v3Worker.ready;
      const rolloutId = uniqueName('secrets-v3');
      const h = await startRollout(
        env.client,
        taskQueue,
        rolloutId,
        inventoryOf(fleet),
        quickPolicy({ canary: { count: 1 }, waves: { cumulativePercents: [100] } }),
      );
      const r = await h.result();
      expect(r.counts).toMatchObject({ upgraded: fleet.length - 1, failed: 1 });

      // Every call was a V3 call, and the echoing answers were served.
      const log = simV3.requests();
      expect(log.length).toBeGreaterThan(20);
      expect(log.every((e) => e.signature === 'ACS3-HMAC-SHA256')).toBe(true);
      expect(log.filter((e) => e.code === 'ServiceUnavailable' || e.code === 'InternalError')).toHaveLength(
        8,
      );
      expect(log.filter((e) => e.code === 'InvalidId.SMARTAG')).toHaveLength(1);

      const ids = [
        `rollout/${rolloutId}`,
        `rollout/${rolloutId}/wave-0`,
        `rollout/${rolloutId}/wave-1`,
        ...fleet.map((i) => `upgrade/${i.SmartAGId}`),
      ];
      const all: string[] = [];
      for (const id of ids)
        all.push(texts(await env.client.workflow.getHandle(id).fetchHistory()).join('\n'));
      const history = all.join('\n');
      // The echoing answers reached the histories, scrubbed.
      expect(history).toMatch(/ServiceUnavailable/);
      expect(history).toContain('InvalidId.SMARTAG (HTTP 403): echo *** *** ***');
      await v3Worker.kill('SIGTERM');
      const workerLog = v3Worker.output();
      expect(workerLog).toContain('upgrade accepted');
      for (const [where, text] of [
        ['a history', history],
        ['the worker log', workerLog],
      ] as const) {
        for (const secret of secrets) {
          expect(text.includes(secret), `${where} contains a secret`).toBe(false);
          expect(
            text.includes(Buffer.from(secret).toString('base64')),
            `${where} contains a secret (base64)`,
          ).toBe(false);
          expect(text.includes(encodeURIComponent(secret)), `${where} contains a secret (URL-encoded)`).toBe(
            false,
          );
        }
        // No signature, Authorization header or echoed canonical request either.
        expect(text, where).not.toMatch(
          /ACS3-HMAC-SHA256 Credential|Signature=[0-9a-f]{16}|x-acs-security-token\s*:|CanonicalRequest is \[|StringToSign is \[/,
        );
      }
    } finally {
      await v3Worker?.kill();
      await simV3.stop();
    }
  }, 120_000);

  it('the CLI worker refuses to start without credentials, names what is missing, and never prints a secret', async () => {
    const none = await runCli(['worker'], { TEMPORAL_ADDRESS: inject('temporalAddress') });
    expect(none.code).not.toBe(0);
    expect(none.output).toMatch(/no Alibaba Cloud credentials configured/);
    const half = await runCli(['worker'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.accessKeySecret,
    });
    expect(half.code).not.toBe(0);
    expect(half.output).toMatch(/ALIBABA_CLOUD_ACCESS_KEY_ID is missing/);
    expect(half.output).not.toContain(sim.accessKeySecret);
    const simEnv = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      SAG_ENDPOINT: sim.endpoint,
      SAG_SIMULATOR_ACCESS_KEY_ID: sim.accessKeyId,
      SAG_SIMULATOR_ACCESS_KEY_SECRET: sim.accessKeySecret,
    };
    // A webhook URL it cannot use: refused, naming the variable and never its value.
    const badHook = await runCli(['worker'], {
      ...simEnv,
      SAG_WEBHOOK_OPS_CHAT_URL: `ftp://hooks.example.com/${SLACK_TOKEN}`,
      SAG_WEBHOOK_OPS_CHAT_HEADERS: `{"Authorization": 7}`,
    });
    expect(badHook.code).toBe(2);
    expect(badHook.output).toMatch(/SAG_WEBHOOK_OPS_CHAT_URL: not an http\(s\) URL/);
    expect(badHook.output).toMatch(/SAG_WEBHOOK_OPS_CHAT_HEADERS\.Authorization: must be text on one line/);
    expect(badHook.output).not.toContain(SLACK_TOKEN);
    // A secret smartag refuses: the worker asks one read-only question before it polls, names the
    // code, and refuses to start (the simulator saw exactly that call).
    const wrongSecret = `wrong-${token()}`;
    const before = sim.requests().length;
    const refused = await runCli(['worker', '--task-queue', uniqueName('cli-worker')], {
      ...simEnv,
      SAG_SIMULATOR_ACCESS_KEY_SECRET: wrongSecret,
    });
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(
      /the credentials from simulator-env were refused by smartag \(DescribeRegions, a read-only call\): SignatureDoesNotMatch/,
    );
    expect(refused.output).not.toContain(wrongSecret);
    expect(refused.output).not.toMatch(/polling task queue/);
    expect(
      sim
        .requests()
        .slice(before)
        .map((e) => `${e.action} ${e.code ?? 'OK'}`),
    ).toEqual(['DescribeRegions SignatureDoesNotMatch']);
    // `--no-check-credentials`: the same wrong secret, and the worker starts without asking smartag.
    const unchecked = sim.requests().length;
    const skipped = await runCli(
      ['worker', '--task-queue', uniqueName('cli-worker'), '--no-check-credentials'],
      { ...simEnv, SAG_SIMULATOR_ACCESS_KEY_SECRET: wrongSecret },
      /worker: polling task queue/,
    );
    expect(skipped.output).not.toMatch(/refused by smartag|could not check/);
    expect(skipped.output).not.toContain(wrongSecret);
    expect(sim.requests().slice(unchecked)).toEqual([]);
    // An answer that proves nothing about the keys (a 503): a warning naming the code, and it starts.
    sim.setFaults({
      rules: [{ action: 'DescribeRegions', kind: 'error', code: 'ServiceUnavailable', times: 1 }],
    });
    const inconclusive = sim.requests().length;
    try {
      const warned = await runCli(
        ['worker', '--task-queue', uniqueName('cli-worker')],
        simEnv,
        /worker: polling task queue/,
      );
      expect(warned.output).toMatch(
        /warning: could not check the credentials from simulator-env \(DescribeRegions: ServiceUnavailable\); starting anyway/,
      );
      expect(warned.output).not.toContain(sim.accessKeySecret);
      expect(
        sim
          .requests()
          .slice(inconclusive)
          .map((e) => `${e.action} ${e.code ?? 'OK'}`),
      ).toEqual(['DescribeRegions ServiceUnavailable']);
    } finally {
      sim.setFaults({ rules: [] });
    }
    // Pointed at a simulator with the simulator's keys, it starts (and says where the keys and the webhooks came from).
    const started = await runCli(
      ['worker', '--task-queue', uniqueName('cli-worker'), '--webhooks', webhooksFile],
      { ...simEnv, SAG_WEBHOOK_OPS_CHAT_URL: slackUrl },
      /worker: polling task queue/,
    );
    expect(started.output).toMatch(/credentials from simulator-env/);
    expect(started.output).toMatch(/webhooks: ding \(file\), ops-chat \(env\)/);
    for (const s of [sim.accessKeySecret, SLACK_TOKEN, DING_TOKEN, BEARER])
      expect(started.output).not.toContain(s);
  }, 120_000);
});
