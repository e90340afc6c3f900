import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { parseOperators, tokenHash } from '../../src/dashboard/identity';
import { startDashboard, type Dashboard } from '../../src/dashboard/server';
import { rolloutWorkflow } from '../../workflows/rollout';
import { auditQuery, progressQuery } from '../../workflows/messages';
import { fastRolloutPolicy, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { untilProgress } from '../helpers/progress';
import { BIN, ensureBuilt, tempDir } from '../cli/helpers';

// The dashboard's operator is who a per-operator token or a trusted proxy says, not the name typed
// on the page; approverMustDiffer compares those identities.
let stack: Stack;
let byToken: Dashboard;
let bySso: Dashboard;
let byBoth: Dashboard;
const ALICE = randomBytes(16).toString('hex');
const BOB = randomBytes(16).toString('hex');
const SHARED = randomBytes(16).toString('hex');
const IDS = ['sag-did01', 'sag-did02', 'sag-did03', 'sag-did04', 'sag-did05', 'sag-did06'];

beforeAll(async () => {
  stack = await startStack({ fleet: { versions: VERSIONS, instances: IDS.map((id) => instance(id)) } });
  const operators = parseOperators(
    `operators:\n  alice: "${tokenHash(ALICE)}"\n  bob: "${tokenHash(BOB)}"\n`,
  );
  byToken = await startDashboard({ client: stack.client, port: 0, operators });
  bySso = await startDashboard({ client: stack.client, port: 0, trustHeader: 'X-Forwarded-User' });
  byBoth = await startDashboard({
    client: stack.client,
    port: 0,
    operators,
    trustHeader: 'X-Forwarded-User',
    token: SHARED,
  });
});
afterAll(async () => {
  await byToken?.stop();
  await bySso?.stop();
  await byBoth?.stop();
  await stack?.stop();
});

/** A rollout waiting at its canary gate, started by `operator` authenticated as `identity`. */
async function gated(ids: string[], operator: string, identity: string): Promise<WorkflowHandle> {
  const rolloutId = uniqueName('did');
  const h = await stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId,
        inventory: ids.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
        policy: fastRolloutPolicy({
          approval: 'canary',
          approverMustDiffer: true,
          waves: { cumulativePercents: [100] },
        }),
        operator,
        operatorIdentity: identity,
        taskQueue: stack.taskQueue,
      },
    ],
  });
  await untilProgress(h, 'the canary gate', (p) => p.state === 'waiting-approval', 30_000);
  return h;
}

function approve(d: Dashboard, h: WorkflowHandle, headers: Record<string, string>, by: string) {
  const id = h.workflowId.slice('rollout/'.length);
  return fetch(`${d.url}/api/rollouts/${encodeURIComponent(id)}/commands`, {
    method: 'POST',
    headers: { origin: d.url, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ command: 'approve', by, reason: 'canary fine' }),
  });
}

