import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameOperator } from '../../domain/commands';
import { certIdentity, osIdentity } from '../../src/cli/identity';
import { auditQuery, progressQuery } from '../../workflows/messages';
import { instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
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

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({ fleet: { versions: VERSIONS, instances: IDS.map((id) => instance(id)) } });
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
    expect(osIdentity()).toBe(`os:${os.userInfo().username}@${os.hostname()}`);
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
});
