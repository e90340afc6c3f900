/**
 * End-to-end rollout benchmark: a fresh dev server (its own SQLite file, headless), the simulator
 * and the worker each in a process of their own, a rollout of N simulated devices with near-zero
 * device time, and a baseline of the same API call sequence without Temporal. See BENCHMARKS.md.
 * With --cluster, a fresh production-shaped cluster per run instead of the dev server (the server
 * on PostgreSQL, 4 history shards, SQL visibility, mutual TLS: src/temporal/cluster), the worker
 * connecting through the cluster's temporal.toml profile.
 *
 *   npm run bench -- [--devices 1000] [--runs 3] [--concurrency 200] [--api-rate 400] [--no-baseline] [--cluster]
 *   npm run bench:10k
 *
 * Prints a summary per run and medians over runs on stderr, and the whole result as JSON on stdout.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { generateFleet, type SimulatorStats } from '../src/simulator';
import { connectClient } from '../src/temporal/connection';
import { startCluster } from '../src/temporal/cluster';
import { startDevServer } from '../src/temporal/dev-server';
import { rolloutWorkflow } from '../workflows';
import { progressQuery } from '../workflows/messages';
import type { InventoryDevice, RolloutPolicy } from '../domain/types';
import { runBaseline, type BaselineResult } from './lib/baseline';
import { histories, type HistoryFigures } from './lib/histories';
import { spawnNode, stopProc, type Proc } from './lib/spawn';
import { median, round } from './lib/stats';
import { summariseProfile, type ProfileSummary } from './lib/cpu-profile';
import { cpuSeconds, memoryMiB, postgresCpuSeconds } from './lib/proc';
import { bundleWorkflows, workerEntry } from './lib/worker-launch';
import type { WorkerProcessConfig } from './lib/worker-process';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '200' },
    'api-rate': { type: 'string', default: '400' },
    'max-part-size': { type: 'string', default: '1000' },
    waves: { type: 'string', default: '10,50,100' },
    'upgrade-seconds': { type: 'string', default: '0.05' },
    'download-seconds': { type: 'string', default: '0' },
    'poll-interval': { type: 'string', default: '200' },
    'consecutive-polls': { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    sample: { type: 'string', default: '200' },
    'timeout-minutes': { type: 'string', default: '9' },
    baseline: { type: 'boolean', default: true },
    'no-baseline': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: true },
    'no-profile': { type: 'boolean', default: false },
    'no-pragmas': { type: 'boolean', default: false },
    tuning: { type: 'string' },
    'worker-extra': { type: 'string' },
    'dynamic-config': { type: 'string' },
    keep: { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
    health: { type: 'string', default: 'default' },
  },
});
const N = Number(args.devices);
const RUNS = Number(args.runs);
const CONCURRENCY = Number(args.concurrency);
const API_RATE = Number(args['api-rate']);
const SEED = Number(args.seed);
const PROFILE = args.profile && !args['no-profile'];
const BASELINE = args.baseline && !args['no-baseline'];
if (!['off', 'default', 'full'].includes(args.health))
  throw new Error('--health must be off, default or full');
const log = (l: string) => process.stderr.write(`${l}\n`);

/**
 * On top of the project's defaults: a completed workflow task that schedules an activity gets the
 * activity task back in the same response when the worker has a free slot, instead of a round
 * trip through matching (off by default on the server).
 */
const BENCH_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  'system.enableActivityEagerExecution': true,
};

/** The Temporal server a run measures: the dev server, or a cluster with --cluster. */
interface BenchServer {
  address: string;
  connectionOptions: NativeConnectionOptions;
  /** Environment for the worker process (the cluster's temporal.toml profile: address and TLS). */
  workerEnv: Record<string, string>;
  pid: number | undefined;
  version: string;
  /** CPU seconds of the database processes (PostgreSQL); 0 for the dev server's in-process SQLite. */
  databaseCpuSeconds(): number;
  stop(): Promise<void>;
}

async function devServer(
  dbFile: string,
  dynamicConfig: Record<string, string | number | boolean>,
): Promise<BenchServer> {
  const server = await startDevServer({
    dbFile,
    uiPort: false,
    log,
    dynamicConfig,
    sqlitePragmas: args['no-pragmas'] ? {} : { journal_mode: 'WAL', synchronous: 'NORMAL' },
  });
  return {
    address: server.address,
    connectionOptions: { address: server.address },
    workerEnv: {},
    pid: server.process.pid,
    version: server.cli.version ?? 'unknown',
    databaseCpuSeconds: () => 0,
    stop: () => server.stop(),
  };
}

