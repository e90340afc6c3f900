/**
 * The operator's side of the chaos run: starts a rollout and watches it to its close, kills
 * workers on a schedule, takes the credentials away and gives them back (then resumes, as an
 * operator would), approves gates and aborts. Each driver is a hook called once a second with what
 * the loop saw of the rollout.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { SimulatorHandle } from '../../src/simulator';
import { rolloutWorkflow } from '../../workflows';
import { deviceWorkflowId } from '../../workflows/device';
import {
  abortUpdate,
  approveUpdate,
  devicesQuery,
  progressQuery,
  resumeUpdate,
  type CommandResult,
} from '../../workflows/messages';
import type { RolloutPolicy, RolloutProgress } from '../../domain/types';
import type { CredentialEvent, RolloutRun } from './chaos-checks';
import { UPGRADE_ACTION } from './chaos-faults';
import type { ChaosDevice } from './chaos-fleet';
import { rolloutDevices } from './rollout-data';
import type { RestartableServer } from './temporal-server';
import type { WorkerPool } from './worker-pool';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What every driver works with. */
export interface Stack {
  sim: SimulatorHandle;
  sent: SentTracker;
  pool: WorkerPool;
  server: RestartableServer;
  client: Client;
  /** The workers' AccessKey (an STS key) in the simulator. */
  accessKeyId: string;
  taskQueue: string;
  /** Nothing waits past this instant (ms since epoch). */
  deadline: number;
  log: (line: string) => void;
}

/** Where the second rollout is aborted: at the gate before `wave`, or while it runs (`draw` picks how far). */
export interface AbortPlan {
  atGate: boolean;
  wave: number;
  draw: number;
}

/** Runs `fn` until it succeeds or a minute passes: queries need a worker, and one may just have been killed. */
async function patiently<T>(log: Stack['log'], what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 30) throw err;
      if (attempt % 5 === 1)
        log(`${what} failed, again in 2 s: ${err instanceof Error ? err.message : String(err)}`);
      await sleep(2000);
    }
  }
}

/** Sends an operator command through its Update, again while no worker answers. */
async function command(
  stack: Stack,
  handle: WorkflowHandle<typeof rolloutWorkflow>,
  what: 'resume' | 'approve' | 'abort',
  extra: Record<string, unknown> = {},
): Promise<CommandResult | undefined> {
  const cmd = { by: 'chaos-operator', requestId: randomUUID(), reason: `chaos ${what}`, ...extra };
  const update = what === 'resume' ? resumeUpdate : what === 'approve' ? approveUpdate : abortUpdate;
  for (let attempt = 0; Date.now() < stack.deadline; attempt++) {
    try {
      return await handle.executeUpdate(update, { args: [cmd] });
    } catch (err) {
      if (attempt % 5 === 0)
        stack.log(`${what} not delivered yet: ${err instanceof Error ? err.message : String(err)}`);
      await sleep(2000);
    }
  }
  return undefined;
}

/** What one tick of the loop sees of a running rollout. */
export interface Tick {
  handle: WorkflowHandle<typeof rolloutWorkflow>;
  progress?: RolloutProgress;
  /** Devices of this rollout sent an upgrade call so far, whatever the answer (the simulator's log). */
  sent: number;
  now: number;
}

/** Devices sent an upgrade call, read from the simulator's request log as it grows. */
export class SentTracker {
  private read = 0;
  /** The last upgrade call to each device. */
  private readonly last = new Map<string, number>();

  constructor(private readonly sim: SimulatorHandle) {}

  /** How many of `ids` were sent an upgrade call at or after `since`. */
  count(ids: Set<string>, since: number): number {
    const total = this.sim.stats().totalRequests;
    if (total > this.read) {
      for (const e of this.sim.requests(total - this.read)) {
        if (e.action === UPGRADE_ACTION && e.smartAgId)
          this.last.set(e.smartAgId, Math.max(this.last.get(e.smartAgId) ?? 0, Date.parse(e.time)));
      }
      this.read = total;
    }
    let n = 0;
    for (const id of ids) if ((this.last.get(id) ?? 0) >= since) n++;
    return n;
  }
}

/** The operator's side of the credential events: take the key away, wait for the halt, give it back, resume. */
export class CredentialDriver {
  private restoreAt?: number;

  constructor(
    private readonly stack: Stack,
    readonly events: CredentialEvent[],
    private readonly upgradable: number,
  ) {}

  /** The event under way, if any (a pause while it is under way is its halt). */
  get active(): CredentialEvent | undefined {
    return this.events.find((e) => e.appliedAt !== undefined && e.resumedAt === undefined && !e.error);
  }

