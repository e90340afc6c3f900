import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIamPolicy } from '../../src/sag/iam-policy';
import type { RamPolicy } from '../../src/simulator';
import { abortSignal } from '../../workflows/messages';
import type { RolloutProgress } from '../../domain/types';
import { haInstance, instance, startStack, VERSIONS, type Stack } from '../helpers/stack';
import { uniqueName } from '../helpers/temporal';
import { inventoryOf, quickPolicy, startRollout, untilProgress } from './helpers';

// Least privilege: the generated RAM policy is enough, and each of its permissions is needed or
// harmless to lose; losing one halts the rollout with Forbidden.RAM instead of failing the fleet.
const quick = { simulation: { downloadSeconds: 0.01, upgradeSeconds: 0.03, outcome: 'ok' as const } };
const pair = (k: string) => [instance(`sag-lp${k}1`, quick), haInstance(`sag-lp${k}2`, quick)];
const KEYS = 'abcdefghijklmnop'.split('');
let stack: Stack;
let accountId: string;

beforeAll(async () => {
  stack = await startStack({ fleet: { versions: VERSIONS, instances: KEYS.flatMap(pair) } });
  accountId = stack.sim.accountId;
});
afterAll(async () => {
  stack?.sim.setPolicy(stack.sim.accessKeyId, undefined);
  await stack?.stop();
});

type Run = {
  state: RolloutProgress['state'];
  haltReason?: string;
  counts: RolloutProgress['counts'];
  forbidden: string[];
};

async function rollout(key: string, policy: RamPolicy): Promise<Run> {
  stack.sim.setPolicy(stack.sim.accessKeyId, policy);
  stack.sim.resetStats();
  const inv = inventoryOf(pair(key));
  const h = await startRollout(
    stack.client,
    stack.taskQueue,
    uniqueName('lp'),
    inv,
    quickPolicy({ canary: { count: 1 }, waves: { cumulativePercents: [100] }, healthRecheck: true }),
  );
  const p = await untilProgress(
    h,
    'the rollout to finish or halt',
    (x) => x.state === 'completed' || x.state === 'paused',
    60_000,
  );
  if (p.state === 'paused')
    await h.signal(abortSignal, { by: 'test', requestId: randomUUID(), compensate: false });
  await h.result();
  const ids = new Set(inv.map((d) => d.smartAgId));
  const forbidden = stack.sim
    .requests(1000)
    .filter((r) => r.code === 'Forbidden.RAM' && (r.smartAgId === undefined || ids.has(r.smartAgId)))
    .map((r) => r.action ?? '');
  return { state: p.state, haltReason: p.haltReason, counts: p.counts, forbidden: [...new Set(forbidden)] };
}

function without(policy: RamPolicy, action: string): RamPolicy {
  return {
    Version: policy.Version,
    Statement: policy.Statement.map((s) => ({
      ...s,
      Action: (s.Action as string[]).filter((a) => a !== action),
    })).filter((s) => s.Action.length > 0),
  };
}

describe('least privilege', () => {
  it('a rollout succeeds under buildIamPolicy, and removing any one permission halts it with Forbidden.RAM', async () => {
    const inv = KEYS.flatMap(pair);
    const policy = buildIamPolicy(inventoryOf(inv), accountId) as unknown as RamPolicy;
    const full = await rollout('a', policy);
    expect(full.state).toBe('completed');
    expect(full.counts.upgraded).toBe(2);
    expect(full.forbidden).toEqual([]);

    const actions = [...new Set(policy.Statement.flatMap((s) => s.Action as string[]))];
    const table: Record<string, string> = {};
    for (const [i, action] of actions.entries()) {
      const r = await rollout(KEYS[i + 1]!, without(policy, action));
      if (r.forbidden.length === 0) {
        // Not needed by this fleet (e.g. a DPI or reboot action): the rollout must then complete.
        expect(r.state, action).toBe('completed');
        table[action] = 'not used by a firmware rollout of a single device and an HA pair';
        continue;
      }
      table[action] =
        `${r.state}: ${r.haltReason ?? ''} (failed ${r.counts.failed}, compensated ${r.counts.compensated}, upgraded ${r.counts.upgraded})`;
      expect(r.state, action).toBe('paused');
      expect(r.haltReason, action).toMatch(/Forbidden\.RAM/);
      // Halted at the first device that hit it, not device after device.
      expect(r.counts.failed + r.counts.compensated, action).toBeLessThanOrEqual(1);
    }
    console.info(`least-privilege: ${JSON.stringify(table, null, 1)}`);
  }, 180_000);
});
