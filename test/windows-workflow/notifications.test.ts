import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectReport } from '../../src/audit/report';
import { loadWebhooks } from '../../src/config/webhooks';
import { approveUpdate, resumeUpdate } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import type { RolloutPolicy } from '../../domain/types';
import { fastRolloutPolicy, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { inventory, pollUntil, progressUntil } from './helpers';

// Webhooks: a local HTTP server on 127.0.0.1 records what each path receives and can answer 500
// for the first requests of a path or never answer at all. Policies name the webhooks; the worker
// has their URLs from its environment (SAG_WEBHOOK_<NAME>_URL).

interface Received {
  path: string;
  /** When the request arrived (ms since the epoch). */
  time: number;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

let stack: Stack;
let server: http.Server;
let base: string;
const received: Received[] = [];
/** Path → how many requests it still answers with HTTP 500. */
const failFirst: Record<string, number> = {};
const HANG = '/hang';

const NOTIFY = ['sag-ntf01', 'sag-ntf02', 'sag-ntf03'];
const FLAKY = ['sag-nfl01', 'sag-nfl02'];
const LATE = ['sag-nlt01'];
const UNKNOWN = ['sag-nun01'];
const LEGACY = ['sag-nlg01'];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({
        path,
        time: Date.now(),
        contentType: req.headers['content-type'],
        body: JSON.parse(data || '{}') as Record<string, unknown>,
      });
      if (path === HANG) return; // never answers
      if ((failFirst[path] ?? 0) > 0) {
        failFirst[path]!--;
        res.writeHead(500).end('busy');
        return;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stack = await startStack(
    {
      fleet: {
        versions: VERSIONS,
        instances: [
          // The canary reverts after its upgrade: the rollout halts on it.
          instance(NOTIFY[0]!, {
            simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' },
          }),
          ...NOTIFY.slice(1).map((id) => instance(id)),
          ...FLAKY.map((id) => instance(id)),
          ...LATE.map((id) => instance(id)),
          ...UNKNOWN.map((id) => instance(id)),
          ...LEGACY.map((id) => instance(id)),
        ],
      },
    },
    {
      sharedQuota: false,
      webhooks: loadWebhooks({
        env: Object.fromEntries(
          ['json', 'chat', 'hang', 'flaky', 'ok', 'late', 'spare'].map((name) => [
            `SAG_WEBHOOK_${name.toUpperCase()}_URL`,
            `${base}/${name}`,
          ]),
        ),
      }),
    },
  );
});
afterAll(async () => {
  server?.closeAllConnections();
  await stack?.stop();
  await new Promise((r) => server?.close(r));
});

const cmd = (by: string, reason: string) => ({ by, reason, requestId: randomUUID() });
const at = (path: string) => received.filter((r) => r.path === path);

async function start(ids: string[], policy: Partial<RolloutPolicy>) {
  const rolloutId = uniqueName('ntf');
  const handle = await stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId,
        inventory: inventory(ids),
        policy: fastRolloutPolicy(policy),
        operator: 'alice',
        ticket: 'CHG-9',
        taskQueue: stack.taskQueue,
      },
    ],
  });
  return { rolloutId, handle };
}

