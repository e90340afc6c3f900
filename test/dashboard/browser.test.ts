import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { WorkflowHandle } from '@temporalio/client';
import { main } from '../../src/cli/main';
import { startDashboard, type Dashboard } from '../../src/dashboard/server';
import { parseOperators, tokenHash } from '../../src/dashboard/identity';
import { abortSignal, auditQuery, progressQuery } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import { rolloutWorkflowId } from '../../domain/ids';
import type { RolloutProgress } from '../../domain/types';
import { fastRolloutPolicy, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { getRolloutStatus } from '../../src/operator/status';
import { wallOf, wallText } from '../../src/windows/zone';
import { uniqueName } from '../helpers/temporal';
import { untilProgress } from '../helpers/progress';

const CHROMIUM = '/usr/bin/chromium';
// Screenshots go to a temporary folder; SAG_SCREENSHOT_DIR=docs/screenshots refreshes the committed ones.
const SHOTS = path.resolve(process.env.SAG_SCREENSHOT_DIR ?? os.tmpdir());
const IDS = Array.from({ length: 10 }, (_, i) => `sag-db${String(i + 1).padStart(2, '0')}`);
/** The device of a rollout whose only change window opens hours from now, in Shanghai. */
const WINDOWED = 'sag-dbw1';

let stack: Stack;
let dash: Dashboard;
let browser: Browser | undefined;
let page: Page;
let handle: WorkflowHandle<typeof rolloutWorkflow>;
const rolloutId = uniqueName('dash');

const until = (pred: (p: RolloutProgress) => boolean, what: string, timeoutMs = 30_000) =>
  untilProgress(handle, what, pred, timeoutMs);

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in a browser', () => {
  beforeAll(async () => {
    stack = await startStack({
      fleet: {
        versions: VERSIONS,
        // Slow enough upgrades that a wave is visibly in progress when the page pauses it.
        instances: [
          ...IDS.map((id, i) =>
            instance(id, {
              simulation: {
                downloadSeconds: 0.05,
                upgradeSeconds: i === 0 ? 0.2 : 1.2,
                outcome: i === 6 ? 'revert' : 'ok',
              },
            }),
          ),
          instance(WINDOWED),
        ],
      },
    });
    dash = await startDashboard({
      client: stack.client,
      port: 0,
      temporalUiUrl: 'http://localhost:8233',
      operator: 'dana',
    });
    handle = await stack.client.workflow.start(rolloutWorkflow, {
      workflowId: rolloutWorkflowId(rolloutId),
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId,
          inventory: IDS.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
          policy: fastRolloutPolicy({
            approval: 'canary',
            concurrency: 2,
            waves: { cumulativePercents: [100] },
            verify: { timeout: 4000, pollInterval: 100, consecutivePolls: 2 },
          }),
          operator: 'alice',
          ticket: 'CHG-2001',
          taskQueue: stack.taskQueue,
        },
      ],
    });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
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
    const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
    // The page must work offline: anything not served by the dashboard is refused.
    await context.route('**/*', (route) =>
      route.request().url().startsWith(dash.url) ? route.continue() : route.abort(),
    );
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dash?.stop();
    await handle
      ?.signal(abortSignal, { by: 'test', requestId: randomUUID(), compensate: false })
      .catch(() => undefined);
    await handle?.result().catch(() => undefined);
    await stack?.stop();
  });

  it('lists the rollout, filtered by state and target version', async () => {
    await stack.run(async () => {
      await until((p) => p.state === 'waiting-approval', 'the canary gate');
      await page.goto(`${dash.url}/`);
      // Visibility lags a moment behind: the list refreshes itself.
      await page.getByRole('link', { name: rolloutId }).waitFor({ timeout: 15_000 });
      await page.locator('select[name=state]').selectOption('waiting-approval');
      await page.locator('input[name=target]').fill('2.4.0.0');
      await page.getByRole('link', { name: rolloutId }).waitFor();
      expect(
        await page.locator('table.rollouts tbody tr').filter({ hasText: rolloutId }).innerText(),
      ).toContain('waiting-approval');
      await page.locator('input[name=target]').fill('9.9.9.9');
      await page.getByText('No rollout matches.').waitFor();
      await page.locator('input[name=target]').fill('');
      await page.locator('select[name=state]').selectOption('');
      await page.getByRole('link', { name: rolloutId }).waitFor();
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-list.png') });
    });
  });

  it('approves the gate and pauses a running wave from the page, as the operator named there', async () => {
    await stack.run(async () => {
      await page.getByRole('link', { name: rolloutId }).click();
      await page.locator('#gate').getByText('wave-1 waits for approval').waitFor();
      expect(await page.locator('tr[data-wave="0"] [data-done]').innerText()).toBe('1/1');
      expect(await page.locator('.cell[data-outcome=upgraded]').count()).toBe(1);
      const link = await page
        .locator('.cell')
        .first()
        .click()
        .then(() => page.getByRole('link', { name: /Temporal UI/ }).getAttribute('href'));
      expect(link).toBe(`http://localhost:8233/namespaces/default/workflows/upgrade%2F${IDS[0]}`);

      await page.locator('input[name=by]').fill('dana');
      await page.locator('input[name=reason]').fill('canary healthy');
      await page.locator('#gate button').click();
      await page.getByRole('dialog').getByText(`approved by dana`).waitFor();
      await page.locator('[data-confirm]').click();
      await page.locator('#toast').getByText('wave-1 approved by dana').waitFor();

      // Watch wave 1 progress live (no reload), then pause it while devices are in flight.
      const wave1 = page.locator('tr[data-wave="1"] [data-done]');
      for (const deadline = Date.now() + 20_000; ;) {
        const done = Number((await wave1.innerText()).split('/')[0]);
        if (done >= 1 && done < 9) break;
        if (Date.now() > deadline) throw new Error('wave 1 never showed progress on the page');
        await new Promise((r) => setTimeout(r, 100));
      }
      await page.locator('input[name=reason]').fill('pausing for the evening');
      await page.getByRole('button', { name: 'Pause…' }).click();
      await page.locator('[data-confirm]').click();
      await page
        .locator('#toast')
        .getByText(/^pause: paused/)
        .waitFor();
      await page.locator('.title .badge').getByText('paused').waitFor();
      // Paused while wave 1 runs: the page says the pause holds that wave, not that it is still to come.
      expect(await page.locator('#gate').innerText({ timeout: 5_000 })).toMatch(/^Paused in wave-1\b/);
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-rollout.png'), fullPage: true });

      const p = await handle.query(progressQuery);
      expect(p.state).toBe('paused');
      expect(p.waves[1]!.state).toBe('running');
      const audit = await handle.query(auditQuery, 0);
      expect(audit.find((a) => a.kind === 'approve')).toMatchObject({ by: 'dana', reason: 'canary healthy' });
      expect(audit.find((a) => a.kind === 'pause')).toMatchObject({
        by: 'dana',
        reason: 'pausing for the evening',
      });
    });
  });

  it('shows the same state as `status --json` of the CLI', async () => {
    await stack.run(async () => {
      const chunks: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
        chunks.push(String(c));
        return true;
      });
      try {
        await main([
          'node',
          'sag-rollout',
          '--address',
          inject('temporalAddress'),
          '--json',
          'status',
          rolloutId,
        ]);
      } finally {
        spy.mockRestore();
      }
      const status = JSON.parse(chunks.join('')) as { state: string };
      expect(status.state).toBe('paused');
      expect(await page.locator('.title .badge').innerText()).toBe(status.state);
    });
  });

  it('shows when a waiting change window opens in its own time zone, and offers every state as a filter', async () => {
    // A daily window three hours from now on Shanghai's wall clock: the part waits for it.
    const hour = (new Date(wallOf('Asia/Shanghai', Date.now())).getUTCHours() + 3) % 24;
    const id = uniqueName('dashwin');
    const windowed = await stack.client.workflow.start(rolloutWorkflow, {
      workflowId: rolloutWorkflowId(id),
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId: id,
          inventory: [{ smartAgId: WINDOWED, regionId: 'cn-shanghai' }],
          policy: fastRolloutPolicy({
            expectedUpgradeTime: 1000,
            windows: [
              {
                kind: 'recurring',
                name: 'shanghai nights',
                cron: `0 ${hour} * * *`,
                duration: 3_600_000,
                timeZone: 'Asia/Shanghai',
              },
            ],
          }),
          operator: 'alice',
          taskQueue: stack.taskQueue,
        },
      ],
    });
    try {
      await stack.run(async () => {
        let opens = 0;
        for (const deadline = Date.now() + 30_000; opens === 0;) {
          const s = await getRolloutStatus(stack.client, id);
          if (s.state === 'waiting-window' && s.part?.nextWindowAt) opens = s.part.nextWindowAt;
          else if (Date.now() > deadline) throw new Error(`never waited for the window (${s.state})`);
          else await new Promise((r) => setTimeout(r, 200));
        }
        expect(new Date(wallOf('Asia/Shanghai', opens)).getUTCHours()).toBe(hour);
        await page.goto(`${dash.url}/rollouts/${encodeURIComponent(id)}`);
        const gate = page.locator('#gate');
        await gate.getByText('Waiting for a change window').waitFor({ timeout: 15_000 });
        const utc = new Date(opens).toISOString().slice(0, 16).replace('T', ' ');
        expect(await gate.innerText()).toContain(
          `opens ${wallText('Asia/Shanghai', opens)} Asia/Shanghai (${utc}Z)`,
        );

        await page.goto(`${dash.url}/`);
        const states = await page.locator('select[name=state] option').allInnerTexts();
        expect(states).toEqual(expect.arrayContaining(['aborting', 'aborted', 'waiting-window']));
      });
    } finally {
      await windowed
        .signal(abortSignal, { by: 'test', requestId: randomUUID(), compensate: false })
        .catch(() => undefined);
      await stack.run(() => windowed.result().catch(() => undefined));
    }
  });

  it("with per-operator tokens, shows the token's operator and offers no name to type; the command records that operator", async () => {
    const token = randomUUID();
    const signed = await startDashboard({
      client: stack.client,
      port: 0,
      operators: parseOperators(`operators:\n  bob: "${tokenHash(token)}"\n`),
    });
    const context = await browser!.newContext({ viewport: { width: 1360, height: 1000 } });
    try {
      // A name typed on this browser before: it must not stand in for the token's operator.
      await context.addInitScript("localStorage.setItem('sag-operator', 'mallory')");
      const p = await context.newPage();
      await stack.run(async () => {
        expect((await handle.query(progressQuery)).state).toBe('paused');
        await p.goto(`${signed.url}/rollouts/${encodeURIComponent(rolloutId)}?token=${token}`);
        await p.locator('#signed-in').waitFor({ timeout: 15_000 });
        expect(await p.locator('#signed-in').innerText()).toBe('Signed in as bob (dashboard:bob)');
        expect(await p.locator('input[name=by]').count()).toBe(0);
        await p.getByRole('button', { name: 'Resume…' }).click();
        await p.locator('[data-confirm]').click();
        await p
          .locator('#toast')
          .getByText(/^resume: /)
          .waitFor();
        const audit = await handle.query(auditQuery, 0);
        expect(audit.filter((a) => a.kind === 'resume').at(-1)).toMatchObject({
          by: 'bob',
          detail: expect.objectContaining({ identity: 'dashboard:bob' }) as unknown,
        });
      });
    } finally {
      await context.close();
      await signed.stop();
    }
  });
});