async function clusterServer(dynamicConfig: Record<string, string | number | boolean>): Promise<BenchServer> {
  const cluster = await startCluster({ numHistoryShards: 4, tls: true, dynamicConfig, log });
  return {
    address: cluster.address,
    connectionOptions: cluster.connectionOptions,
    workerEnv: cluster.env,
    pid: cluster.serverPid(),
    version: `server ${cluster.binaries.version} on PostgreSQL, ${cluster.numHistoryShards} shards, mutual TLS`,
    databaseCpuSeconds: () => postgresCpuSeconds(cluster.postgres.dataDir),
    stop: () => cluster.stop(),
  };
}

/** Near-zero device time: the orchestrator is what is measured. */
function rolloutPolicy(): RolloutPolicy {
  return {
    targetVersion: '2.4.0.0',
    versionType: 'Device',
    allowBeta: false,
    canary: { count: 1 },
    waves: { cumulativePercents: args.waves.split(',').map(Number) },
    maxPartSize: Number(args['max-part-size']),
    concurrency: CONCURRENCY,
    // The generated fleet has ~3% devices that stay offline or unactivated; they must not halt it.
    failureBudget: { maxFailurePercent: 50, minFailures: 10, maxConsecutiveFailures: 0, onBreach: 'pause' },
    bake: 0,
    healthRecheck: true,
    approval: 'none',
    approverMustDiffer: false,
    verify: {
      timeout: 60_000,
      pollInterval: Number(args['poll-interval']),
      consecutivePolls: Number(args['consecutive-polls']),
    },
    upgradeSettle: 5_000,
    noSignAfterSettle: 'unconfirmed',
    expectedUpgradeTime: 1_000,
    offlineRetryDelay: 1_000,
    compensation: { repairHaPairs: true, requestPreviousVersion: false },
    autoUpgradeAfter: 'restore',
    windows: [],
    freezes: [],
    requireTicket: false,
    errorOverrides: {},
    webhooks: [],
    ...healthPolicy(),
  };
}

/**
 * The health analysis: `default` as a policy file gets it (links, HA, controller: no extra call
 * for a single device), `full` with a diagnosis and one feature list too, `off` without it.
 */
function healthPolicy(): Pick<RolloutPolicy, 'health'> {
  if (args.health === 'off') return {};
  const full = args.health === 'full';
  return {
    health: {
      links: true,
      ha: true,
      controller: true,
      diagnosis: full,
      features: full ? ['CreateSmartAccessGatewayIsp'] : [],
      grace: 0,
      probes: [],
    },
  };
}

/** The generated fleet as an inventory; the first healthy single device goes first (the canary). */
function inventory(): InventoryDevice[] {
  const fleet = generateFleet({ devices: N, seed: SEED });
  const inv = fleet.instances.map((i) => ({
    smartAgId: i.SmartAGId,
    regionId: i.RegionId,
    serialNumbers: i.Devices.map((d) => d.SerialNumber),
  }));
  const healthy = fleet.instances.findIndex(
    (i) =>
      i.Status === 'Active' &&
      i.Devices.length === 1 &&
      i.AssociatedCcnId &&
      i.Devices[0]!.SoftwareVersion !== '2.4.0.0' &&
      i.HardwareVersion !== 'sag-software' &&
      (i.EndTime ?? 0) > Date.now(),
  );
  if (healthy > 0) inv.unshift(...inv.splice(healthy, 1));
  return inv;
}

async function startSim(): Promise<{
  proc: Proc;
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
}> {
  const proc = spawnNode([
    '--import',
    'tsx',
    'bench/lib/simulator-process.ts',
    String(N),
    String(SEED),
    args['download-seconds'],
    args['upgrade-seconds'],
  ]);
  const info = JSON.parse(await proc.firstLine) as {
    endpoint: string;
    accessKeyId: string;
    accessKeySecret: string;
  };
  return { proc, ...info };
}

async function simStats(endpoint: string): Promise<SimulatorStats> {
  const r = await fetch(`${endpoint}/_admin/stats`);
  return (await r.json()) as SimulatorStats;
}

