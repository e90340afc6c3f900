import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutWorkflowId } from '../../domain/ids';
import type { RolloutInput } from '../../domain/types';
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
} from './helpers';

// retry-failed on a closed rollout starts a follow-up rollout of its failed devices. sag-furev
// comes back on its old version after its first upgrade and takes the second.
let stack: Stack;
let inventoryFile: string;
let policyFile: string;
const OK = ['sag-fu01', 'sag-fu02', 'sag-fu03'];
const REV = 'sag-furev';
const order = [OK[0]!, REV, OK[1]!, OK[2]!];
// Its first upgrade call is answered with a 500 that Alibaba never acted on: nothing was accepted.
const UNC = 'sag-fuunc';

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({
    fleet: {
      versions: VERSIONS,
      instances: [
        ...OK.map((id) => instance(id)),
        instance(UNC),
        instance(REV, {
          simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.2, outcomes: ['revert'], outcome: 'ok' },
        }),
      ],
    },
  });
  const dir = tempDir('follow-up');
  inventoryFile = write(
    dir,
    'inventory.csv',
    `SmartAGId,RegionId,SerialNumber,group\n${order.map((id) => `${id},cn-shanghai,sn${id.slice(4)}a,stores`).join('\n')}\n`,
  );
  policyFile = write(dir, 'policy.yaml', FAST_POLICY);
  stack.sim.setFaults({
    rules: [
      {
        action: 'UpdateSmartAccessGatewayVersion',
        smartAgId: UNC,
        kind: 'error',
        code: 'UnknownError',
        httpStatus: 500,
        times: 1,
      },
    ],
  });
});
afterAll(async () => {
  await stack?.stop();
});

const run = (args: string[]) => cli([...temporalArgs(stack.taskQueue), ...args]);

function json<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

type Status = {
  state: string;
  closed: boolean;
  counts: Record<string, number>;
  followUpOf?: string;
  followUps?: string[];
  devices: { smartAgId: string; outcome: string }[];
};
const statusOf = async (id: string) => json<Status>(await run(['status', id, '--json']));
const closedStatus = (id: string) =>
  until(async () => ((s) => (s.closed ? s : undefined))(await statusOf(id)), 60_000, `${id} to close`);

/** The rollout's workflow input, from the first event of its history. */
async function inputOf(id: string): Promise<RolloutInput> {
  const history = await stack.client.workflow.getHandle(rolloutWorkflowId(id)).fetchHistory();
  return defaultPayloadConverter.fromPayload(
    history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!,
  );
}

/** Accepted upgrade calls per device, from the simulator's ledger. */
const accepted = () =>
  Object.fromEntries(order.map((id) => [id, stack.sim.upgrades({ smartAgId: id }).length]));

function summaryOf(jsonl: string): Record<string, unknown> {
  return JSON.parse(jsonl.split('\n')[0]!) as Record<string, unknown>;
}

