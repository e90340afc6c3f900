import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const CLI_MAIN = path.join(ROOT, 'test', 'reliability', 'cli-main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a sag-rollout process on the cluster: nothing of this process's
 * environment but PATH, and the cluster's temporal.toml profile (address, namespace, TLS).
 */
export function clusterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: inject('tmpRoot'),
    USER: 'tester',
    ...inject('temporalEnv'),
    ...extra,
  };
}

/** Runs the CLI from source (no build needed) with the cluster's profile, without a terminal. */
export function runCli(
  args: string[],
  extra: NodeJS.ProcessEnv = {},
  timeoutMs = 90_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI_MAIN, ...args],
      { cwd: ROOT, env: clusterEnv(extra), timeout: timeoutMs, maxBuffer: 50 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface LongCli {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the first line of output matching `re`. */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a long-running CLI command (worker, dashboard) with the cluster's profile. */
export function spawnCli(args: string[], extra: NodeJS.ProcessEnv = {}): LongCli {
  return spawnScript(CLI_MAIN, args, extra);
}

/** Starts a TypeScript script (through tsx) with the cluster's profile in its environment. */
export function spawnScript(script: string, args: string[], extra: NodeJS.ProcessEnv = {}): LongCli {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: clusterEnv(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let all = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (s: string) => {
    all += s;
    for (const w of [...waiters]) {
      const m = all.split('\n').find((l) => w.re.test(l));
      if (m !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  proc.stdout.setEncoding('utf8').on('data', onData);
  proc.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    output: () => all,
    line(re, timeoutMs = 120_000) {
      const found = all.split('\n').find((l) => re.test(l));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no line matching ${String(re)} within ${timeoutMs} ms:\n${all.slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(
            new Error(`the command exited (${code}) before printing ${String(re)}:\n${all.slice(-3000)}`),
          );
        });
      });
    },
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Restarts the cluster's Temporal server (a crash with SIGKILL, or a clean stop with SIGTERM). */
export async function restartServer(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<{ ms: number }> {
  const r = await fetch(`${inject('clusterControlUrl')}/restart?signal=${signal}`, { method: 'POST' });
  const body = (await r.json()) as { ms: number; error?: string };
  if (!r.ok) throw new Error(`restart failed: ${body.error ?? r.status}`);
  return body;
}