interface RunResult {
  run: number;
  load: { before: number[]; after: number[] };
  state: string;
  counts: Record<string, number>;
  elapsedMs: number;
  devicesPerMinute: number;
  history: HistoryFigures;
  apiCalls: {
    total: number;
    /** Devices that finished, the denominator of the per-device figures. */
    finished: number;
    perDevice: number;
    byAction: Record<string, number>;
    byCode: Record<string, number>;
  };
  rate: {
    limit: number;
    peakPerSecond: number;
    peakOverLimitPct: number;
    secondsOver5pct: number;
    busiestSeconds: number[];
  };
  worker: { peakRssMiB: number; cpuSeconds: number };
  server: { cpuSeconds: number; version: string };
  simulator: { cpuSeconds: number };
  /** One summary per thread: the main thread (activities, SDK) and the workflow thread(s). */
  profile?: { file: string; summary: ProfileSummary }[];
  /** `cpuSeconds`: the bench process's own CPU while it drove the baseline. */
  baseline?: BaselineResult & { devicesPerMinute: number; peakPerSecond: number; cpuSeconds: number };
  ratio?: number;
}

async function oneRun(run: number, tmp: string, bundlePath: string): Promise<RunResult> {
  const dir = path.join(tmp, `run-${run}`);
  mkdirSync(dir, { recursive: true });
  const policy = rolloutPolicy();
  const inv = inventory();
  const loadBefore = os.loadavg().map((x) => round(x, 2));
  log(
    `run ${run}: ${N} devices, concurrency ${CONCURRENCY}, api-rate ${API_RATE}/s, load ${loadBefore.join(' ')}`,
  );

  let baseline: RunResult['baseline'];
  if (BASELINE) {
    const sim = await startSim();
    const devicePolicy = {
      targetVersion: policy.targetVersion,
      versionType: policy.versionType,
      allowBeta: false,
      verifyTimeoutMs: 60_000,
      pollIntervalMs: policy.verify.pollInterval as number,
      consecutivePolls: policy.verify.consecutivePolls,
      upgradeSettleMs: 5_000,
      autoUpgradeAfter: 'restore' as const,
      repairHaPairs: true,
      requestPreviousVersion: false,
      errorOverrides: {},
    };
    const cpuBefore = process.cpuUsage();
    const b = await runBaseline({
      ...sim,
      apiRate: API_RATE,
      concurrency: CONCURRENCY,
      devices: inv,
      policy: devicePolicy,
    });
    const cpu = process.cpuUsage(cpuBefore);
    const st = await simStats(sim.endpoint);
    await stopProc(sim.proc);
    baseline = {
      ...b,
      devicesPerMinute: round(N / (b.elapsedMs / 60_000)),
      peakPerSecond: st.peakPerSecond,
      cpuSeconds: round((cpu.user + cpu.system) / 1e6),
    };
    log(
      `run ${run}: baseline ${baseline.devicesPerMinute} devices/min in ${round(b.elapsedMs / 1000)} s, ${b.calls} calls, peak ${st.peakPerSecond}/s, ${baseline.cpuSeconds} CPU s ${JSON.stringify(b.outcomes)}`,
    );
  }

  const dynamicConfig = {
    ...BENCH_DYNAMIC_CONFIG,
    ...(args['dynamic-config']
      ? (JSON.parse(args['dynamic-config']) as Record<string, string | number | boolean>)
      : {}),
  };
  const server = args.cluster
    ? await clusterServer(dynamicConfig)
    : await devServer(path.join(dir, 'temporal.db'), dynamicConfig);
  const sim = await startSim();
  const taskQueue = `bench-${run}`;
  const cfg: WorkerProcessConfig = {
    address: server.address,
    taskQueue,
    endpoint: sim.endpoint,
    accessKeyId: sim.accessKeyId,
    accessKeySecret: sim.accessKeySecret,
    apiRate: API_RATE,
    bundlePath,
    ...(args.tuning ? { tuning: JSON.parse(args.tuning) as WorkerProcessConfig['tuning'] } : {}),
    ...(args['worker-extra'] ? { extra: JSON.parse(args['worker-extra']) as Record<string, unknown> } : {}),
  };
  const profDir = path.join(dir, 'prof');
  const entry = workerEntry();
  const worker = spawnNode([...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), ...entry], {
    BENCH_WORKER: JSON.stringify(cfg),
    ...server.workerEnv,
  });
  await worker.firstLine;
  // connectClient accepts a 10,000-device rollout's history pages (over gRPC's default 4 MiB).
  const client = await connectClient({ connectionOptions: server.connectionOptions, namespace: 'default' });
  const connection = client.connection;

  const pids = { worker: worker.child.pid, server: server.pid, sim: sim.proc.child.pid };
  const cpu0 = {
    worker: cpuSeconds(pids.worker),
    server: cpuSeconds(pids.server) + server.databaseCpuSeconds(),
    sim: cpuSeconds(pids.sim),
  };
  let peakRss = 0;
  const memTimer = setInterval(() => {
    peakRss = Math.max(peakRss, memoryMiB(pids.worker).rss);
  }, 500);
  const rolloutId = `bench-${run}`;
  const started = Date.now();
  const handle = await client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue,
    args: [{ rolloutId, inventory: inv, policy, operator: 'bench', ticket: 'BENCH', taskQueue }],
  });
  let state: string;
  let counts: Record<string, number>;
  const timeoutMs = Number(args['timeout-minutes']) * 60_000;
  try {
    const r = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ]);
    state = r.state;
    counts = r.counts;
  } catch (err) {
    state = `stopped: ${(err as Error).message}`;
    const p = await handle.query(progressQuery).catch(() => undefined);
    counts = p?.counts ?? {};
    await handle.terminate('benchmark timeout').catch(() => undefined);
  }
  const elapsedMs = Date.now() - started;
  // Devices finished (upgraded, skipped, failed): all of them unless the run was stopped.
  const done = state.startsWith('stopped')
    ? (counts.upgraded ?? 0) + (counts.skipped ?? 0) + (counts.failed ?? 0) + (counts.excluded ?? 0)
    : N;
  const cpu1 = {
    worker: cpuSeconds(pids.worker),
    server: cpuSeconds(pids.server) + server.databaseCpuSeconds(),
    sim: cpuSeconds(pids.sim),
  };
  clearInterval(memTimer);
  const mem = memoryMiB(pids.worker);
  peakRss = Math.max(peakRss, mem.hwm, mem.rss);
  const loadAfter = os.loadavg().map((x) => round(x, 2));
  const st = await simStats(sim.endpoint);
  log(
    `run ${run}: rollout ${state} in ${round(elapsedMs / 1000)} s, ${done} devices finished (${round(done / (elapsedMs / 60_000))} devices/min), ${st.totalRequests} calls, load ${loadAfter.join(' ')}`,
  );

  let history: HistoryFigures;
  try {
    history = await histories(client, `rollout/${rolloutId}`, Number(args.sample));
  } finally {
    await connection.close();
    await stopProc(worker, 120_000);
    await stopProc(sim.proc);
    await server.stop();
  }

  let profile: RunResult['profile'];
  if (PROFILE) {
    // Node writes one profile per thread; workflow tasks run in a worker thread of their own.
    profile = readdirSync(profDir)
      .filter((x) => x.endsWith('.cpuprofile'))
      .map((f) => ({ file: f, summary: summariseProfile(path.join(profDir, f)) }))
      .sort((a, b) => b.summary.totalMs - a.summary.totalMs);
  }
  const limit = API_RATE;
  const over = st.perSecond.filter((s) => s.count > limit * 1.05).length;
  const devicesPerMinute = round(done / (elapsedMs / 60_000));
  return {
    run,
    load: { before: loadBefore, after: loadAfter },
    state,
    counts,
    elapsedMs,
    devicesPerMinute,
    history,
    apiCalls: {
      total: st.totalRequests,
      finished: done,
      perDevice: round(st.totalRequests / Math.max(1, done), 2),
      byAction: st.byAction,
      byCode: st.byCode,
    },
    rate: {
      limit,
      peakPerSecond: st.peakPerSecond,
      peakOverLimitPct: round(((st.peakPerSecond - limit) / limit) * 100),
      secondsOver5pct: over,
      busiestSeconds: st.perSecond
        .map((x) => x.count)
        .sort((a, b) => b - a)
        .slice(0, 5),
    },
    worker: { peakRssMiB: round(peakRss), cpuSeconds: round(cpu1.worker - cpu0.worker) },
    server: { cpuSeconds: round(cpu1.server - cpu0.server), version: server.version },
    simulator: { cpuSeconds: round(cpu1.sim - cpu0.sim) },
    profile,
    baseline,
    ratio: baseline ? round(devicesPerMinute / baseline.devicesPerMinute, 3) : undefined,
  };
}

