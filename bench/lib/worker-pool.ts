/**
 * Worker processes (bench/lib/worker-process) under a supervisor: any worker that exits — SIGKILLed
 * on purpose, or gave up while the Temporal server was away — is started again after a short
 * seeded delay. Samples each worker's peak resident memory once a second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { memoryMiB } from './proc';
import { between, type Random } from './random';
import { workerEntry } from './worker-launch';
import type { WorkerProcessConfig } from './worker-process';

export interface WorkerPoolOptions {
  /** Seeded draws for restart delays and kill victims. */
  rand: Random;
  /** Delay before a worker that exited is started again (default 1-3 s). */
  restartDelayMs?: [number, number];
  /** Where the workers' stderr goes: the terminal (default) or a file, appended to. */
  stderrFile?: string;
}

interface Slot {
  child?: ChildProcess;
  starts: number;
  kills: number;
  peakMiB: number;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private stopping = false;
  private readonly memTimer: NodeJS.Timeout;
  private readonly entry = workerEntry();

  constructor(
    private readonly cfg: WorkerProcessConfig,
    count: number,
    private readonly opts: WorkerPoolOptions,
  ) {
    this.slots = Array.from({ length: count }, () => ({ starts: 0, kills: 0, peakMiB: 0 }));
    this.slots.forEach((s) => this.start(s));
    this.memTimer = setInterval(() => this.sample(), 1000);
  }

  private start(slot: Slot): void {
    const stderr = this.opts.stderrFile ? openSync(this.opts.stderrFile, 'a') : 'inherit';
    const child = spawn(process.execPath, this.entry, {
      cwd: path.resolve(__dirname, '../..'),
      stdio: ['ignore', 'ignore', stderr],
      env: { ...process.env, BENCH_WORKER: JSON.stringify(this.cfg) },
    });
    if (typeof stderr === 'number') closeSync(stderr);
    slot.child = child;
    slot.starts++;
    child.once('exit', () => {
      if (slot.child === child) slot.child = undefined;
      if (this.stopping) return;
      const [min, max] = this.opts.restartDelayMs ?? [1000, 3000];
      setTimeout(() => !this.stopping && !slot.child && this.start(slot), between(this.opts.rand, min, max));
    });
  }

  private sample(): void {
    for (const s of this.slots) if (s.child?.pid) s.peakMiB = Math.max(s.peakMiB, memoryMiB(s.child.pid).hwm);
  }

  /** Workers running now. */
  get up(): number {
    return this.slots.filter((s) => s.child).length;
  }

  get kills(): number {
    return this.slots.reduce((n, s) => n + s.kills, 0);
  }

  get starts(): number {
    return this.slots.reduce((n, s) => n + s.starts, 0);
  }

  /** The largest peak resident set (VmHWM) any worker process reached, in MiB. */
  get peakMiB(): number {
    return Math.round(Math.max(0, ...this.slots.map((s) => s.peakMiB)));
  }

  /** SIGKILLs a running worker chosen at random; its pid, or undefined when none runs. */
  killRandom(): number | undefined {
    const up = this.slots.filter((s) => s.child);
    const victim = up[Math.floor(this.opts.rand() * up.length)];
    const child = victim?.child;
    if (!victim || !child?.pid) return undefined;
    this.sample();
    victim.kills++;
    child.kill('SIGKILL');
    return child.pid;
  }

  /** Stops the supervisor and the workers (SIGTERM: a clean shutdown), waiting up to `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.memTimer);
    const exits = this.slots.map((s) => {
      const child = s.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, graceMs);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      });
    });
    await Promise.all(exits);
  }
}
