import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import {
  abortSignal,
  approveUpdate,
  auditQuery,
  devicesQuery,
  pauseSignal,
  promoteUpdate,
  setPaceUpdate,
} from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import type { ChangeWindow, InventoryDevice, RolloutPolicy, RolloutProgress } from '../../domain/types';
import { untilProgress } from '../helpers/progress';
import { fastRolloutPolicy, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';

// An abort from any state, or a cancellation through Temporal, drains, compensates every failed
// device of every wave so far, and closes with the report.
let stack: Stack;

// gate, paused, bake, window: an operator's abort in that state; cancel: a Temporal cancel at a gate;
// cancel-busy: a Temporal cancel while a part waits for a window, then an operator command; part:
// a Temporal cancel of the part itself.
const CASES = ['gate', 'paused', 'bake', 'window', 'cancel', 'cancel-busy', 'part'] as const;
type Case = (typeof CASES)[number];
const PREFIX: Record<Case, string> = {
  gate: 'gat',
  paused: 'pau',
  bake: 'bak',
  window: 'win',
  cancel: 'can',
  'cancel-busy': 'cbz',
  part: 'prt',
};

/** Per case: a canary, a wave of two (one of which reverts and cannot restore its policy), a wave of two. */
const devicesOf = (c: Case) => ['can', 'fail', 'ok', 'late1', 'late2'].map((n) => `sag-ab${PREFIX[c]}${n}`);

const fleet = {
  versions: VERSIONS,
  instances: CASES.flatMap((c) =>
    devicesOf(c).map((id, i) =>
      instance(
        id,
        i === 1
          ? { simulation: { downloadSeconds: 0.05, upgradeSeconds: 0.1, outcome: 'revert' as const } }
          : {},
      ),
    ),
  ),
};

beforeAll(async () => {
  stack = await startStack({ fleet });
  // The failing device's policy restore is refused once (its second policy write), so the policy
  // stays manual until compensation puts it back.
  stack.sim.setFaults({
    rules: CASES.map((c) => ({
      action: 'ModifyDeviceAutoUpgradePolicy',
      smartAgId: devicesOf(c)[1],
      kind: 'error' as const,
      code: 'InvalidParameter',
      nth: [2],
    })),
  });
});
afterAll(async () => {
  await stack?.stop();
});

const cmd = (by = 'alice', reason = 'test') => ({ by, reason, requestId: randomUUID() });
const until = (h: WorkflowHandle, pred: (p: RolloutProgress) => boolean) =>
  untilProgress(h, 'the rollout', pred, 40_000);

function policyFor(c: Case): Partial<RolloutPolicy> {
  const base: Partial<RolloutPolicy> = {
    canary: { count: 1 },
    waves: { sizes: [2, 2] },
    failureBudget: { maxFailurePercent: 100, minFailures: 100, maxConsecutiveFailures: 0, onBreach: 'pause' },
    healthRecheck: false,
  };
  switch (c) {
    case 'gate':
    case 'cancel':
    case 'paused':
      return { ...base, approval: 'each-wave' };
    case 'bake':
      return { ...base, bake: 120_000 };
    case 'window':
    case 'cancel-busy':
    case 'part': {
      // The last wave's devices may only start in a window an hour from now.
      const [, , , late1, late2] = devicesOf(c);
      const soon = Date.now() + 3_600_000;
      const windows: ChangeWindow[] = [
        {
          kind: 'once',
          start: new Date(Date.now() - 60_000).toISOString(),
          end: new Date(Date.now() + 3_600_000).toISOString(),
          appliesTo: { devices: devicesOf(c).slice(0, 3) },
        },
        {
          kind: 'once',
          start: new Date(soon).toISOString(),
          end: new Date(soon + 3_600_000).toISOString(),
          appliesTo: { devices: [late1!, late2!] },
        },
      ];
      return { ...base, windows };
    }
  }
}

async function start(c: Case): Promise<WorkflowHandle<typeof rolloutWorkflow>> {
  const rolloutId = uniqueName(`abort-${c}`);
  const inventory: InventoryDevice[] = devicesOf(c).map((smartAgId) => ({
    smartAgId,
    regionId: 'cn-shanghai',
  }));
  return stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId,
        inventory,
        policy: fastRolloutPolicy(policyFor(c)),
        operator: 'alice',
        ticket: 'CHG-9',
        taskQueue: stack.taskQueue,
      },
    ],
  });
}