  private set(ev: CredentialEvent, on: boolean): void {
    this.stack.sim.updateCredential(
      this.stack.accessKeyId,
      ev.kind === 'disabled' ? { disabled: on } : { expired: on },
    );
  }

  async tick(t: Tick): Promise<void> {
    const ev = this.active;
    if (!ev) {
      const next = this.events.find((e) => e.appliedAt === undefined);
      if (next && t.sent >= next.atShare * this.upgradable) {
        this.set(next, true);
        next.appliedAt = t.now;
        next.breachesBefore = t.progress?.failureBudget.breaches ?? 0;
        this.stack.log(`credentials ${next.kind} (${t.sent}/${this.upgradable} devices sent their upgrade)`);
      }
      return;
    }
    if (ev.haltedAt === undefined) {
      const p = t.progress;
      if (p?.state === 'paused' && p.haltReason) {
        ev.haltedAt = t.now;
        ev.haltReason = p.haltReason;
        ev.breachesAtHalt = p.failureBudget.breaches ?? 0;
        const counted = [
          ...(await t.handle.query(devicesQuery, { outcome: 'failed', limit: 10_000 })).devices,
          ...(await t.handle.query(devicesQuery, { outcome: 'unconfirmed', limit: 10_000 })).devices,
        ];
        ev.countedAtHalt = counted
          .filter((s) => s.errorCode && /^(InvalidAccessKeyId|InvalidSecurityToken)\./.test(s.errorCode))
          .map((s) => s.smartAgId);
        this.restoreAt = t.now + 3000;
        this.stack.log(
          `halted ${((ev.haltedAt - ev.appliedAt!) / 1000).toFixed(1)} s after credentials ${ev.kind}: ${p.haltReason}`,
        );
      } else if (t.now - ev.appliedAt! > 180_000) {
        ev.error = `the rollout did not halt within 180 s (state ${p?.state ?? 'unknown'})`;
        this.set(ev, false);
      }
      return;
    }
    if (ev.restoredAt === undefined && t.now >= (this.restoreAt ?? 0)) {
      this.set(ev, false);
      ev.restoredAt = Date.now();
      const r = await command(this.stack, t.handle, 'resume');
      ev.resumedAt = Date.now();
      this.stack.log(
        `credentials restored, resume ${r?.accepted ? 'accepted' : `refused: ${r?.message ?? 'not delivered'}`}`,
      );
      if (!r?.accepted) ev.error = `resume was not accepted: ${r?.message ?? 'not delivered'}`;
    }
  }

  /** Gives back whatever is still taken away (a run that ended mid-event). */
  restoreAll(): void {
    for (const ev of this.events)
      if (ev.appliedAt !== undefined && ev.restoredAt === undefined) this.set(ev, false);
  }
}

/** The second rollout's gates and its abort: approve each gate until the abort point, then abort with compensation. */
export class AbortDriver {
  done?: { at: string; state: string; accepted: boolean; message: string };
  private approved = new Set<number>();
  private sentAtApproval?: number;

  private readonly plan: AbortPlan;

  constructor(
    private readonly stack: Stack,
    plan: AbortPlan,
    /** Devices of each wave that can be upgraded (the canary is wave 0). */
    private readonly upgradableInWave: number[],
  ) {
    // A small fleet may plan fewer waves than the draw.
    this.plan = { ...plan, wave: Math.max(1, Math.min(plan.wave, upgradableInWave.length - 1)) };
  }

  async tick(t: Tick): Promise<void> {
    const p = t.progress;
    if (this.done || !p) return;
    const gate = p.state === 'waiting-approval' && p.gate?.kind === 'approval' ? p.gate.wave : undefined;
    if (gate !== undefined) {
      if ((this.plan.atGate && gate === this.plan.wave) || gate > this.plan.wave)
        return this.abort(t, `at the gate before wave ${gate}`);
      if (!this.approved.has(gate)) {
        this.approved.add(gate);
        if (gate === this.plan.wave) this.sentAtApproval = t.sent;
        const r = await command(this.stack, t.handle, 'approve', { wave: gate });
        this.stack.log(`approving wave ${gate}: ${r?.message ?? 'not delivered'}`);
      }
      return;
    }
    if (!this.plan.atGate && this.sentAtApproval !== undefined) {
      const k =
        1 +
        Math.floor(
          this.plan.draw * Math.max(1, Math.floor(0.6 * (this.upgradableInWave[this.plan.wave] ?? 1))),
        );
      if (t.sent - this.sentAtApproval >= k)
        await this.abort(
          t,
          `while wave ${this.plan.wave} ran (${t.sent - this.sentAtApproval} of its devices sent their upgrade)`,
        );
    }
  }

