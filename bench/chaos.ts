/**
 * Chaos: two rollouts through a seeded storm, checked against the simulator's own records.
 *
 * A fresh dev server (its own SQLite file), the simulator with a generated fleet and two worker
 * processes sharing the API quota. Every kind of fault the simulator makes lands on the first
 * upgrade call of chosen serial numbers (refused before processing; processed, then answered with
 * a 5xx, an HTML page or a text body, or lost, cut or late), with a background of transient faults
 * on every other action; some devices download for longer than the settle, some revert or never
 * come back. The first rollout runs through worker SIGKILLs, one Temporal server restart, and its
 * AccessKey disabled and later its STS token expired, each given back once the rollout halted, and
 * the rollout resumed as an operator would. The second rollout (the rest of the fleet and what the
 * first left unconfirmed or failed) waits at a gate before each wave and is aborted with
 * compensation at a random point, at a gate or while running.
 *
 *   npm run chaos -- [--devices 300] [--seed N] [--minutes 30] [--short] [--workers 2]
 *                    [--kill-every 30] [--concurrency 6] [--fault-share 0.3]
 *                    [--background-rate 0.04] [--without <fault category>]... [--keep]
 *
 * `--short` is the CI run: 48 devices, 10 at a time, no device that never returns, one worker
 * kill, the same invariants. The seed (random unless given) is printed first; the same seed gives
 * the same fleet, fault schedule, kill intervals, credential and abort points (what the timing of
 * a run decides still varies).
 *
 * Checked (bench/lib/chaos-checks.ts): at most one accepted upgrade per serial number and version
 * within a rollout (simulator ledger); nothing sent again after an ambiguous answer (request log);
 * every device in exactly one final state, no `upgrade/<SmartAGId>` running once a rollout closed;
 * every failed or unconfirmed device of the aborted rollout compensated or saying why not; no
 * auto-upgrade policy left pinned without its status saying so; credential failures halt the
 * rollout naming the code, count no device, and the interrupted devices are upgraded with one call
 * once it resumes; a device that can be upgraded and saw no ambiguity reaches the target with one
 * call; nothing sent by the second rollout to a serial number whose call the first left
 * unconfirmed; every fault kind fired. Exit code 1 with the list of violations; figures on stderr,
 * the result as JSON on stdout.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultPolicy } from '../src/config/policy';
import { startSimulator, type SimulatorHandle } from '../src/simulator';
import { connectClient } from '../src/temporal/connection';
import { planWaves } from '../domain/plan';
import type { RolloutPolicy } from '../domain/types';
import {
  checkAll,
  interruptedDevices,
  type CheckInput,
  type CredentialEvent,
  type RolloutRun,
} from './lib/chaos-checks';
import { FAULT_KINDS, planFaults, UPGRADE_ACTION, type FaultPlan } from './lib/chaos-faults';
import { buildFleet, TARGET_VERSION, type ChaosDevice } from './lib/chaos-fleet';
import {
  AbortDriver,
  CredentialDriver,
  drive,
  Killer,
  resumeOtherHalts,
  SentTracker,
  type AbortPlan,
  type Stack,
  type Tick,
} from './lib/chaos-operator';
import { between, seeded } from './lib/random';
import { acceptedPerSerialVersion, faultRules } from './lib/rollout-data';
import { RestartableServer } from './lib/temporal-server';
import { bundleWorkflows } from './lib/worker-launch';
import { WorkerPool } from './lib/worker-pool';
import type { WorkerProcessConfig } from './lib/worker-process';

const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    devices: { type: 'string' },
    seed: { type: 'string' },
    minutes: { type: 'string' },
    workers: { type: 'string', default: '2' },
    'kill-every': { type: 'string' },
    concurrency: { type: 'string' },
    'fault-share': { type: 'string', default: '0.3' },
    'background-rate': { type: 'string', default: '0.04' },
    without: { type: 'string', multiple: true, default: [] },
    keep: { type: 'boolean', default: false },
  },
});
const SHORT = args.short;
const N = Number(args.devices ?? (SHORT ? 48 : 300));
const SEED = args.seed !== undefined ? Number(args.seed) : randomBytes(4).readUInt32BE() % 1_000_000;
const MINUTES = Number(args.minutes ?? (SHORT ? 6 : 30));
const WORKERS = Number(args.workers);
/** Mean seconds between worker kills; the short run kills once. */
const KILL_EVERY_S = Number(args['kill-every'] ?? (SHORT ? 0 : 30));
const CONCURRENCY = Number(args.concurrency ?? (SHORT ? 10 : 6));
const CLIENT_TIMEOUT_MS = 2000;
const SETTLE_MS = 6000;
const DOWNLOAD_S = 1;
const UPGRADE_S = 2;
const API_RATE = 400;
const TASK_QUEUE = 'chaos';

