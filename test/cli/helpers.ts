import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'sag-rollout.js');

/** Builds the CLI once if `npm run build` has not been run. */
export function ensureBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real binary, without a terminal, and collects its output. */
export function cli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: opts.cwd ?? ROOT,
        env: { PATH: process.env.PATH, HOME: os.tmpdir(), USER: 'tester', ...opts.env },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 20 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Global flags that point a command at the test server and a task queue. */
export function temporalArgs(taskQueue: string): string[] {
  return ['--address', inject('temporalAddress'), '--task-queue', taskQueue];
}

/** A temp directory for one test file. */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(inject('tmpRoot'), `${prefix}-`));
}

/** Writes a file and returns its path. */
export function write(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** A policy file with test-sized timings. */
export const FAST_POLICY = `
targetVersion: "2.4.0.0"
canary: 1
waves: 50%,100%
concurrency: 10
bake: 0s
verify:
  timeout: 4s
  pollInterval: 100ms
  consecutivePolls: 2
upgradeSettle: 1s
expectedUpgradeTime: 1s
offlineRetryDelay: 300ms
failureBudget:
  maxFailurePercent: 50
  minFailures: 3
  maxConsecutiveFailures: 0
`;

/** Polls `fn` until it returns a value, or throws after `timeoutMs`. */
export async function until<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