  private async abort(t: Tick, at: string): Promise<void> {
    const r = await command(this.stack, t.handle, 'abort', { compensate: true });
    this.done = {
      at,
      state: t.progress?.state ?? 'unknown',
      accepted: r?.accepted ?? false,
      message: r?.message ?? 'not delivered',
    };
    this.stack.log(`abort ${at}: ${this.done.message}`);
  }
}

/** Kills a random worker at the scheduled instants (from the first rollout's start). */
export class Killer {
  private next = 0;
  count = 0;

  constructor(
    private readonly stack: Stack,
    private readonly at: number[],
    private readonly since: number,
    private readonly max: number,
  ) {}

  tick(now: number): void {
    const t = this.at[this.next];
    if (t === undefined || this.count >= this.max || now < this.since + t * 1000) return;
    this.next++;
    const pid = this.stack.pool.killRandom();
    if (pid) {
      this.count++;
      this.stack.log(`SIGKILL worker pid ${pid}`);
    }
  }
}

export interface DriveOptions {
  name: string;
  rolloutId: string;
  inventory: ChaosDevice[];
  policy: RolloutPolicy;
  hooks: ((t: Tick) => Promise<void>)[];
}

/** Starts a rollout and runs the loop until it closes: kills, hooks, a progress line every 15 s. */
export async function drive(stack: Stack, killer: Killer, o: DriveOptions): Promise<RolloutRun> {
  const startedAt = Date.now();
  const ids = new Set(o.inventory.map((d) => d.smartAgId));
  const handle = await stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${o.rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId: o.rolloutId,
        inventory: o.inventory.map((d) => ({ smartAgId: d.smartAgId, regionId: d.regionId })),
        policy: o.policy,
        operator: 'chaos',
        ticket: 'CHAOS',
        taskQueue: stack.taskQueue,
      },
    ],
  });
  const { log } = stack;
  log(`rollout ${o.name} started: ${o.inventory.length} devices`);
  let closed = false;
  let progress: RolloutProgress | undefined;
  let lastLog = 0;
  while (!closed && Date.now() < stack.deadline) {
    await sleep(1000);
    try {
      closed = (await handle.describe()).status.name !== 'RUNNING';
      progress = await handle.query(progressQuery);
    } catch {
      // The server is restarting, or no worker is up to answer the query.
    }
    const sent = stack.sent.count(ids, startedAt);
    const t: Tick = { handle, progress, sent, now: Date.now() };
    killer.tick(t.now);
    if (!closed) for (const hook of o.hooks) await hook(t);
    if (Date.now() - lastLog > 15_000 && progress) {
      lastLog = Date.now();
      log(
        `${o.name}: ${progress.state}, ${sent} devices sent their upgrade, ${JSON.stringify(progress.counts)}; workers up ${stack.pool.up}`,
      );
    }
  }
  const run: RolloutRun = {
    name: o.name,
    rolloutId: o.rolloutId,
    startedAt,
    closedAt: Date.now(),
    state: 'unknown',
    inventory: [...ids],
    statuses: [],
    running: [],
    waveMinutes: {},
  };
  if (!closed) return run;
  try {
    run.state = (await handle.result()).state;
    run.closedAt = Date.now();
    run.statuses = await patiently(log, 'reading the devices', () => rolloutDevices(handle));
    for (const w of (await patiently(log, 'reading the progress', () => handle.query(progressQuery))).waves) {
      if (w.startedAt && w.finishedAt)
        run.waveMinutes[w.name] = Math.round((w.finishedAt - w.startedAt) / 600) / 100;
    }
  } catch (err) {
    log(`rollout ${o.name} did not complete: ${err instanceof Error ? err.message : String(err)}`);
  }
  // No device workflow may still run once the rollout closed.
  for (const id of ids) {
    try {
      if ((await stack.client.workflow.getHandle(deviceWorkflowId(id)).describe()).status.name === 'RUNNING')
        run.running.push(id);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  log(`rollout ${o.name} ${run.state} in ${((run.closedAt - startedAt) / 60_000).toFixed(1)} min`);
  return run;
}

/** Resumes a rollout paused by anything but a credential event under way (a halt an operator would look at and resume). */
export function resumeOtherHalts(stack: Stack, credentials?: CredentialDriver) {
  const halts: { at: number; reason: string }[] = [];
  let pausedSince: number | undefined;
  const hook = async (t: Tick) => {
    if (t.progress?.state !== 'paused' || credentials?.active) {
      pausedSince = undefined;
      return;
    }
    pausedSince ??= t.now;
    if (t.now - pausedSince < 2000) return;
    halts.push({ at: t.now, reason: t.progress.haltReason ?? 'paused' });
    stack.log(`rollout paused (${t.progress.haltReason ?? 'no reason'}); resuming`);
    await command(stack, t.handle, 'resume');
    pausedSince = undefined;
  };
  return { hook, halts };
}
