import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebhooks } from '../../src/config/webhooks';
import { instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { FAST_POLICY, cli, ensureBuilt, temporalArgs, tempDir, write } from './helpers';

// `start` asks a worker of the task queue which webhook names it knows; `plan` can only look at
// its own environment. The worker here knows ops-chat.
let stack: Stack;
let dir: string;
let inventoryFile: string;
const ids = ['sag-wh01', 'sag-wh02'];

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack(
    { fleet: { versions: VERSIONS, instances: ids.map((id) => instance(id)) } },
    { webhooks: loadWebhooks({ env: { SAG_WEBHOOK_OPS_CHAT_URL: 'http://127.0.0.1:9/hook/secret' } }) },
  );
  dir = tempDir('cli-webhooks');
  inventoryFile = write(
    dir,
    'inventory.csv',
    `SmartAGId,RegionId\n${ids.map((id) => `${id},cn-shanghai`).join('\n')}\n`,
  );
});
afterAll(async () => {
  await stack?.stop();
});

const policyWith = (webhooks: string) =>
  write(dir, `${uniqueName('policy')}.yaml`, `${FAST_POLICY}\n${webhooks}`);

describe('webhooks at start and plan', () => {
  it('refuses to start a rollout naming a webhook the worker does not know, naming the variable to set', async () => {
    const id = uniqueName('wh');
    const policy = policyWith('webhooks:\n  - name: ops-chat\n  - name: ghost\n    format: chat\n');
    const r = await cli([
      ...temporalArgs(stack.taskQueue),
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policy,
      '--rollout-id',
      id,
      '--yes',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `the worker on task queue ${stack.taskQueue} does not know webhook ghost: nothing was started`,
    );
    expect(r.stderr).toContain('ghost: set SAG_WEBHOOK_GHOST_URL in the worker');
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 2 });
    expect((await cli([...temporalArgs(stack.taskQueue), 'status', id])).code).toBe(4);
  });

  it('starts a rollout whose webhooks the worker knows', async () => {
    const id = uniqueName('wh');
    const policy = policyWith('webhooks:\n  - name: OPS_CHAT\n    format: chat\n    events: [completed]\n');
    const r = await cli([
      ...temporalArgs(stack.taskQueue),
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policy,
      '--rollout-id',
      id,
      '--yes',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('warning');
    expect(JSON.parse(r.stdout)).toMatchObject({ rolloutId: id, started: true });
  });

  it('refuses a policy that gives a webhook URL, with its line and the remedy', async () => {
    const policy = policyWith(
      'webhooks:\n  - url: https://oapi.dingtalk.com/robot/send?access_token=XXXX\n    format: chat\n',
    );
    const r = await cli([
      ...temporalArgs(stack.taskQueue),
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policy,
      '--yes',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /line \d+: webhooks\[0\]\.url: a webhook URL does not belong in the policy .*name the webhook \(name: ops-chat\) and give the worker its URL in SAG_WEBHOOK_OPS_CHAT_URL/,
    );
  });

  it('warns, and starts, when no worker answers; plan warns from its own environment', async () => {
    const queue = uniqueName('idle');
    const policy = policyWith('webhooks:\n  - name: ops-chat\n');
    const r = await cli([
      ...temporalArgs(queue),
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      policy,
      '--rollout-id',
      uniqueName('wh'),
      '--yes',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `warning: webhooks not checked with a worker (no worker polls task queue ${queue})`,
    );
    expect(r.stderr).toContain(
      'warning: webhooks not checked here (this environment configures none): the worker must know ops-chat (SAG_WEBHOOK_OPS_CHAT_URL',
    );
    const simEnv = {
      SAG_ENDPOINT: stack.sim.endpoint,
      SAG_SIMULATOR_ACCESS_KEY_ID: stack.sim.accessKeyId,
      SAG_SIMULATOR_ACCESS_KEY_SECRET: stack.sim.accessKeySecret,
    };
    const plan = await cli(['plan', '--inventory', inventoryFile, '--policy', policy], {
      env: { ...simEnv, SAG_WEBHOOK_OTHER_URL: 'https://x.example.com' },
    });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain(
      'warning: webhook ops-chat is not configured in this environment (SAG_WEBHOOK_OPS_CHAT_URL or SAG_WEBHOOKS_FILE)',
    );
  });
});
