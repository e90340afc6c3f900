import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/config/inventory';
import { applyPolicyFlags, defaultPolicy, loadPolicy, validatePolicy } from '../../src/config/policy';
import { resolveCredentialsProvider } from '../../src/sag/credentials';
import { checkFeasible } from '../../src/windows';
import type { InventoryDevice, RolloutPolicy } from '../../domain/types';

// Every malformed input is refused by the parsers at the edge, before a client, a workflow or a
// smartag request exists: each case runs the refusal and nothing else. The message must name the problem.
const INV: InventoryDevice[] = [
  { smartAgId: 'sag-abc123', regionId: 'cn-shanghai' },
  { smartAgId: 'sag-def456', regionId: 'cn-shanghai' },
];
const NOW = Date.parse('2026-11-27T12:00:00Z');
const withTarget = (p: Partial<RolloutPolicy> = {}): RolloutPolicy => ({
  ...defaultPolicy(),
  targetVersion: '2.4.0.0',
  ...p,
});

const windowYaml = (cron: string, zone: string) =>
  `targetVersion: 2.4.0.0\nwindows:\n  - cron: "${cron}"\n    duration: 4h\n    timeZone: ${zone}\n`;

interface Case {
  name: string;
  run: () => unknown;
  message: RegExp;
}

const cases: Case[] = [
  // inventories
  {
    name: 'inventory: empty file',
    run: () => parseInventory('', 'csv', { source: 'fleet.csv' }),
    message: /fleet\.csv/,
  },
  {
    name: 'inventory: CSV without a SmartAGId column',
    run: () => parseInventory('RegionId\ncn-shanghai\n', 'csv', { source: 'fleet.csv' }),
    message: /SmartAGId/i,
  },
  {
    name: 'inventory: malformed SmartAGId',
    run: () => parseInventory('SmartAGId,RegionId\nnot an id,cn-shanghai\n', 'csv', { source: 'fleet.csv' }),
    message: /line 2|SmartAGId/i,
  },
  {
    name: 'inventory: unknown region',
    run: () =>
      parseInventory('SmartAGId,RegionId\nsag-abc123,mars-north-1\n', 'csv', { source: 'fleet.csv' }),
    message: /mars-north-1/,
  },
  {
    name: 'inventory: duplicate device',
    run: () =>
      parseInventory('SmartAGId,RegionId\nsag-abc123,cn-shanghai\nsag-abc123,cn-shanghai\n', 'csv', {
        source: 'fleet.csv',
      }),
    message: /sag-abc123/,
  },
  {
    name: 'inventory: JSON that is not JSON',
    run: () => parseInventory('[{"SmartAGId": ', 'json', { source: 'fleet.json' }),
    message: /fleet\.json/,
  },
  {
    name: 'inventory: JSON with a missing region',
    run: () => parseInventory('[{"smartAgId":"sag-abc123"}]', 'json', { source: 'fleet.json' }),
    message: /region/i,
  },
  // policies
  {
    name: 'policy: not YAML',
    run: () => loadPolicy('targetVersion: [unclosed', 'yaml', 'policy.yaml'),
    message: /policy\.yaml/,
  },
  {
    name: 'policy: unknown field',
    run: () => loadPolicy('targetVersion: 2.4.0.0\nconcurency: 5\n', 'yaml', 'policy.yaml'),
    message: /concurency/,
  },
  {
    name: 'policy: concurrency of 0',
    run: () =>
      validatePolicy(loadPolicy('targetVersion: 2.4.0.0\nconcurrency: 0\n', 'yaml', 'policy.yaml'), INV, {
        nowMs: NOW,
      }),
    message: /concurrency/,
  },
  {
    name: 'policy: bad duration',
    run: () => loadPolicy('targetVersion: 2.4.0.0\nbake: soon\n', 'yaml', 'policy.yaml'),
    message: /bake/,
  },
  {
    name: 'policy: failure budget over 100%',
    run: () => applyPolicyFlags(withTarget(), { maxFailures: '150%' }),
    message: /max-failures/,
  },
  {
    name: 'policy: waves that do not reach 100%',
    run: () => validatePolicy(applyPolicyFlags(withTarget(), { waves: '10%,50%' }), INV, { nowMs: NOW }),
    message: /last wave must reach 100%/,
  },
  {
    name: 'policy: canary larger than the fleet',
    run: () => validatePolicy(withTarget({ canary: { count: 5 } }), INV, { nowMs: NOW }),
    message: /canary/,
  },
  // versions
  {
    name: 'version: no target',
    run: () => validatePolicy({ ...defaultPolicy(), targetVersion: '' }, INV, { nowMs: NOW }),
    message: /targetVersion/,
  },
  {
    name: 'version: malformed firmware version',
    run: () =>
      validatePolicy(applyPolicyFlags(withTarget(), { targetVersion: '2.4-beta' }), INV, { nowMs: NOW }),
    message: /"2\.4-beta" is not a Device version/,
  },
  {
    name: 'version: unknown version type',
    run: () => applyPolicyFlags(withTarget(), { versionType: 'Kernel' }),
    message: /version-type|Kernel/,
  },
  // regions
  {
    name: 'region: window selector names an unknown region',
    run: () =>
      validatePolicy(
        withTarget({
          windows: [
            {
              kind: 'recurring',
              cron: '0 0 2 * * ?',
              duration: '4h',
              timeZone: 'Asia/Shanghai',
              appliesTo: { regions: ['xx-nowhere'] },
            },
          ],
        }),
        INV,
        { nowMs: NOW },
      ),
    message: /xx-nowhere|region/,
  },
  // windows
  {
    name: 'window: unknown time zone',
    run: () => loadPolicy(windowYaml('0 0 2 * * ?', 'Mars/Olympus'), 'yaml', 'policy.yaml'),
    message: /line \d+: windows\[0\]\.timeZone: unknown time zone/,
  },
  {
    name: 'window: bad cron',
    run: () =>
      validatePolicy(loadPolicy(windowYaml('0 0 25 * * ?', 'Asia/Shanghai'), 'yaml', 'policy.yaml'), INV, {
        nowMs: NOW,
      }),
    message: /windows\[0\]\.cron/,
  },
  {
    name: 'window: never open before the deadline (frozen)',
    run: () =>
      checkFeasible(
        withTarget({
          windows: [{ kind: 'recurring', cron: '0 0 2 * * ?', duration: '4h', timeZone: 'Asia/Shanghai' }],
          freezes: [{ start: '2026-11-01T00:00:00Z', end: '2027-01-31T00:00:00Z' }],
          deadline: '2026-12-31T00:00:00Z',
        }),
        NOW,
      ),
    message: /deadline/i,
  },
  // credentials
  {
    name: 'credentials: key id without secret',
    run: () =>
      resolveCredentialsProvider({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIexample' }, { homeDir: '/nonexistent' }),
    message: /ALIBABA_CLOUD_ACCESS_KEY_SECRET is missing|ALIBABA_CLOUD_ACCESS_KEY_ID is set/,
  },
  {
    name: 'credentials: secret without key id',
    run: () =>
      resolveCredentialsProvider(
        { ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'topsecretvalue123' },
        { homeDir: '/nonexistent' },
      ),
    message: /ALIBABA_CLOUD_ACCESS_KEY_ID is missing/,
  },
  {
    name: 'credentials: token alone',
    run: () =>
      resolveCredentialsProvider({ ALIBABA_CLOUD_SECURITY_TOKEN: 'tok' }, { homeDir: '/nonexistent' }),
    message: /ALIBABA_CLOUD_SECURITY_TOKEN/,
  },
  {
    name: 'credentials: partial OIDC role',
    run: () =>
      resolveCredentialsProvider(
        { ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1:role/x' },
        { homeDir: '/nonexistent' },
      ),
    message: /OIDC.*missing/,
  },
  {
    name: 'credentials: none at all',
    run: () => resolveCredentialsProvider({}, { homeDir: '/nonexistent' }),
    message: /no Alibaba Cloud credentials configured/,
  },
];

describe('bad input is refused before anything starts', () => {
  it.each(cases)('$name', ({ run, message }) => {
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err, 'expected a refusal').toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    // No secret value leaks into a refusal.
    expect((err as Error).message).not.toContain('topsecretvalue123');
  });
});