/** Brings the rollout of case `c` to its state after wave 1, then aborts it there. */
async function driveToAbort(c: Case, h: WorkflowHandle<typeof rolloutWorkflow>): Promise<void> {
  switch (c) {
    case 'gate':
    case 'cancel':
      await until(h, (p) => p.state === 'waiting-approval' && p.gate?.wave === 1);
      await h.executeUpdate(approveUpdate, { args: [cmd('bob')] });
      await until(h, (p) => p.state === 'waiting-approval' && p.gate?.wave === 2);
      if (c === 'cancel') await h.cancel();
      else await h.signal(abortSignal, { ...cmd('alice', 'change board withdrew'), compensate: true });
      return;
    case 'paused':
      await until(h, (p) => p.state === 'waiting-approval' && p.gate?.wave === 1);
      await h.executeUpdate(approveUpdate, { args: [cmd('bob')] });
      await until(h, (p) => p.state === 'waiting-approval' && p.gate?.wave === 2);
      await h.signal(pauseSignal, cmd('alice', 'hold'));
      await h.executeUpdate(approveUpdate, { args: [cmd('bob')] });
      await until(h, (p) => p.state === 'paused' && p.gate?.kind === 'pause');
      await h.signal(abortSignal, { ...cmd('alice', 'change board withdrew'), compensate: true });
      return;
    case 'bake':
      await until(h, (p) => p.gate?.kind === 'bake' && p.gate.wave === 0);
      await h.executeUpdate(promoteUpdate, { args: [cmd('bob')] });
      await until(h, (p) => p.gate?.kind === 'bake' && p.gate.wave === 1);
      await h.signal(abortSignal, { ...cmd('alice', 'change board withdrew'), compensate: true });
      return;
    case 'window':
    case 'cancel-busy':
    case 'part': {
      const p = await until(
        h,
        (x) => x.currentWave === 2 && x.counts.failed + x.counts.upgraded === 3 && x.activePart !== undefined,
      );
      await new Promise((r) => setTimeout(r, 500));
      if (c === 'window')
        await h.signal(abortSignal, { ...cmd('alice', 'change board withdrew'), compensate: true });
      if (c === 'part') await stack.client.workflow.getHandle(p.activePart!).cancel();
      if (c === 'cancel-busy') {
        await h.cancel();
        // Commands still work after the cancellation, and reach the part being drained.
        const paced = await h.executeUpdate(setPaceUpdate, {
          args: [{ ...cmd('alice', 'slower'), concurrency: 2 }],
        });
        expect(paced.accepted).toBe(true);
      }
      return;
    }
  }
}

describe('abort with compensation', () => {
  it.each(CASES)(
    'from %s: compensates the failed device of an earlier wave and closes with the report',
    async (c) => {
      const ids = devicesOf(c);
      const [, failing, , late1, late2] = ids;
      const h = await start(c);
      await driveToAbort(c, h);
      const r = await stack.run(() => h.result());
      expect(r.state).toBe('aborted');

      const devices = Object.fromEntries(
        (await h.query(devicesQuery, { limit: 100 })).devices.map((d) => [d.smartAgId, d]),
      );
      // The failed device of wave 1 was compensated: its auto-upgrade policy is back, by the simulator's log.
      expect(devices[failing!]).toMatchObject({ outcome: 'compensated', errorCode: 'UpgradeReverted' });
      expect(devices[failing!]?.compensation).toMatch(/policy-restored/);
      const writes = stack.sim
        .requests(1000)
        .filter(
          (q) =>
            q.action === 'ModifyDeviceAutoUpgradePolicy' && q.smartAgId === failing && q.code === undefined,
        )
        .map((q) => q.params.UpgradeType);
      expect(writes).toEqual(['manual', 'scheduled']);
      // Nothing of the last wave was sent; every device says where it ended.
      expect(stack.sim.upgrades({ smartAgId: late1 })).toHaveLength(0);
      expect(stack.sim.upgrades({ smartAgId: late2 })).toHaveLength(0);
      expect(stack.sim.upgrades({ smartAgId: failing })).toHaveLength(1);

      const audit = await h.query(auditQuery, 0);
      const kinds = audit.map((e) => e.kind);
      expect(kinds).toContain('compensating');
      expect(kinds.at(-1)).toBe('aborted');
      const abort = audit.find((e) => e.kind === 'abort');
      expect(abort?.by).toBe(['cancel', 'cancel-busy', 'part'].includes(c) ? 'temporal' : 'alice');
    },
  );
});