describe('dashboard operator identity', () => {
  it('refuses an operators file entry that is not a token hash, naming it', () => {
    expect(() => parseOperators('alice: hunter2\nbob: "sha256:abc"\n')).toThrow(
      /alice: the token's hash as "sha256:<64 hex digits>".*bob: the token's hash/,
    );
    expect(() => parseOperators('"al ice": "' + tokenHash('x') + '"\n')).toThrow(/"al ice": a name of 1-64/);
  });

  it('with per-operator tokens: no token, no command; the token names the operator, whatever the page typed', async () => {
    const h = await gated(IDS.slice(0, 2), 'alice', 'dashboard:alice');
    expect((await approve(byToken, h, {}, 'bob')).status).toBe(401);
    // Alice's token under the display name "bob": refused, she started it.
    const asAlice = await approve(byToken, h, { authorization: `Bearer ${ALICE}` }, 'bob');
    expect(asAlice.status).toBe(200);
    expect(
      ((await asAlice.json()) as { result: { accepted: boolean; message: string } }).result,
    ).toMatchObject({
      accepted: false,
      message: expect.stringContaining('authenticated as dashboard:alice') as unknown,
    });
    expect((await h.query(progressQuery)).state).toBe('waiting-approval');
    // Bob's token: approved as bob, whatever name the page sent.
    const asBob = await approve(byToken, h, { authorization: `Bearer ${BOB}` }, 'someone');
    expect(((await asBob.json()) as { result: { accepted: boolean } }).result.accepted).toBe(true);
    const audit = await h.query(auditQuery, 0);
    expect(audit.find((e) => e.kind === 'approve-refused')).toMatchObject({
      by: 'alice',
      detail: expect.objectContaining({ identity: 'dashboard:alice' }) as unknown,
    });
    expect(audit.find((e) => e.kind === 'approve')).toMatchObject({
      by: 'bob',
      detail: expect.objectContaining({ identity: 'dashboard:bob' }) as unknown,
    });
    // The approved wave runs to the end: no device workflow is left in flight for the worker's shutdown.
    expect(((await stack.run(() => h.result())) as { state: string }).state).toBe('completed');
  });

  it('behind a trusted proxy: the header names the operator; the starter under another name is refused', async () => {
    const h = await gated(IDS.slice(2), 'carol', 'sso:carol');
    expect((await approve(bySso, h, {}, 'dave')).status).toBe(401);
    const asCarol = await approve(bySso, h, { 'x-forwarded-user': 'carol' }, 'dave');

    expect(((await asCarol.json()) as { result: { accepted: boolean } }).result.accepted).toBe(false);
    const asDave = await approve(bySso, h, { 'x-forwarded-user': 'dave' }, 'carol');
    expect(((await asDave.json()) as { result: { accepted: boolean } }).result.accepted).toBe(true);
    const audit = await h.query(auditQuery, 0);
    expect(audit.find((e) => e.kind === 'approve')).toMatchObject({
      by: 'dave',
      detail: expect.objectContaining({ identity: 'sso:dave' }) as unknown,
    });
    // The approved wave runs to the end: no device workflow is left in flight for the worker's shutdown.
    expect(((await stack.run(() => h.result())) as { state: string }).state).toBe('completed');
  });

  it("with tokens and a trusted header: a token decides over the header, a token that is no operator's counts as no one, the shared token leaves it to the header", async () => {
    const h = await gated(IDS.slice(4), 'alice', 'dashboard:alice');
    const result = async (r: Response) =>
      ((await r.json()) as { result: { accepted: boolean; message: string } }).result;
    // Alice's token with a header naming bob: still alice, who started it.
    const asAliceAsBob = await approve(
      byBoth,
      h,
      { authorization: `Bearer ${ALICE}`, 'x-forwarded-user': 'bob' },
      'bob',
    );
    expect(asAliceAsBob.status).toBe(200);
    expect(await result(asAliceAsBob)).toMatchObject({
      accepted: false,
      message: expect.stringContaining('authenticated as dashboard:alice') as unknown,
    });
    // A token no operator holds, with a header, beside alice's cookie: no one, not the header's user.
    const forged = await approve(
      byBoth,
      h,
      {
        authorization: `Bearer ${randomBytes(16).toString('hex')}`,
        cookie: `sag_dashboard_token=${ALICE}`,
        'x-forwarded-user': 'dave',
      },
      'dave',
    );
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: string }).error).toMatch(/^sign in: /);
    // A header alone does not open a dashboard that has tokens.
    expect((await approve(byBoth, h, { 'x-forwarded-user': 'dave' }, 'dave')).status).toBe(401);
    expect((await h.query(progressQuery)).state).toBe('waiting-approval');
    // The shared access token names no operator: the proxy's header does.
    const shared = await approve(
      byBoth,
      h,
      { authorization: `Bearer ${SHARED}`, 'x-forwarded-user': 'dave' },
      'x',
    );
    expect(await result(shared)).toMatchObject({ accepted: true });
    const audit = await h.query(auditQuery, 0);
    expect(audit.filter((e) => e.kind === 'approve-refused').map((e) => e.detail?.identity)).toEqual([
      'dashboard:alice',
    ]);
    expect(audit.find((e) => e.kind === 'approve')).toMatchObject({
      by: 'dave',
      detail: expect.objectContaining({ identity: 'sso:dave' }) as unknown,
    });
    expect(((await stack.run(() => h.result())) as { state: string }).state).toBe('completed');
  });

  it("the CLI prints a token's operators-file entry from stdin, and refuses a malformed operators file naming the entry", () => {
    ensureBuilt();
    const hashed = execFileSync(process.execPath, [BIN, 'dashboard', '--hash-token'], {
      input: ALICE,
    }).toString();
    expect(hashed.trim()).toBe(tokenHash(ALICE));
    const file = path.join(tempDir('operators'), 'operators.yaml');
    writeFileSync(file, `operators:\n  alice: ${ALICE}\n`);
    const r = spawnSync(process.execPath, [BIN, 'dashboard', '--operators', file, '--port', '0'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/alice: the token's hash as "sha256:<64 hex digits>"/);
    // The file's value is the token itself: never repeated.
    expect(r.stderr).not.toContain(ALICE);
  });
});
