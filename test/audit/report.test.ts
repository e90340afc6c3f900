import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import {
  collectReport,
  renderCallsCsv,
  renderReport,
  writeReportFiles,
  type ReportData,
} from '../../src/audit/report';
import { approveUpdate, excludeUpdate, partProgressQuery, resumeUpdate } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import type { RolloutProgress } from '../../domain/types';
import { fastRolloutPolicy, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { untilProgress } from '../helpers/progress';

const CHROMIUM = '/usr/bin/chromium';
// Screenshots go to a temporary folder; SAG_SCREENSHOT_DIR=docs/screenshots refreshes the committed ones.
const SCREENSHOT = path.resolve(process.env.SAG_SCREENSHOT_DIR ?? os.tmpdir(), 'report.png');

// Inventory order makes the plan: canary [c1], wave-1 [o2, on, rv], wave-2 [o3, x].
const C1 = 'sag-rpc1';
const O2 = 'sag-rpo2';
const ON = 'sag-rpon';
const RV = 'sag-rprv';
const O3 = 'sag-rpo3';
/** Never started (excluded), so its ID only has to survive the report, not the simulator. */
const X = 'sag-rpx<b>"&\'';
const HOSTILE_REASON = '<script>alert("x")</script> change board said no';
const FLEET_IDS = [C1, O2, ON, RV, O3];

let stack: Stack;
let handle: WorkflowHandle<typeof rolloutWorkflow>;
let data: ReportData;
const rolloutId = uniqueName('rep');

const until = (pred: (p: RolloutProgress) => boolean, what: string, timeoutMs = 30_000) =>
  untilProgress(handle, what, pred, timeoutMs);

const cmd = (by: string, reason?: string) => ({ by, reason, requestId: randomUUID() });

beforeAll(async () => {
  stack = await startStack({
    fleet: {
      versions: VERSIONS,
      instances: [
        instance(C1),
        instance(O2),
        instance(ON, {}, { SoftwareVersion: '2.4.0.0' }),
        // Offline long enough that the verify polls see the restart before it comes back on the old version.
        instance(RV, { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.6, outcome: 'revert' } }),
        instance(O3),
      ],
    },
    requestLogSize: 10_000,
  });
  handle = await stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId,
        inventory: [C1, O2, ON, RV, O3, X].map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
        policy: fastRolloutPolicy({
          waves: { cumulativePercents: [60, 100] },
          approval: 'canary',
          failureBudget: {
            maxFailurePercent: 0,
            minFailures: 1,
            maxConsecutiveFailures: 0,
            onBreach: 'pause',
          },
          compensation: { repairHaPairs: true, requestPreviousVersion: true },
          verify: { timeout: 2500, pollInterval: 100, consecutivePolls: 2 },
        }),
        operator: 'alice',
        ticket: 'CHG-4711',
        taskQueue: stack.taskQueue,
      },
    ],
  });
  await stack.run(async () => {
    await until((p) => p.state === 'waiting-approval', 'the canary gate');
    expect(
      (
        await handle.executeUpdate(excludeUpdate, {
          args: [{ ...cmd('carol', HOSTILE_REASON), smartAgIds: [X] }],
        })
      ).accepted,
    ).toBe(true);
    expect(
      (await handle.executeUpdate(approveUpdate, { args: [{ ...cmd('bob', 'wrong gate'), wave: 2 }] }))
        .accepted,
    ).toBe(false);
    expect(
      (await handle.executeUpdate(approveUpdate, { args: [cmd('bob', 'canary healthy')] })).accepted,
    ).toBe(true);
    // The reverted device breaches the zero-failure budget: the part compensates its batch and halts.
    const halted = await until(
      (p) => p.state === 'paused' && p.haltReason !== undefined && p.activePart !== undefined,
      'the budget breach',
    );
    const part = stack.client.workflow.getHandle(halted.activePart!);
    for (const deadline = Date.now() + 30_000; ;) {
      const pp = await part.query(partProgressQuery);
      if (pp.state === 'halted' && pp.counts.compensated >= 2) break;
      if (Date.now() > deadline) throw new Error(`part never finished compensating: ${JSON.stringify(pp)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(
      (await handle.executeUpdate(resumeUpdate, { args: [cmd('alice', 'reverted device analysed')] }))
        .accepted,
    ).toBe(true);
    const r = await handle.result();
    expect(r.state).toBe('completed');
    data = await collectReport(stack.client, rolloutId);
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('collectReport', () => {
  it('lists every device once with its outcome, versions, failure phase and code', () => {
    const ids = data.devices.map((d) => d.smartAgId);
    expect([...ids].sort()).toEqual([C1, O2, ON, RV, O3, X].sort());
    const by = Object.fromEntries(data.devices.map((d) => [d.smartAgId, d]));
    expect(by[C1]).toMatchObject({
      outcome: 'upgraded',
      wave: 0,
      serials: [{ serialNumber: 'snrpc1a', from: '2.3.0.0', to: '2.4.0.0' }],
    });
    expect(by[O3]).toMatchObject({ outcome: 'upgraded', wave: 2 });
    expect(by[ON]).toMatchObject({
      outcome: 'skipped',
      errorCode: 'AlreadyOnTarget',
      serials: [{ from: '2.4.0.0', to: '2.4.0.0' }],
    });
    expect(by[RV]).toMatchObject({ outcome: 'compensated', phase: 'verify', errorCode: 'UpgradeReverted' });
    expect(by[O2]).toMatchObject({ outcome: 'compensated' });
    expect(by[X]).toMatchObject({ outcome: 'excluded', message: HOSTILE_REASON });
    // Asking for the previous version is refused by Alibaba: reported with its RequestId.
    expect(by[O2]!.notReversible).toEqual([
      expect.objectContaining({
        serialNumber: 'snrpo2a',
        version: '2.3.0.0',
        code: 'VersionTooOld',
        requestId: expect.any(String) as string,
      }),
    ]);
    expect(by[RV]!.runs.map((r) => r.mode)).toEqual(['upgrade', 'compensate']);
    expect(data.failures).toEqual([
      expect.objectContaining({ code: 'UpgradeReverted', count: 1, devices: [RV] }),
    ]);
  });

  it('lists every UpdateSmartAccessGatewayVersion call with the RequestId the simulator logged', () => {
    const logged = stack.sim
      .requests(10_000)
      .filter((q) => q.action === 'UpdateSmartAccessGatewayVersion' && FLEET_IDS.includes(q.smartAgId ?? ''));
    const reported = data.calls.filter((c) => c.action === 'UpdateSmartAccessGatewayVersion');
    // c1, o2, rv, o3 upgraded once each; o2 asked back to 2.3.0.0 and refused.
    expect(logged).toHaveLength(5);
    expect(reported.map((c) => [c.smartAgId, c.serialNumber, c.requestId, c.code ?? null]).sort()).toEqual(
      logged.map((q) => [q.smartAgId, q.serialNumber, q.requestId, q.code ?? null]).sort(),
    );
    expect(reported.find((c) => c.code === 'VersionTooOld')).toMatchObject({
      smartAgId: O2,
      httpStatus: 403,
    });
  });

  it('accounts for every call of every device workflow', () => {
    const loggedIds = new Set(
      stack.sim
        .requests(10_000)
        .filter((q) => FLEET_IDS.includes(q.smartAgId ?? ''))
        .map((q) => q.requestId),
    );
    const reportedIds = new Set(data.calls.filter((c) => c.smartAgId).map((c) => c.requestId));
    expect(reportedIds).toEqual(loggedIds);
    for (const d of data.devices)
      for (const r of d.runs) expect(r.calls, `${r.workflowId} ${r.runId}`).toBe(r.reportedCalls);
    // The rollout's own bulk health re-checks are there too.
    expect(
      data.calls.some(
        (c) => c.action === 'DescribeSmartAccessGateways' && c.workflowId === `rollout/${rolloutId}`,
      ),
    ).toBe(true);
  });

  it('keeps the audit trail: who started it and under which ticket, approvals, refusals, exclusions, the halt, the resume', () => {
    expect(data.progress).toMatchObject({
      operator: 'alice',
      ticket: 'CHG-4711',
      state: 'completed',
      targetVersion: '2.4.0.0',
    });
    expect(data.policy?.approval).toBe('canary');
    const kinds = data.audit.map((a) => a.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'started',
        'gate-waiting',
        'exclude',
        'approve-refused',
        'approve',
        'halted',
        'resume',
        'completed',
      ]),
    );
    expect(data.audit.find((a) => a.kind === 'approve')).toMatchObject({
      by: 'bob',
      reason: 'canary healthy',
    });
    expect(data.audit.find((a) => a.kind === 'exclude')).toMatchObject({
      by: 'carol',
      reason: HOSTILE_REASON,
    });
    expect(data.waves.map((w) => [w.name, w.devices.length])).toEqual([
      ['canary', 1],
      ['wave-1', 3],
      ['wave-2', 2],
    ]);
    expect(data.warnings).toEqual([]);
  });
});

describe('renderReport', () => {
  it('writes JSON Lines with a typed record per summary, wave, audit entry, device and call', () => {
    const lines = renderReport(data, 'jsonl')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]).toMatchObject({ type: 'summary', rolloutId, operator: 'alice', ticket: 'CHG-4711' });
    const count = (t: string) => lines.filter((l) => l.type === t).length;
    expect([count('summary'), count('wave'), count('audit'), count('device'), count('call')]).toEqual([
      1,
      3,
      data.audit.length,
      6,
      data.calls.length,
    ]);
  });

  it('writes a CSV row per device and a CSV row per call', () => {
    const rows = renderReport(data, 'csv').trimEnd().split('\r\n');
    expect(rows).toHaveLength(7);
    expect(rows.find((r) => r.startsWith(`${C1},`))).toContain(',upgraded,snrpc1a,2.3.0.0,2.4.0.0,');
    expect(renderCallsCsv(data).trimEnd().split('\r\n')).toHaveLength(data.calls.length + 1);
  });

  it('never contains a credential, and escapes every text in HTML', () => {
    for (const format of ['jsonl', 'csv', 'html'] as const) {
      const out = renderReport(data, format);
      expect(out).not.toContain(stack.sim.accessKeySecret);
      expect(out).not.toContain(stack.sim.accessKeyId);
    }
    const html = renderReport(data, 'html');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('sag-rpx&lt;b&gt;&quot;&amp;&#39;');
  });

  it('writes every format into a directory', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sag-report-'));
    const files = await stack.run(() =>
      writeReportFiles(stack.client, rolloutId, dir, { visibilityWaitMs: 0 }),
    );
    expect(files.map((f) => path.basename(f))).toEqual([
      `${rolloutId}.jsonl`,
      `${rolloutId}.devices.csv`,
      `${rolloutId}.calls.csv`,
      `${rolloutId}.html`,
    ]);
    for (const f of files) expect(existsSync(f)).toBe(true);
    expect(readFileSync(files[3]!, 'utf8')).toContain('CHG-4711');
    // The long files are written a line at a time; they read back as the one-piece renderings.
    expect(readFileSync(files[2]!, 'utf8')).toBe(renderCallsCsv(data));
    const jsonl = readFileSync(files[0]!, 'utf8');
    expect(jsonl.endsWith('}\n')).toBe(true);
    // All but the summary line, whose generatedAt is the time of collection.
    expect(jsonl.split('\n').slice(1)).toEqual(renderReport(data, 'jsonl').split('\n').slice(1));
  });
});

describe('the HTML report in a browser', () => {
  it.skipIf(!existsSync(CHROMIUM))(
    'shows the summary, the device table and the calls with JavaScript disabled',
    async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      try {
        const context = await browser.newContext({
          javaScriptEnabled: false,
          viewport: { width: 1400, height: 900 },
        });
        const page = await context.newPage();
        const external: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith('data:') && !r.url().startsWith('about:')) external.push(r.url());
        });
        await page.setContent(renderReport(data, 'html'), { waitUntil: 'load' });
        expect(external).toEqual([]);
        expect(await page.locator('h1').innerText()).toContain(rolloutId);
        const rows = page.locator('#devices tbody tr');
        expect(await rows.count()).toBe(6);
        const rv = rows.filter({ hasText: RV });
        expect(await rv.locator('td').nth(3).innerText()).toBe('compensated');
        expect(await rv.innerText()).toContain('UpgradeReverted');
        expect(await rows.filter({ hasText: 'sag-rpx<b>' }).count()).toBe(1);
        expect(await page.locator('#calls tbody tr').count()).toBe(data.calls.length);
        expect(await page.locator('#audit').innerText()).toContain(HOSTILE_REASON);
        expect(await page.locator('#failures').innerText()).toContain('UpgradeReverted');
        // Nothing wider than the 1,400 px window: long messages wrap, wide tables scroll in their section.
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1400);
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-top.png') });
      } finally {
        await browser.close();
      }
    },
  );
  if (!existsSync(CHROMIUM))
    process.stderr.write(`skipping the browser check of the HTML report: ${CHROMIUM} is not installed\n`);
});