function printRun(r: RunResult): void {
  const h = r.history;
  log(`--- run ${r.run}: ${r.state} ${JSON.stringify(r.counts)}`);
  log(`devices/min end to end   ${r.devicesPerMinute} (${round(r.elapsedMs / 1000)} s for ${N})`);
  log(
    `device history events    median ${h.deviceEvents.median}, p95 ${h.deviceEvents.p95}, max ${h.deviceEvents.max} (sample of ${h.devicesSampled}); workflow tasks median ${h.deviceWorkflowTasks.median}`,
  );
  log(
    `largest history          ${h.largest.events} events (${h.largest.workflowId}); rollout runs ${h.rolloutRuns.map((x) => x.events).join('/')}; parts max ${Math.max(...h.parts.map((p) => p.events))} over ${h.parts.length}`,
  );
  log(
    `API calls per device     ${r.apiCalls.perDevice} overall; upgraded single device median ${h.callsPerUpgradedDevice.median} (min ${h.callsPerUpgradedDevice.min}, max ${h.callsPerUpgradedDevice.max})`,
  );
  log(`by outcome               ${JSON.stringify(h.callsByOutcome)}`);
  log(
    `per finished device      ${JSON.stringify(Object.fromEntries(Object.entries(r.apiCalls.byAction).map(([a, n]) => [a, round(n / Math.max(1, r.apiCalls.finished), 2)])))} (health analysis ${args.health})`,
  );
  log(
    `worker peak RSS          ${r.worker.peakRssMiB} MiB; CPU s worker ${r.worker.cpuSeconds}, server ${r.server.cpuSeconds}, simulator ${r.simulator.cpuSeconds}`,
  );
  log(
    `API rate                 peak ${r.rate.peakPerSecond}/s vs limit ${r.rate.limit}/s (${r.rate.peakOverLimitPct}%); seconds over +5%: ${r.rate.secondsOver5pct}`,
  );
  if (r.baseline)
    log(
      `baseline                 ${r.baseline.devicesPerMinute} devices/min; ratio Temporal/baseline ${r.ratio}`,
    );
  for (const { file, summary } of r.profile ?? []) {
    log(`worker profile ${file} (${round(summary.totalMs / 1000)} s sampled):`);
    for (const a of summary.areas) log(`  ${String(a.pct).padStart(5)}%  ${a.area}`);
    for (const t of summary.top.slice(0, 15)) log(`  ${String(t.pct).padStart(5)}%  ${t.fn}`);
  }
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sag-bench-'));
  const t = Date.now();
  const bundlePath = await bundleWorkflows(tmp);
  log(
    `bench: workflow bundle in ${Date.now() - t} ms; nproc ${os.cpus().length}, ${round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; tmp ${tmp}`,
  );
  const results: RunResult[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const r = await oneRun(run, tmp, bundlePath);
      printRun(r);
      results.push(r);
    }
  } finally {
    if (!args.keep) rmSync(tmp, { recursive: true, force: true });
  }
  const m = (f: (r: RunResult) => number) => median(results.map(f));
  const summary = {
    devices: N,
    runs: results.length,
    concurrency: CONCURRENCY,
    apiRate: API_RATE,
    devicesPerMinute: m((r) => r.devicesPerMinute),
    deviceEventsMedian: m((r) => r.history.deviceEvents.median),
    deviceEventsMax: Math.max(...results.map((r) => r.history.deviceEvents.max)),
    largestHistory: Math.max(...results.map((r) => r.history.largest.events)),
    callsPerDevice: m((r) => r.apiCalls.perDevice),
    callsPerUpgradedDevice: m((r) => r.history.callsPerUpgradedDevice.median),
    workerPeakRssMiB: m((r) => r.worker.peakRssMiB),
    peakApiRate: Math.max(...results.map((r) => r.rate.peakPerSecond)),
    baselineDevicesPerMinute: BASELINE ? m((r) => r.baseline!.devicesPerMinute) : undefined,
    ratio: BASELINE ? m((r) => r.ratio!) : undefined,
    cpuSeconds: {
      worker: m((r) => r.worker.cpuSeconds),
      server: m((r) => r.server.cpuSeconds),
      simulator: m((r) => r.simulator.cpuSeconds),
    },
  };
  log(`=== medians over ${results.length} run(s): ${JSON.stringify(summary)}`);
  process.stdout.write(`${JSON.stringify({ summary, runs: results })}\n`);
}

main().catch((err: unknown) => {
  log(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