describe('retry-failed on a closed rollout', () => {
  it('starts <id>-retry-1 with exactly the failed devices under the same policy and target, linked both ways, and sends nothing to devices already upgraded', async () => {
    const id = uniqueName('fu');
    expect(
      (
        await run([
          'start',
          '--inventory',
          inventoryFile,
          '--policy',
          policyFile,
          '--rollout-id',
          id,
          '--ticket',
          'CHG-1',
          '--operator',
          'alice',
          '--yes',
        ])
      ).code,
    ).toBe(0);
    const closed = await closedStatus(id);
    expect(closed).toMatchObject({ state: 'completed', counts: { upgraded: 3, failed: 1 } });
    expect(closed.devices.find((d) => d.smartAgId === REV)).toMatchObject({ outcome: 'failed' });
    const before = accepted();
    expect(before).toEqual({ [OK[0]!]: 1, [REV]: 1, [OK[1]!]: 1, [OK[2]!]: 1 });

    // Like start: no terminal and no --yes, nothing starts.
    const unconfirmed = await run(['retry-failed', id]);
    expect(unconfirmed.code).toBe(3);
    expect(unconfirmed.stderr).toContain('pass --yes');
    expect((await run(['status', `${id}-retry-1`])).code).toBe(4);

    const r = await run(['retry-failed', id, '--yes', '--ticket', 'CHG-2', '--operator', 'bob', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const followUpId = `${id}-retry-1`;
    expect(json(r)).toEqual({
      rolloutId: id,
      command: 'retry-failed',
      via: 'follow-up',
      followUp: {
        rolloutId: followUpId,
        workflowId: rolloutWorkflowId(followUpId),
        started: true,
        taskQueue: stack.taskQueue,
        devices: 1,
        waves: [{ name: 'canary', size: 1 }],
      },
      devices: [
        {
          smartAgId: REV,
          outcome: 'failed',
          errorCode: expect.stringMatching(/^Upgrade(Reverted|NotApplied)$/) as unknown,
        },
      ],
    });

    // The same policy and target, the failed device's own inventory entry, the operator and ticket of the command.
    const original = await inputOf(id);
    const followUp = await inputOf(followUpId);
    expect(followUp).toEqual({
      rolloutId: followUpId,
      inventory: original.inventory.filter((d) => d.smartAgId === REV),
      policy: original.policy,
      operator: 'bob',
      // Who ran the CLI, as the OS authenticated them (the display name is bob).
      operatorIdentity: expect.stringMatching(/^os:[^@]+@/) as unknown,
      ticket: 'CHG-2',
      taskQueue: stack.taskQueue,
      followUpOf: id,
      sharedAccountRule: true,
    });
    expect(followUp.inventory).toEqual([
      { smartAgId: REV, regionId: 'cn-shanghai', serialNumbers: ['snfureva'], group: 'stores' },
    ]);

    const done = await closedStatus(followUpId);
    expect(done).toMatchObject({ state: 'completed', counts: { upgraded: 1 }, followUpOf: id });
    // The reverted device took the deliberate second attempt; the others were sent nothing.
    expect(accepted()).toEqual({ ...before, [REV]: 2 });
    expect(stack.sim.instance(REV)!.devices[0]!.softwareVersion).toBe('2.4.0.0');

    // The original names its follow-up, in status and in its report; the follow-up's report names the original.
    const linked = await until(
      async () => ((s) => (s.followUps?.length ? s : undefined))(await statusOf(id)),
      20_000,
      'the follow-up in visibility',
    );
    expect(linked.followUps).toEqual([followUpId]);
    expect((await run(['status', id])).stdout).toContain(`follow-ups: ${followUpId} (completed)`);
    expect((await run(['status', followUpId])).stdout).toContain(`follow-up of: ${id}`);
    const report = await run(['report', id, '--format', 'jsonl']);
    expect(summaryOf(report.stdout)).toMatchObject({ rolloutId: id, followUps: [followUpId] });
    expect((await run(['report', id, '--format', 'html'])).stdout).toContain(followUpId);
    expect(summaryOf((await run(['report', followUpId, '--format', 'jsonl'])).stdout)).toMatchObject({
      rolloutId: followUpId,
      followUpOf: id,
      operator: 'bob',
      ticket: 'CHG-2',
    });

    // Nothing left to retry in the follow-up.
    const nothing = await run(['retry-failed', followUpId, '--yes']);
    expect(nothing.code).toBe(3);
    expect(nothing.stderr).toContain(
      'with no failed, unconfirmed or compensated device: retry-failed changes nothing',
    );

    // Again on the original: the next free ID. The device, now on the target, is inspected and skipped, not sent again.
    const again = await run(['retry-failed', id, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json<{ followUp: { rolloutId: string } }>(again).followUp.rolloutId).toBe(`${id}-retry-2`);
    const second = await closedStatus(`${id}-retry-2`);
    expect(second.devices).toEqual([expect.objectContaining({ smartAgId: REV, outcome: 'skipped' })]);
    expect(accepted()).toEqual({ ...before, [REV]: 2 });
    expect((await statusOf(id)).followUps).toEqual([followUpId, `${id}-retry-2`]);
  }, 180_000);

  it('watches an unconfirmed device again and sends nothing, and sends again only with --resend-unconfirmed', async () => {
    const id = uniqueName('fuunc');
    const inventory = write(
      tempDir('follow-up-unc'),
      'inventory.csv',
      `SmartAGId,RegionId\n${UNC},cn-shanghai\n`,
    );
    // No canary: an unconfirmed canary would halt the rollout for a decision instead of closing it.
    const start = [
      'start',
      '--inventory',
      inventory,
      '--policy',
      policyFile,
      '--canary',
      '0',
      '--ticket',
      'CHG-1',
      '--yes',
    ];
    expect((await run([...start, '--rollout-id', id])).code).toBe(0);
    const closed = await closedStatus(id);
    expect(closed.devices).toEqual([expect.objectContaining({ smartAgId: UNC, outcome: 'unconfirmed' })]);
    expect(stack.sim.upgrades({ smartAgId: UNC })).toHaveLength(0);

    // Under the closed rollout's policy the follow-up watches the earlier call and sends nothing.
    expect((await run(['retry-failed', id, '--yes'])).code).toBe(0);
    const watched = await closedStatus(`${id}-retry-1`);
    expect(watched.devices).toEqual([expect.objectContaining({ smartAgId: UNC, outcome: 'unconfirmed' })]);
    expect(stack.sim.upgrades({ smartAgId: UNC })).toHaveLength(0);
    expect(stack.sim.instance(UNC)!.devices[0]!.softwareVersion).toBe('2.3.0.0');

    // The operator's choice: send again where no sign showed. One accepted call, on the target.
    // Watched as JSON Lines: the follow-up's document first, then a status per change.
    const resend = await run([
      'retry-failed',
      id,
      '--yes',
      '--resend-unconfirmed',
      '--json',
      '--watch',
      '--interval',
      '200ms',
    ]);
    expect(resend.code, resend.stderr).toBe(0);
    const lines = resend.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect((lines[0] as { followUp: { rolloutId: string } }).followUp.rolloutId).toBe(`${id}-retry-2`);
    expect(lines[lines.length - 1]).toMatchObject({ rolloutId: `${id}-retry-2`, state: 'completed' });
    const done = await closedStatus(`${id}-retry-2`);
    expect(done.devices).toEqual([expect.objectContaining({ smartAgId: UNC, outcome: 'upgraded' })]);
    expect(stack.sim.upgrades({ smartAgId: UNC })).toHaveLength(1);
    expect(stack.sim.instance(UNC)!.devices[0]!.softwareVersion).toBe('2.4.0.0');
    const policy = (await inputOf(`${id}-retry-2`)).policy;
    expect(policy.noSignAfterSettle).toBe('resend');
    expect((await inputOf(`${id}-retry-1`)).policy.noSignAfterSettle).toBe('unconfirmed');
  }, 180_000);

  it('answers not found for an unknown rollout', async () => {
    const r = await run(['retry-failed', 'no-such-rollout', '--yes']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no rollout no-such-rollout');
  });
});
