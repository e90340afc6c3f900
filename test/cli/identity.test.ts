import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameOperator, sharedAccount } from '../../domain/commands';
import { certIdentity, osIdentity } from '../../src/cli/identity';
import { approveUpdate, auditQuery, progressQuery } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import { fastRolloutPolicy, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { FAST_POLICY, cli, ensureBuilt, temporalArgs, tempDir, until, write } from './helpers';

// The identity a change board accepts: the CLI records who ran it as the OS (or the Temporal
// client certificate) authenticated it, `--operator` is only a display name, and
// approverMustDiffer compares the authenticated identities.
let stack: Stack;
let dir: string;
let inventoryFile: string;
let policyFile: string;
const IDS = ['sag-idn01', 'sag-idn02'];
const ROOTS = ['sag-idn03', 'sag-idn04'];

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({
    fleet: { versions: VERSIONS, instances: [...IDS, ...ROOTS].map((id) => instance(id)) },
  });
  dir = tempDir('identity');
  inventoryFile = write(
    dir,
    'inventory.csv',
    `SmartAGId,RegionId\n${IDS.map((id) => `${id},cn-shanghai`).join('\n')}\n`,
  );
  policyFile = write(dir, 'policy.yaml', `${FAST_POLICY}\napproval: canary\napproverMustDiffer: true\n`);
});
afterAll(async () => {
  await stack?.stop();
});

const run = (args: string[]) => cli([...temporalArgs(stack.taskQueue), ...args]);