const started = Date.now();
const log = (l: string) => process.stderr.write(`chaos ${new Date().toISOString().slice(11, 19)} ${l}\n`);
const deadline = started + MINUTES * 60_000;

/** What to stop when the run ends or is interrupted, last started first. */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (const stop of cleanups.splice(0).reverse()) await stop().catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the workers, the simulator and the server`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** The project's defaults with the run's pace, seconds-long timings and a budget that never pauses it. */
function rolloutPolicy(overrides: Partial<RolloutPolicy> = {}): RolloutPolicy {
  return {
    ...defaultPolicy(),
    targetVersion: TARGET_VERSION,
    canary: { count: 1 },
    waves: { cumulativePercents: [10, 40, 100] },
    maxPartSize: 50,
    concurrency: CONCURRENCY,
    // Faulted, reverting and offline devices are the point of the run; they must not pause it.
    failureBudget: {
      maxFailurePercent: 100,
      minFailures: 100_000,
      maxConsecutiveFailures: 0,
      onBreach: 'pause',
    },
    bake: 0,
    // Counted from the send: two 30 s activity timeouts a killed worker leaves, plus the longest download.
    verify: { timeout: 90_000, pollInterval: 1000, consecutivePolls: 2 },
    upgradeSettle: SETTLE_MS,
    noSignAfterSettle: 'unconfirmed',
    expectedUpgradeTime: 60_000,
    offlineRetryDelay: 3000,
    ...overrides,
  };
}

/** Everything drawn from the seed before anything runs, so timing does not shift later draws. */
interface Schedule {
  /** The fleet the simulator serves, with the changes the draw made. */
  parsedFleet: ReturnType<typeof buildFleet>['fleet'];
  fleet: ChaosDevice[];
  /** The first rollout's inventory (its canary first), and the rest of the fleet (the second's canary first). */
  first: ChaosDevice[];
  second: ChaosDevice[];
  faults: FaultPlan;
  credentialEvents: CredentialEvent[];
  /** Share of the first rollout's upgradable devices sent their upgrade when the server restarts. */
  restartAtShare: number;
  /** Seconds from the first rollout's start to each kill. */
  killAt: number[];
  abort: AbortPlan;
}

function drawSchedule(): Schedule {
  const rand = seeded(SEED);
  const { fleet: parsedFleet, devices } = buildFleet(rand, {
    devices: N,
    seed: SEED,
    settleSeconds: SETTLE_MS / 1000,
    downloadSeconds: DOWNLOAD_S,
    upgradeSeconds: UPGRADE_S,
    stayOffline: !SHORT,
  });
  const cut = Math.ceil((devices.length * 2) / 3);
  const first = canaryFirst(devices.slice(0, cut), 1);
  const second = canaryFirst(devices.slice(cut), canarySize(devices.length - cut));
  const faults = planFaults(rand, {
    cover: first.slice(1).filter((d) => d.upgradable),
    others: second.slice(canarySize(second.length)).filter((d) => d.upgradable),
    share: Number(args['fault-share']),
    backgroundRate: Number(args['background-rate']),
    clientTimeoutMs: CLIENT_TIMEOUT_MS,
    without: args.without,
  });
  const credentialEvents: CredentialEvent[] = [
    { kind: 'disabled', code: 'InvalidAccessKeyId.Inactive', atShare: between(rand, 0.12, 0.28) },
    { kind: 'expired', code: 'InvalidSecurityToken.Expired', atShare: between(rand, 0.6, 0.72) },
  ];
  const restartAtShare = between(rand, 0.38, 0.5);
  const killAt: number[] = [];
  let t = KILL_EVERY_S > 0 ? KILL_EVERY_S * between(rand, 0.5, 1.5) : between(rand, 15, 40);
  while (killAt.length < (KILL_EVERY_S > 0 ? 200 : 1)) {
    killAt.push(t);
    t += KILL_EVERY_S * between(rand, 0.5, 1.5);
  }
  // At the gate before wave 2 or 3, or while one of them runs: earlier waves leave failed devices to compensate.
  const abort = { atGate: rand() < 0.5, wave: 2 + Math.floor(rand() * 2), draw: rand() };
  return {
    parsedFleet,
    fleet: [...first, ...second],
    first,
    second,
    faults,
    credentialEvents,
    restartAtShare,
    killAt,
    abort,
  };
}

function canarySize(n: number): number {
  return Math.max(1, Math.round(n * 0.08));
}

/** The list with `k` devices that can be upgraded cleanly first: a canary tolerates no failure. */
function canaryFirst(list: ChaosDevice[], k: number): ChaosDevice[] {
  const clean = list.filter((d) => d.upgradable && d.outcome === 'ok' && !d.longDownload).slice(0, k);
  return [...clean, ...list.filter((d) => !clean.includes(d))];
}

/** The server, the simulator (serving the workers' STS key), the workers and a client. */
async function startStack(schedule: Schedule, tmp: string): Promise<Stack> {
  const server = await RestartableServer.start(path.join(tmp, 'temporal.db'));
  cleanups.push(() => server.stop());
  const cred = {
    accessKeyId: `LTAIchaos${randomBytes(8).toString('hex')}`,
    accessKeySecret: randomBytes(15).toString('hex'),
    securityToken: randomBytes(24).toString('base64'),
  };
  const sim = await startSimulator({
    fleet: schedule.parsedFleet,
    credentials: [cred],
    faults: { seed: SEED, rules: schedule.faults.rules },
    requestLogSize: 1_000_000,
  });
  cleanups.push(() => sim.stop());
  const cfg: WorkerProcessConfig = {
    address: server.address,
    taskQueue: TASK_QUEUE,
    endpoint: sim.endpoint,
    ...cred,
    apiRate: API_RATE,
    bundlePath: await bundleWorkflows(tmp),
    extra: { sharedQuota: true, sagTimeoutMs: CLIENT_TIMEOUT_MS },
  };
  const pool = new WorkerPool(cfg, WORKERS, {
    rand: seeded(SEED + 1),
    stderrFile: path.join(tmp, 'workers.log'),
  });
  cleanups.push(() => pool.stop());
  const client = await connectClient({
    connectionOptions: { address: server.address },
    namespace: 'default',
  });
  cleanups.push(() => client.connection.close());
  const sent = new SentTracker(sim);
  return {
    sim,
    sent,
    pool,
    server,
    client,
    accessKeyId: cred.accessKeyId,
    taskQueue: TASK_QUEUE,
    deadline,
    log,
  };
}

/** The first rollout, through the credential events, the server restart and the kills. */
async function runFirst(stack: Stack, schedule: Schedule, killer: Killer) {
  const upgradable = schedule.first.filter((d) => d.upgradable).length;
  const credentials = new CredentialDriver(stack, schedule.credentialEvents, upgradable);
  let serverRestarts = 0;
  const restart = async (t: Tick) => {
    if (serverRestarts > 0 || t.sent < schedule.restartAtShare * upgradable) return;
    serverRestarts++;
    log(`restarting the Temporal server (${t.sent} devices sent their upgrade)`);
    await stack.server.restart();
    log('Temporal server back');
  };
  const others = resumeOtherHalts(stack, credentials);
  const run = await drive(stack, killer, {
    name: 'A',
    rolloutId: `chaos-a-${SEED}`,
    inventory: schedule.first,
    policy: rolloutPolicy(),
    hooks: [(t) => credentials.tick(t), restart, others.hook],
  });
  credentials.restoreAll();
  return { run, serverRestarts, halts: others.halts };
}

/**
 * The second rollout: its canary, then what the first left unconfirmed or failed, then the rest;
 * a gate before each wave; aborted with compensation at the scheduled point.
 */
async function runSecond(stack: Stack, schedule: Schedule, killer: Killer, first: RolloutRun) {
  const leftovers = first.statuses
    .filter((s) => s.outcome === 'unconfirmed' || s.outcome === 'failed')
    .map((s) => schedule.fleet.find((d) => d.smartAgId === s.smartAgId)!);
  const k = canarySize(schedule.second.length);
  const inventory = [...schedule.second.slice(0, k), ...leftovers, ...schedule.second.slice(k)];
  const policy = rolloutPolicy({
    canary: { count: k },
    waves: { cumulativePercents: [30, 60, 100] },
    approval: 'each-wave',
    compensation: { repairHaPairs: true, requestPreviousVersion: true },
  });
  const waves = planWaves(inventory, policy).map(
    (w) => w.devices.filter((id) => inventory.find((d) => d.smartAgId === id)?.upgradable).length,
  );
  const aborter = new AbortDriver(stack, schedule.abort, waves);
  const others = resumeOtherHalts(stack);
  const run = await drive(stack, killer, {
    name: 'B',
    rolloutId: `chaos-b-${SEED}`,
    inventory,
    policy,
    hooks: [(t) => aborter.tick(t), others.hook],
  });
  return { run, leftovers: leftovers.length, abort: aborter.done, halts: others.halts };
}

/** Fault rules' firings by kind, and by planned category (background rules by kind). */
async function firings(sim: SimulatorHandle, schedule: Schedule) {
  const byKind: Record<string, number> = {};
  const byCategory: Record<string, number> = {};
  const planned = schedule.faults.planned;
  (await faultRules(sim.endpoint)).forEach((r, idx) => {
    const kind = r.kind ?? 'error';
    byKind[kind] = (byKind[kind] ?? 0) + r.fired;
    const category = idx < planned.length ? planned[idx]!.category : `background ${kind}`;
    byCategory[category] = (byCategory[category] ?? 0) + r.fired;
  });
  return { byKind, byCategory };
}

/** What the simulator holds now: versions and policies of every serial number. */
function deviceState(sim: SimulatorHandle) {
  const policiesNow: Record<string, string> = {};
  const versionsNow: Record<string, string> = {};
  for (const inst of sim.instances()) {
    for (const d of inst.devices) {
      policiesNow[d.serialNumber] = d.policies.Device.UpgradeType;
      versionsNow[d.serialNumber] = d.softwareVersion;
    }
  }
  return { policiesNow, versionsNow };
}

function outcomesOf(r: RolloutRun): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of r.statuses) c[s.outcome] = (c[s.outcome] ?? 0) + 1;
  return c;
}

/** Devices by what their compensation did (`policy-restored`, `ha-repaired`...) or the code it failed with. */
function compensationOf(r: RolloutRun | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of r?.statuses ?? []) {
    const keys = new Set(
      (s.compensation?.split(' ') ?? []).map((t) =>
        t.startsWith('compensation-failed:') ? t : t.split(':')[0]!,
      ),
    );
    for (const key of keys) out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

interface Outcome {
  schedule: Schedule;
  stack: Stack;
  killer: Killer;
  first: Awaited<ReturnType<typeof runFirst>>;
  second: Awaited<ReturnType<typeof runSecond>> | undefined;
  input: CheckInput;
  fired: Awaited<ReturnType<typeof firings>>;
  checked: ReturnType<typeof checkAll>;
  elapsedMs: number;
}

/** The run's figures: per rollout, calls, faults, kills, halts, the abort, memory, the violations. */
function figuresOf(o: Outcome) {
  const { input, fired, checked } = o;
  const stats = o.stack.sim.stats();
  const perRollout = (r: RolloutRun) =>
    acceptedPerSerialVersion(
      input.ledger.filter((e) => Date.parse(e.time) >= r.startedAt && Date.parse(e.time) <= r.closedAt),
    );
  const faultTotal = Object.values(fired.byKind).reduce((x, y) => x + y, 0);
  return {
    seed: SEED,
    short: SHORT,
    devices: N,
    rollouts: input.runs.map((r) => ({
      name: r.name,
      devices: r.inventory.length,
      state: r.state,
      minutes: Math.round((r.closedAt - r.startedAt) / 600) / 100,
      waveMinutes: r.waveMinutes,
      outcomes: outcomesOf(r),
      acceptedPerSerialVersion: perRollout(r).histogram,
      maxAcceptedPerSerialVersion: perRollout(r).max,
    })),
    apiCalls: stats.totalRequests,
    upgradeCalls: stats.byAction[UPGRADE_ACTION] ?? 0,
    acceptedUpgrades: input.ledger.length,
    faultsByKind: Object.fromEntries(FAULT_KINDS.map((k) => [k, fired.byKind[k] ?? 0])),
    faultsByCategory: fired.byCategory,
    faultShare: Math.round((faultTotal / Math.max(1, stats.totalRequests)) * 1000) / 10,
    workerKills: o.killer.count,
    workerStarts: o.stack.pool.starts,
    serverRestarts: o.first.serverRestarts,
    credentialHalts: o.schedule.credentialEvents.map((e) => ({
      kind: e.kind,
      haltAfterSeconds: e.haltedAt && e.appliedAt ? Math.round((e.haltedAt - e.appliedAt) / 100) / 10 : null,
      haltReason: e.haltReason ?? null,
    })),
    devicesInterruptedByCredentials: interruptedDevices(input, o.first.run).length,
    otherHalts: [...o.first.halts, ...(o.second?.halts ?? [])].map((h) => h.reason),
    abort: o.second?.abort ?? null,
    compensation: compensationOf(o.second?.run),
    leftoversToB: o.second?.leftovers ?? 0,
    mustUpgrade: checked.upgraded.expected,
    excusedByKills: checked.upgraded.excused,
    reportedOtherThanUpgraded: checked.upgraded.misreported,
    minutes: Math.round(o.elapsedMs / 600) / 100,
    workerPeakRssMiB: o.stack.pool.peakMiB,
    failures: checked.failures,
  };
}

async function main(): Promise<void> {
  log(
    `seed ${SEED}: replay with \`npm run chaos -- ${SHORT ? '--short ' : ''}--devices ${N} --seed ${SEED}\``,
  );
  const schedule = drawSchedule();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sag-chaos-'));
  writeFileSync(
    path.join(tmp, 'schedule.json'),
    JSON.stringify({ seed: SEED, ...schedule, parsedFleet: undefined }, null, 2),
  );
  const byCategory: Record<string, number> = {};
  for (const p of schedule.faults.planned) byCategory[p.category] = (byCategory[p.category] ?? 0) + 1;
  log(
    `${N} devices (${schedule.fleet.filter((d) => d.upgradable).length} upgradable, ${schedule.fleet.filter((d) => d.longDownload).length} downloading longer than the ${SETTLE_MS / 1000} s settle); ${schedule.faults.planned.length} upgrade calls faulted ${JSON.stringify(byCategory)}; schedule in ${tmp}/schedule.json`,
  );

  const stack = await startStack(schedule, tmp);
  const killer = new Killer(stack, schedule.killAt, Date.now(), SHORT ? 1 : Number.POSITIVE_INFINITY);
  const a = await runFirst(stack, schedule, killer);
  const b = Date.now() < deadline ? await runSecond(stack, schedule, killer, a.run) : undefined;
  const runs = b ? [a.run, b.run] : [a.run];
  const elapsedMs = Date.now() - started;

  // The simulator's records, and the checks.
  const { sim } = stack;
  const ledger = sim.upgrades();
  const fired = await firings(sim, schedule);
  const input: CheckInput = {
    runs,
    fleet: schedule.fleet,
    planned: schedule.faults.planned,
    ledger,
    log: sim.requests(),
    clientTimeoutMs: CLIENT_TIMEOUT_MS,
    credentialEvents: schedule.credentialEvents,
    ...deviceState(sim),
    firedByKind: fired.byKind,
    kills: killer.count,
    serverRestarts: a.serverRestarts,
    aborted: b?.abort?.accepted ?? false,
    leftovers: a.run.statuses.filter((s) => s.outcome === 'unconfirmed').map((s) => s.smartAgId),
  };
  const checked = checkAll(input);
  const { failures } = checked;
  if (a.run.state !== 'completed') failures.unshift(`rollout A ended ${a.run.state}, expected completed`);
  if (b && b.run.state !== 'aborted') failures.unshift(`rollout B ended ${b.run.state}, expected aborted`);
  if (!b) failures.unshift('rollout B did not run: the time limit passed');

  const figures = figuresOf({
    schedule,
    stack,
    killer,
    first: a,
    second: b,
    input,
    fired,
    checked,
    elapsedMs,
  });
  printFigures(figures);
  process.stdout.write(`${JSON.stringify(figures)}\n`);

  await cleanUp();
  if (!args.keep && failures.length === 0) rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp} (schedule.json, workers.log, temporal.db)`);
  process.exit(failures.length === 0 ? 0 : 1);
}

/** The figures on stderr, then every violation. */
function printFigures(f: ReturnType<typeof figuresOf>): void {
  for (const r of f.rollouts) {
    log(
      `rollout ${r.name}: ${r.devices} devices, ${r.state} in ${r.minutes} min (waves ${JSON.stringify(r.waveMinutes)}): ${JSON.stringify(r.outcomes)}; accepted upgrades per serial/version ${JSON.stringify(r.acceptedPerSerialVersion)} (max ${r.maxAcceptedPerSerialVersion})`,
    );
  }
  log(
    `${f.apiCalls} API calls, ${f.upgradeCalls} upgrade calls, ${f.acceptedUpgrades} accepted; faults ${JSON.stringify(f.faultsByKind)} (${f.faultShare}% of calls)`,
  );
  log(
    `${f.workerKills} worker kills, ${f.serverRestarts} server restart(s); credential halts ${f.credentialHalts.map((h) => `${h.kind} after ${h.haltAfterSeconds} s`).join(', ')}; ${f.devicesInterruptedByCredentials} devices interrupted`,
  );
  log(`abort ${f.abort?.at ?? 'never'}; compensation ${JSON.stringify(f.compensation)}`);
  log(
    `${f.mustUpgrade} devices had to reach the target with one call (${f.excusedByKills.length} excused: their call never left before a kill)`,
  );
  if (f.reportedOtherThanUpgraded.length > 0) {
    log(`reached the target with one call but reported otherwise: ${f.reportedOtherThanUpgraded.join(', ')}`);
  }
  log(`${f.minutes} min; worker peak RSS ${f.workerPeakRssMiB} MiB`);
  log(
    f.failures.length === 0
      ? 'every invariant holds'
      : `FAILED (seed ${SEED}), ${f.failures.length} violation(s):\n  ${f.failures.join('\n  ')}`,
  );
}

main().catch(async (err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await cleanUp();
  process.exit(2);
});