describe('rollout notifications', () => {
  it('posts rollout-started, halted, wave-done, gate-waiting and completed with the documented bodies, each webhook only the events it asks for', async () => {
    const { rolloutId, handle } = await start(NOTIFY, {
      canary: { count: 1 },
      waves: { cumulativePercents: [100] },
      approval: 'canary',
      webhooks: [
        { name: 'json', format: 'json' },
        { name: 'chat', format: 'chat', events: ['completed'] },
      ],
    });
    await progressUntil(
      handle,
      (p) => p.state === 'paused' && p.haltReason !== undefined,
      40_000,
      'the canary halt',
    );
    await handle.executeUpdate(resumeUpdate, { args: [cmd('alice', 'canary device replaced')] });
    await progressUntil(handle, (p) => p.state === 'waiting-approval', 40_000, 'the approval gate');
    await handle.executeUpdate(approveUpdate, { args: [{ ...cmd('bob', 'looks fine'), wave: 1 }] });
    const result = await stack.run(() => handle.result());
    expect(result.state).toBe('completed');

    const json = await pollUntil(
      async () => at('/json'),
      (list) => list.some((r) => r.body.event === 'completed'),
      30_000,
      'the completed notification',
    );
    const bodies = json
      .map((r) => r.body)
      .sort((a, b) => Date.parse(String(a.at)) - Date.parse(String(b.at)));
    const iso: unknown = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const canaryReason: unknown = expect.stringMatching(/^canary device sag-ntf01 failed/);
    expect(bodies).toEqual([
      { event: 'rollout-started', rolloutId, at: iso, detail: { devices: 3, target: '2.4.0.0' } },
      // The budget figure the halt decision evaluated: the canary's one failed device of one finished.
      {
        event: 'halted',
        rolloutId,
        at: iso,
        detail: { reason: canaryReason, wave: 0, name: 'canary', budgetFailed: 1, budgetFinished: 1 },
      },
      { event: 'wave-done', rolloutId, at: iso, detail: { wave: 0, name: 'canary' } },
      { event: 'gate-waiting', rolloutId, at: iso, detail: { wave: 1, name: 'wave-1' } },
      { event: 'wave-done', rolloutId, at: iso, detail: { wave: 1, name: 'wave-1' } },
      { event: 'completed', rolloutId, at: iso, detail: { devices: 3 } },
    ]);
    expect(json.every((r) => r.contentType === 'application/json')).toBe(true);

    const chat = at('/chat');
    const line = `[sag-rollout] ${rolloutId}: completed (devices=3)`;
    expect(chat.map((r) => r.body)).toEqual([{ msgtype: 'text', text: { content: line }, text_plain: line }]);
  });

  it('retries a webhook that answers 500 at first, and neither it nor one that never answers holds up the rollout or the other webhooks', async () => {
    failFirst['/flaky'] = 2;
    const { rolloutId, handle } = await start(FLAKY, {
      canary: { count: 1 },
      waves: { cumulativePercents: [100] },
      approval: 'canary',
      webhooks: [
        { name: 'hang', format: 'json' },
        { name: 'flaky', format: 'json', events: ['rollout-started'] },
        { name: 'ok', format: 'chat' },
      ],
    });
    // The rollout reaches its gate while one webhook hangs and another fails.
    await progressUntil(handle, (p) => p.state === 'waiting-approval', 40_000, 'the approval gate');
    expect(at(HANG).some((r) => r.body.event === 'rollout-started' && r.body.rolloutId === rolloutId)).toBe(
      true,
    );
    // Retried while the rollout runs on: 500, 500, then delivered, once.
    const flaky = await pollUntil(
      async () => at('/flaky'),
      (l) => l.length >= 3,
      40_000,
      'the retried delivery',
    );
    expect(flaky.map((r) => r.body)).toEqual(
      [1, 2, 3].map(() => ({
        event: 'rollout-started',
        rolloutId,
        at: flaky[0]!.body.at,
        detail: { devices: 2, target: '2.4.0.0' },
      })),
    );
    expect(failFirst['/flaky']).toBe(0);
    await handle.executeUpdate(approveUpdate, { args: [{ ...cmd('bob', 'go'), wave: 1 }] });
    const result = await stack.run(() => handle.result());
    expect(result).toMatchObject({ state: 'completed', counts: { upgraded: 2 } });
    // The healthy webhook, listed after the one that never answers, has every event.
    const ok = await pollUntil(
      async () => at('/ok'),
      (l) => l.some((r) => JSON.stringify(r.body).includes(': completed')),
      20_000,
      'events at the healthy webhook',
    );
    const events = ok.map((r) => /: ([a-z-]+)/.exec((r.body.text as { content: string }).content)?.[1]);
    expect(events.sort()).toEqual(['completed', 'gate-waiting', 'rollout-started', 'wave-done', 'wave-done']);
    expect(at('/flaky')).toHaveLength(3);
  });

  it('keeps retrying the closing event after the rollout has closed, from a workflow of its own', async () => {
    // Three refusals: the fourth attempt comes 2 + 4 + 8 s after the first, well after the close.
    failFirst['/late'] = 3;
    const { rolloutId, handle } = await start(LATE, {
      canary: { count: 0 },
      waves: { cumulativePercents: [100] },
      webhooks: [{ name: 'late', format: 'json', events: ['completed'] }],
    });
    const result = await stack.run(() => handle.result());
    expect(result.state).toBe('completed');
    const closedAt = (await handle.describe()).closeTime!.getTime();
    // 500, 500, 500, then delivered: the retries run after the rollout closed.
    const late = await pollUntil(
      async () => at('/late'),
      (l) => l.length >= 4,
      40_000,
      'the retried closing event',
    );
    expect(late.map((r) => r.body)).toEqual(
      [1, 2, 3, 4].map(() => ({
        event: 'completed',
        rolloutId,
        at: late[0]!.body.at,
        detail: { devices: 1 },
      })),
    );
    expect(late[3]!.time).toBeGreaterThan(closedAt);
    const delivery = stack.client.workflow.getHandle(`rollout/${rolloutId}/notify-completed`);
    expect(await delivery.result()).toEqual({ delivered: 1, failed: [] });
    expect(at('/late')).toHaveLength(4);
  });
  it('fails every delivery to a webhook name the worker does not know, as WebhookNotConfigured, and delivers to the others', async () => {
    const { rolloutId, handle } = await start(UNKNOWN, {
      canary: { count: 0 },
      waves: { cumulativePercents: [100] },
      webhooks: [
        { name: 'ghost', format: 'chat', events: ['completed'] },
        { name: 'spare', format: 'json', events: ['completed'] },
      ],
    });
    const result = await stack.run(() => handle.result());
    expect(result.state).toBe('completed');
    const delivery = stack.client.workflow.getHandle(`rollout/${rolloutId}/notify-completed`);
    expect(await delivery.result()).toEqual({ delivered: 1, failed: [0] });
    expect(at('/spare').map((r) => r.body)).toEqual([
      expect.objectContaining({ event: 'completed', rolloutId }),
    ]);
    const failures = (await delivery.fetchHistory()).events!.flatMap((e) =>
      e.activityTaskFailedEventAttributes?.failure ? [e.activityTaskFailedEventAttributes.failure] : [],
    );
    // Not retried: one attempt, failed with the type and the remedy.
    expect(failures).toHaveLength(1);
    expect(failures[0]!.applicationFailureInfo?.type).toBe('WebhookNotConfigured');
    expect(failures[0]!.applicationFailureInfo?.nonRetryable).toBe(true);
    expect(failures[0]!.message).toMatch(
      /^webhook ghost is not configured on this worker: set SAG_WEBHOOK_GHOST_URL/,
    );
  });
  it("still delivers to a URL in a rollout started before webhooks were named, and its report shows only the URL's origin", async () => {
    const { rolloutId, handle } = await start(LEGACY, {
      canary: { count: 0 },
      waves: { cumulativePercents: [100] },
      webhooks: [{ url: `${base}/legacy?access_token=t0ken`, format: 'json', events: ['completed'] }],
    });
    expect((await stack.run(() => handle.result())).state).toBe('completed');
    expect(await stack.client.workflow.getHandle(`rollout/${rolloutId}/notify-completed`).result()).toEqual({
      delivered: 1,
      failed: [],
    });
    expect(at('/legacy?access_token=t0ken').map((r) => r.body)).toEqual([
      expect.objectContaining({ event: 'completed', rolloutId }),
    ]);
    const report = await collectReport(stack.client, rolloutId, { visibilityWaitMs: 0 });
    expect(report.policy?.webhooks).toEqual([{ url: `${base}/…`, format: 'json', events: ['completed'] }]);
  });
});