describe('operator identity', () => {
  it('refuses the same authenticated identity under any name, and the same name from any channel', () => {
    expect(sameOperator('alice', 'bob', { by: 'os:root@h', operator: 'os:root@h' })).toBe(true);
    // The same name through another channel (the CLI's OS account, the dashboard's token) stays refused.
    expect(sameOperator('alice', 'alice', { by: 'dashboard:alice', operator: 'os:alice@h' })).toBe(true);
    expect(sameOperator('bob', 'alice', { by: 'dashboard:bob', operator: 'os:alice@h' })).toBe(false);
    expect(sameOperator('alice', 'alice', { by: 'os:a@h' })).toBe(true);
    expect(sameOperator('alice', 'bob')).toBe(false);
  });

  it('reads the subject of a client certificate, and the OS account otherwise', () => {
    const key = path.join(dir, 'client.key');
    const crt = path.join(dir, 'client.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        crt,
        '-days',
        '1',
        '-subj',
        '/O=Branch Ops/CN=carol',
      ],
      { stdio: 'ignore' },
    );
    expect(certIdentity(readFileSync(crt))).toBe('cert:O=Branch Ops,CN=carol');
    expect(certIdentity('not a certificate')).toBeUndefined();
    const user = os.userInfo().username;
    const superuser = process.getuid?.() === 0 && user !== 'root' ? '(uid 0)' : '';
    expect(osIdentity()).toBe(`os:${user}${superuser}@${os.hostname()}`);
  });

  it('refuses an approval by the starter through a second display name, and records both names and the identity', async () => {
    const id = uniqueName('idn');
    const started = await run([
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policyFile,
      '--rollout-id',
      id,
      '--operator',
      'alice',
      '--yes',
    ]);
    expect(started.code).toBe(0);
    // Started as a shared OS account (root, as in a container), the start says no approval would pass.
    expect(started.stderr.includes('warning: approverMustDiffer: the rollout would be started as')).toBe(
      sharedAccount(osIdentity()),
    );
    const h = stack.client.workflow.getHandle(`rollout/${id}`);
    await until(
      async () => ((await h.query(progressQuery)).state === 'waiting-approval' ? true : undefined),
      30_000,
      'the canary gate',
    );

    // The same OS account as "bob": refused, naming the authenticated starter.
    const asBob = await run(['approve', id, '--operator', 'bob', '--reason', 'looks fine', '--yes']);
    expect(asBob.code).toBe(3);
    expect(`${asBob.stdout}${asBob.stderr}`).toMatch(
      /the approver must differ from the operator who started the rollout \(alice, authenticated as os:[^@]+@/,
    );
    expect((await h.query(progressQuery)).state).toBe('waiting-approval');
    const audit = await h.query(auditQuery, 0);
    const me = osIdentity();
    expect(audit.find((e) => e.kind === 'started')).toMatchObject({
      by: 'alice',
      detail: expect.objectContaining({ identity: me }) as unknown,
    });
    expect(audit.find((e) => e.kind === 'approve-refused')).toMatchObject({
      by: 'bob',
      detail: expect.objectContaining({ identity: me }) as unknown,
    });
    // Nothing beyond the canary was sent.
    expect(stack.sim.upgrades().filter((u) => IDS.includes(u.SmartAGId))).toHaveLength(1);
    await h.terminate('test over');
  });

  it('refuses an approval when the rollout was started as root, even from another host, naming the shared account', async () => {
    const rolloutId = uniqueName('idr');
    const h = await stack.client.workflow.start(rolloutWorkflow, {
      workflowId: `rollout/${rolloutId}`,
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId,
          inventory: ROOTS.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
          policy: fastRolloutPolicy({ approval: 'canary', approverMustDiffer: true }),
          operator: 'alice',
          operatorIdentity: 'os:root@ctr-a',
          sharedAccountRule: true,
          taskQueue: stack.taskQueue,
        },
      ],
    });
    await until(
      async () => ((await h.query(progressQuery)).state === 'waiting-approval' ? true : undefined),
      30_000,
      'the canary gate',
    );
    const shared =
      /approverMustDiffer needs people: the rollout was started as os:root@ctr-a, a shared OS account that names no one; start and approve with a Temporal client certificate/;
    // This CLI's own account, whoever runs the test.
    const asBob = await run(['approve', rolloutId, '--operator', 'bob', '--reason', 'looks fine', '--yes']);
    expect(asBob.code).toBe(3);
    expect(`${asBob.stdout}${asBob.stderr}`).toMatch(shared);
    // root of a second container: another identity, still no person.
    const fromB = await h.executeUpdate(approveUpdate, {
      args: [{ by: 'bob', identity: 'os:root@ctr-b', requestId: uniqueName('req'), reason: 'looks fine' }],
    });
    expect(fromB).toMatchObject({ accepted: false, message: expect.stringMatching(shared) as unknown });
    expect((await h.query(progressQuery)).state).toBe('waiting-approval');
    expect((await h.query(auditQuery, 0)).filter((e) => e.kind === 'approve-refused')).toHaveLength(2);
    expect(stack.sim.upgrades().filter((u) => ROOTS.includes(u.SmartAGId))).toHaveLength(1);
    await h.terminate('test over');

    // A rollout started as root before the rule: a person may still approve it, root may not.
    const before = uniqueName('idr');
    const h2 = await stack.client.workflow.start(rolloutWorkflow, {
      workflowId: `rollout/${before}`,
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId: before,
          inventory: ROOTS.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
          policy: fastRolloutPolicy({ approval: 'canary', approverMustDiffer: true }),
          operator: 'alice',
          operatorIdentity: 'os:root@ctr-a',
          taskQueue: stack.taskQueue,
        },
      ],
    });
    await until(
      async () => ((await h2.query(progressQuery)).state === 'waiting-approval' ? true : undefined),
      30_000,
      'the canary gate of the older rollout',
    );
    const byRoot = await h2.executeUpdate(approveUpdate, {
      args: [{ by: 'bob', identity: 'os:root@ctr-b', requestId: uniqueName('req'), reason: 'ok' }],
    });
    expect(byRoot).toMatchObject({
      accepted: false,
      message: expect.stringMatching(/the approval comes from os:root@ctr-b/) as unknown,
    });
    const byBob = await h2.executeUpdate(approveUpdate, {
      args: [{ by: 'bob', identity: 'dashboard:bob', requestId: uniqueName('req'), reason: 'ok' }],
    });
    expect(byBob.accepted).toBe(true);
    await stack.run(() => h2.result());
    // The canary device was upgraded once, by the first rollout; the second upgraded the other.
    expect(stack.sim.upgrades().filter((u) => ROOTS.includes(u.SmartAGId))).toHaveLength(2);
  });
});
