import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthPolicy, RolloutPolicy, RolloutProgress } from '../../domain/types';
import { collectReport, renderReport } from '../../src/audit/report';
import { auditQuery, devicesQuery, resumeUpdate } from '../../workflows/messages';
import { untilProgress } from '../helpers/progress';
import { instance, startRolloutOf, startStack, VERSIONS, type Stack } from '../helpers/stack';

// The health analysis against the simulator: devices that come back on the target but broken, a
// device broken before its upgrade, an HTTP probe of the operator's, a wave query over its limit.
let stack: Stack;
let probeServer: http.Server;
let probeBase = '';
const probeHits: { path: string; token?: string }[] = [];
const failFirst = new Map<string, number>();
const TOKEN = 'probe-tok-6d1f0c';

const fast = { downloadSeconds: 0.05, upgradeSeconds: 0.1 };
const fleet = {
  versions: VERSIONS,
  instances: [
    instance('sag-hlnk1', { simulation: { ...fast, outcome: 'link-down' as const } }),
    instance('sag-hlnk2'),
    instance('sag-hwas1', { simulation: { ...fast, linkDown: true } }),
    instance('sag-hok01'),
    instance('sag-hctl1', { simulation: { ...fast, outcome: 'controller-lost' as const } }),
    instance('sag-hprb1'),
    instance('sag-hwq01'),
    instance('sag-hwq02'),
    instance('sag-hwq03'),
    instance('sag-hwq04'),
  ],
};

beforeAll(async () => {
  probeServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    probeHits.push({ path: url.pathname, token: req.headers['x-token'] as string | undefined });
    if (url.pathname.startsWith('/branch/')) {
      const left = failFirst.get(url.pathname) ?? 0;
      failFirst.set(url.pathname, left - 1);
      res.writeHead(left > 0 ? 503 : 200).end(left > 0 ? 'down' : 'ok');
      return;
    }
    if (url.pathname === '/rate') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { result: [{ value: [0, '0.2'] }] } }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => probeServer.listen(0, '127.0.0.1', r));
  probeBase = `http://127.0.0.1:${(probeServer.address() as AddressInfo).port}`;
  // The worker reads a probe's secret headers from its environment, never from the policy.
  process.env.SAG_PROBE_BRANCH_HEADERS = JSON.stringify({ 'X-Token': TOKEN });
  stack = await startStack({ fleet });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((r) => probeServer.close(() => r()));
  delete process.env.SAG_PROBE_BRANCH_HEADERS;
});

const HEALTH: HealthPolicy = {
  links: true,
  ha: true,
  controller: true,
  diagnosis: false,
  features: [],
  probes: [],
};
const start = (ids: string[], policy: Partial<RolloutPolicy>) =>
  startRolloutOf(stack, ids, { healthRecheck: false, ...policy }, 'health');
const until = (h: WorkflowHandle, pred: (p: RolloutProgress) => boolean) =>
  untilProgress(h, 'the rollout', pred, 60_000);
const devices = async (h: WorkflowHandle) => (await h.query(devicesQuery, {})).devices;
const accepted = (id: string) => stack.sim.upgrades({ smartAgId: id }).length;

