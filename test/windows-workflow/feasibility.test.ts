import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { InputError } from '../../src/config/errors';
import { checkFeasible } from '../../src/windows';
import type { RolloutPolicy } from '../../domain/types';
import { fastRolloutPolicy } from '../helpers/fixtures';
import { inventory, onceWindow } from './helpers';

// A rollout whose windows can never start a device is refused at the edge, before any workflow
// exists: `checkFeasible` (src/windows) and the CLI's `start`, which runs it before connecting.

const NOW = Date.parse('2026-03-04T10:00:00Z');
const MIN = 60_000;
const FLEET = inventory(['sag-fea01', 'sag-fea02']);

function problemsOf(policy: RolloutPolicy, now = NOW): string[] {
  try {
    checkFeasible(policy, now, FLEET);
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  return [];
}

describe('checkFeasible', () => {
  it('returns the first instant a device may start when a window opens with room to spare', () => {
    const policy = fastRolloutPolicy({
      expectedUpgradeTime: 10 * MIN,
      windows: [onceWindow(NOW + 30 * MIN, NOW + 60 * MIN)],
    });
    expect(checkFeasible(policy, NOW, FLEET)).toBe(NOW + 30 * MIN);
  });

  it('refuses windows that all closed before now', () => {
    const policy = fastRolloutPolicy({ windows: [onceWindow(NOW - 60 * MIN, NOW - 30 * MIN)] });
    expect(problemsOf(policy)).toEqual([
      expect.stringMatching(
        /^windows: no change window opens for 2 devices \(sag-fea01, sag-fea02\) in the next 400 days/,
      ),
    ]);
  });

  it('refuses a window shorter than expectedUpgradeTime', () => {
    const policy = fastRolloutPolicy({
      expectedUpgradeTime: 20 * MIN,
      windows: [onceWindow(NOW + 10 * MIN, NOW + 25 * MIN)],
    });
    expect(problemsOf(policy)).toEqual([
      expect.stringMatching(/no change window opens .* with 20m \(expectedUpgradeTime\) to spare/),
    ]);
  });

  it('refuses when freeze periods cover every window', () => {
    const policy = fastRolloutPolicy({
      windows: [onceWindow(NOW + 10 * MIN, NOW + 40 * MIN)],
      freezes: [
        {
          start: new Date(NOW).toISOString(),
          end: new Date(NOW + 50 * MIN).toISOString(),
          reason: 'year end',
        },
      ],
    });
    expect(problemsOf(policy)).toEqual([
      expect.stringMatching(/^freezes: the freeze periods cover every change window/),
    ]);
  });

  it('refuses a deadline that comes before the first window, and one already past', () => {
    const windows = [
      { kind: 'recurring' as const, cron: '0 2 * * SAT', duration: '1h', timeZone: 'Asia/Shanghai' },
    ];
    // NOW is a Wednesday: the next window opens on Saturday.
    const beforeWindow = fastRolloutPolicy({
      windows,
      deadline: new Date(NOW + 24 * 60 * MIN).toISOString(),
    });
    expect(problemsOf(beforeWindow)).toEqual([
      expect.stringMatching(/no change window opens .* before the deadline/),
    ]);
    const past = fastRolloutPolicy({ deadline: new Date(NOW - MIN).toISOString() });
    expect(problemsOf(past)).toEqual([expect.stringMatching(/^deadline: .* has already passed/)]);
  });
});

describe('sag-rollout start with impossible windows', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sag-windows-cli-'));
  const inventoryFile = path.join(dir, 'inventory.csv');
  writeFileSync(inventoryFile, 'SmartAGId,RegionId\nsag-fea01,cn-shanghai\nsag-fea02,cn-shanghai\n');

  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function start(
    policyYaml: string,
    extra: string[] = [],
  ): Promise<{ code: number; stderr: string; stdout: string }> {
    const file = path.join(dir, `policy-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, policyYaml);
    let stderr = '';
    let stdout = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    // Port 9 answers nothing: a command that got as far as connecting would fail with exit code 1.
    const code = await main([
      'node',
      'sag-rollout',
      '--address',
      '127.0.0.1:9',
      'start',
      '--inventory',
      inventoryFile,
      '--policy',
      file,
      '--yes',
      ...extra,
    ]);
    vi.restoreAllMocks();
    return { code, stderr, stdout };
  }

  it('exits with code 2 and names the problem, starting nothing, when no window can ever start a device', async () => {
    const start1 = new Date(Date.now() - 2 * 3600_000).toISOString();
    const end1 = new Date(Date.now() - 3600_000).toISOString();
    const policy = [
      'targetVersion: "2.4.0.0"',
      'expectedUpgradeTime: 10m',
      'windows:',
      '  - kind: once',
      `    start: "${start1}"`,
      `    end: "${end1}"`,
    ].join('\n');
    const r = await start(`${policy}\n`, ['--ticket', 'CHG-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no change window opens/);
    expect(r.stdout).toBe('');
  });

  it('exits with code 2 when the policy requires a change ticket and none is given', async () => {
    const r = await start('targetVersion: "2.4.0.0"\nrequireTicket: true\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ticket: requireTicket is set but no change ticket was given/);
  });
});
