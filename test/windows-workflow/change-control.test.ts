import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abortSignal,
  approveUpdate,
  auditQuery,
  excludeUpdate,
  pauseSignal,
  resumeUpdate,
} from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import type { RolloutPolicy } from '../../domain/types';
import { fastRolloutPolicy, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { inventory, progressUntil } from './helpers';

// Change control: the ticket a policy requires, and the audit trail of every operator control.

let stack: Stack;
const AUDITED = ['sag-aud01', 'sag-aud02', 'sag-aud03', 'sag-aud04', 'sag-aud05'];
const NO_TICKET = ['sag-tkt01'];

beforeAll(async () => {
  stack = await startStack(
    { fleet: { versions: VERSIONS, instances: [...AUDITED, ...NO_TICKET].map((id) => instance(id)) } },
    { sharedQuota: false },
  );
});
afterAll(async () => {
  await stack?.stop();
});

const cmd = (by: string, reason: string) => ({ by, reason, requestId: randomUUID() });

async function start(ids: string[], policy: Partial<RolloutPolicy>, ticket?: string) {
  const rolloutId = uniqueName('chg');
  return stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId,
        inventory: inventory(ids),
        policy: fastRolloutPolicy(policy),
        operator: 'alice',
        ticket,
        taskQueue: stack.taskQueue,
      },
    ],
  });
}

describe('change control', () => {
  it('fails a rollout started without a ticket when the policy requires one (TicketRequired), upgrading nothing', async () => {
    const handle = await start(NO_TICKET, { requireTicket: true });
    const err = await stack
      .run(() => handle.result())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: 'TicketRequired', nonRetryable: true });
    expect(stack.sim.devices().find((d) => d.SmartAGId === NO_TICKET[0])?.upgradeCalls).toBe(0);
  });

  it('records who did what and why for every approval, refusal, exclusion, pause, resume and abort', async () => {
    const handle = await start(
      AUDITED,
      {
        canary: { count: 1 },
        waves: { cumulativePercents: [50, 100] },
        approval: 'each-wave',
        approverMustDiffer: true,
      },
      'CHG-42',
    );
    await progressUntil(
      handle,
      (p) => p.state === 'waiting-approval' && p.gate?.wave === 1,
      40_000,
      'the gate before wave 1',
    );
    await handle.executeUpdate(excludeUpdate, {
      args: [{ ...cmd('carol', 'site closed for renovation'), smartAgIds: ['sag-aud05'] }],
    });
    await handle.executeUpdate(approveUpdate, {
      args: [{ ...cmd('alice', 'approving my own rollout'), wave: 1 }],
    });
    await handle.executeUpdate(approveUpdate, {
      args: [{ ...cmd('bob', 'canary healthy for 24h'), wave: 1 }],
    });
    await progressUntil(
      handle,
      (p) => p.state === 'waiting-approval' && p.gate?.wave === 2,
      40_000,
      'the gate before wave 2',
    );
    await handle.signal(pauseSignal, cmd('carol', 'incident bridge open'));
    await progressUntil(handle, (p) => p.state === 'paused', 20_000, 'paused');
    await handle.executeUpdate(resumeUpdate, { args: [cmd('carol', 'incident closed')] });
    await handle.signal(abortSignal, { ...cmd('dave', 'business freeze announced'), compensate: false });
    const r = await stack.run(() => handle.result());
    expect(r.state).toBe('aborted');
    expect(r.counts).toMatchObject({ upgraded: 3, excluded: 1, pending: 1 });

    const audit = await handle.query(auditQuery, 0);
    const trail = audit.map((e) => ({ kind: e.kind, by: e.by, reason: e.reason, wave: e.wave }));
    expect(trail).toEqual([
      { kind: 'started', by: 'alice', reason: undefined, wave: undefined },
      { kind: 'part-done', by: undefined, reason: undefined, wave: 0 },
      { kind: 'wave-done', by: undefined, reason: undefined, wave: 0 },
      { kind: 'gate-waiting', by: undefined, reason: undefined, wave: 1 },
      { kind: 'exclude', by: 'carol', reason: 'site closed for renovation', wave: undefined },
      { kind: 'approve-refused', by: 'alice', reason: 'approving my own rollout', wave: undefined },
      { kind: 'approve', by: 'bob', reason: 'canary healthy for 24h', wave: undefined },
      { kind: 'part-done', by: undefined, reason: undefined, wave: 1 },
      { kind: 'wave-done', by: undefined, reason: undefined, wave: 1 },
      { kind: 'gate-waiting', by: undefined, reason: undefined, wave: 2 },
      { kind: 'pause', by: 'carol', reason: 'incident bridge open', wave: undefined },
      { kind: 'resume', by: 'carol', reason: 'incident closed', wave: undefined },
      { kind: 'abort', by: 'dave', reason: 'business freeze announced', wave: undefined },
      { kind: 'aborted', by: undefined, reason: undefined, wave: undefined },
    ]);
    expect(audit[0]?.detail).toMatchObject({ ticket: 'CHG-42', target: '2.4.0.0', devices: 5 });
    expect(audit.find((e) => e.kind === 'approve-refused')?.detail?.message).toMatch(/must differ/);
    expect(audit.find((e) => e.kind === 'exclude')?.detail?.message).toBe('excluded 1');
    expect(audit.find((e) => e.kind === 'abort')?.detail?.message).toMatch(/^aborting/);
    // Sequence numbers and times are in order: the trail is an append-only log.
    expect(audit.map((e) => e.seq)).toEqual(audit.map((_, i) => i + 1));
    expect(audit.every((e, i) => i === 0 || e.at >= audit[i - 1]!.at)).toBe(true);
  });
});