describe('health analysis', () => {
  it('fails a device that comes back on the target with its link down, naming the link, and the canary halts on it', async () => {
    const h = await start(['sag-hlnk1', 'sag-hlnk2'], {
      health: HEALTH,
      canary: { count: 1 },
      waves: { cumulativePercents: [100] },
    });
    const p = await until(h, (x) => x.state === 'paused' && x.haltReason !== undefined);
    expect(p.haltReason).toContain('sag-hlnk1');
    const d = (await devices(h)).find((x) => x.smartAgId === 'sag-hlnk1')!;
    // Failed like any failure, then compensated (its policies restored) as the halt compensates.
    expect(d).toMatchObject({ outcome: 'compensated', errorCode: 'HealthCheckFailed', phase: 'health' });
    expect(d.message).toContain('links ccn-01: Active → Inactive');
    expect(d.health?.regressions).toEqual([
      { check: 'links', subject: 'ccn-01', before: 'Active', after: 'Inactive' },
    ]);
    // The simulator took exactly one upgrade; the next wave's device was sent nothing.
    expect(accepted('sag-hlnk1')).toBe(1);
    expect(accepted('sag-hlnk2')).toBe(0);
    expect(stack.sim.devices().find((x) => x.SmartAGId === 'sag-hlnk1')!.SoftwareVersion).toBe('2.4.0.0');
    await h.terminate('test over');
  });

  it('passes a device whose link was down before its upgrade, with a note, and fails a lost controller', async () => {
    const h = await start(['sag-hwas1', 'sag-hok01', 'sag-hctl1'], {
      health: HEALTH,
      canary: { count: 0 },
      waves: { cumulativePercents: [100] },
      failureBudget: {
        maxFailurePercent: 100,
        minFailures: 10,
        maxConsecutiveFailures: 0,
        onBreach: 'pause',
      },
    });
    const r = await h.result();
    expect(r.state).toBe('completed');
    const list = await devices(h);
    const was = list.find((x) => x.smartAgId === 'sag-hwas1')!;
    expect(was.outcome).toBe('upgraded');
    expect(was.message).toContain('no worse than before the upgrade: links ccn-01: Inactive → Inactive');
    expect(was.health?.notes).toEqual([
      { check: 'links', subject: 'ccn-01', before: 'Inactive', after: 'Inactive' },
    ]);
    expect(list.find((x) => x.smartAgId === 'sag-hok01')).toMatchObject({ outcome: 'upgraded' });
    const ctl = list.find((x) => x.smartAgId === 'sag-hctl1')!;
    expect(ctl).toMatchObject({ outcome: 'failed', errorCode: 'HealthCheckFailed' });
    expect(ctl.message).toContain('controller snhctl1a: Normal → Abnormal');

    // The HTML report's health table: the regression as worse, the broken-before link as a note,
    // the healthy device counted.
    const html = renderReport(
      await collectReport(stack.client, h.workflowId.slice('rollout/'.length)),
      'html',
    );
    const section = html.slice(
      html.indexOf('<section id="health">'),
      html.indexOf('<section id="failures">'),
    );
    expect(section).toContain(
      '3 devices compared with their baseline: 1 worse after the upgrade, 1 as healthy as before.',
    );
    expect(section).toMatch(/sag-hctl1.*controller.*snhctl1a.*Normal.*Abnormal.*worse/);
    expect(section).toMatch(/sag-hwas1.*links.*ccn-01.*Inactive.*Inactive.*no worse than before/);
    expect(section).not.toContain('sag-hok01');
  });

  it('passes an HTTP probe that fails twice only after the required successes, with the secret header from the worker only', async () => {
    failFirst.set('/branch/sag-hprb1', 2);
    const h = await start(['sag-hprb1'], {
      health: {
        ...HEALTH,
        probes: [
          {
            name: 'branch',
            url: `${probeBase}/branch/{SmartAGId}`,
            method: 'GET',
            expectStatus: 200,
            bodyRegex: '^ok$',
            timeout: 2000,
            interval: 50,
            successes: 3,
            failureLimit: 5,
          },
        ],
      },
      canary: { count: 0 },
      waves: { cumulativePercents: [100] },
    });
    const r = await h.result();
    expect(r.counts.upgraded).toBe(1);
    const d = (await devices(h))[0]!;
    expect(d.health?.probes).toEqual([
      { name: 'branch', passed: true, evidence: '3 passing answers in a row' },
    ]);
    const hits = probeHits.filter((x) => x.path === '/branch/sag-hprb1');
    expect(hits).toHaveLength(5);
    expect(hits.every((x) => x.token === TOKEN)).toBe(true);
    // The token is in no history: not the rollout's, not the device workflow's.
    for (const id of [h.workflowId, 'upgrade/sag-hprb1']) {
      const history = await stack.client.workflow.getHandle(id).fetchHistory();
      expect(JSON.stringify(history)).not.toContain(TOKEN);
    }
  });

  it('halts the rollout when the wave query after a wave is over its limit', async () => {
    const h = await start(['sag-hwq01', 'sag-hwq02'], {
      health: {
        ...HEALTH,
        waveQuery: {
          name: 'error-rate',
          url: `${probeBase}/rate`,
          jsonPath: '$.data.result[0].value[1]',
          max: 0.05,
          timeout: 2000,
        },
      },
      canary: { count: 1 },
      waves: { cumulativePercents: [100] },
    });
    const p = await until(h, (x) => x.state === 'paused' && x.haltReason !== undefined);
    expect(p.haltReason).toBe('wave query after canary: error-rate = 0.2 > 0.05');
    // The operator's measure halted it, not the failure budget: no breach is shown or counted.
    expect(p.failureBudget).toMatchObject({ failed: 0, finished: 1, breached: false, breaches: 0 });
    expect(accepted('sag-hwq01')).toBe(1);
    expect(accepted('sag-hwq02')).toBe(0);
    // Resumed, the budget's count goes on: the canary stays in it beside the next wave's device.
    await h.executeUpdate(resumeUpdate, { args: [{ by: 'test', requestId: randomUUID() }] });
    const again = await until(
      h,
      (x) => x.state === 'paused' && x.haltReason === 'wave query after wave-1: error-rate = 0.2 > 0.05',
    );
    expect(again.failureBudget).toMatchObject({ failed: 0, finished: 2, breached: false });
    expect(accepted('sag-hwq02')).toBe(1);
    await h.terminate('test over');
  });

  it("joins a wave query breach to the halt its wave's health re-check made, counting and announcing it once", async () => {
    const h = await start(['sag-hwq03', 'sag-hwq04'], {
      healthRecheck: true,
      bake: 3000,
      health: {
        ...HEALTH,
        waveQuery: {
          name: 'error-rate',
          url: `${probeBase}/rate`,
          jsonPath: '$.data.result[0].value[1]',
          max: 0.05,
          timeout: 2000,
        },
      },
      canary: { count: 1 },
      waves: { cumulativePercents: [100] },
    });
    // The canary upgraded and baking: its device drops offline, so the re-check after the bake fails it.
    await until(h, (x) => x.counts.upgraded === 1 && x.gate?.kind === 'bake');
    stack.sim.instance('sag-hwq03')!.devices[0]!.hcState = 'offline';
    const p = await until(h, (x) => x.state === 'paused' && (x.haltReason ?? '').includes('wave query'));
    expect(p.haltReason).toMatch(
      /^health re-check after canary: 1 device unhealthy.*; wave query after canary: error-rate = 0\.2 > 0\.05$/,
    );
    expect(p.failureBudget.breaches).toBe(1);
    const audit = await h.query(auditQuery, 0);
    expect(audit.filter((e) => e.kind === 'halted')).toHaveLength(1);
    expect(audit.filter((e) => e.kind === 'wave-query-breached')).toHaveLength(1);
    expect(accepted('sag-hwq04')).toBe(0);
    await h.terminate('test over');
  });
});
