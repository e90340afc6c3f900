/**
 * The night-window benchmark: can a fleet of real-speed devices be upgraded inside one change
 * window on a small API budget? Devices download for ~3 minutes and flash and restart for ~7
 * (±20% per device; a few percent revert, stay offline, flap or download slowly:
 * bench/lib/night-fleet.ts), the account allows `--budget` requests/s, the window is
 * `--window-hours` long. Everything runs time-scaled (`--time-scale 30`: a 10-minute upgrade takes
 * 20 s, the budget is 30 times as many requests per real second, every policy duration is divided
 * by 30). A fresh dev server, the simulator and the worker each run in a process of their own.
 *
 *   npm run bench:night                         10,000 devices
 *   npm run bench:night -- --devices 1000       the quick variant
 *   ... --per-device                             today's design: every device polls on its own
 *   ... --sequential-parts                       the levers, but a wave's parts one after another
 *
 * Prints the figures on stderr and the whole result as JSON on stdout. Figures that the scale does
 * not change (calls per device, ratios, history sizes, memory) are reported as measured; durations
 * and rates are converted back to simulated time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DeviceRow, RequestLogEntry, SimulatorStats } from '../src/simulator';
import { connectClient } from '../src/temporal/connection';
import { startDevServer } from '../src/temporal/dev-server';
import { rolloutWorkflow } from '../workflows';
import { progressQuery } from '../workflows/messages';
import type { RolloutPolicy } from '../domain/types';
import { histories } from './lib/histories';
import { callsPerUpgradedDevice, rateFigures } from './lib/night-calls';
import { DOWNLOAD_SECONDS, FLASH_SECONDS, nightFleet, nightInventory } from './lib/night-fleet';
import { nightLevers } from './lib/night-policy';
import { cpuSeconds, memoryMiB } from './lib/proc';
import { spawnNode, stopProc } from './lib/spawn';
import { round } from './lib/stats';
import { bundleWorkflows, workerEntry } from './lib/worker-launch';
import type { WorkerProcessConfig } from './lib/worker-process';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    'time-scale': { type: 'string', default: '30' },
    'window-hours': { type: 'string', default: '6' },
    budget: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '400' },
    'max-part-size': { type: 'string', default: '1000' },
    waves: { type: 'string', default: '1,10,100' },
    'poll-interval-seconds': { type: 'string', default: '30' },
    'consecutive-polls': { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    sample: { type: 'string', default: '200' },
    'per-device': { type: 'boolean', default: false },
    'sequential-parts': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(args.devices);
const SCALE = Number(args['time-scale']);
const WINDOW_MS = Number(args['window-hours']) * 3600_000;
const BUDGET = Number(args.budget);
const CONCURRENCY = Number(args.concurrency);
const SEED = Number(args.seed);
const TARGET = '2.4.0.0';
const UPGRADE_MS = (DOWNLOAD_SECONDS + FLASH_SECONDS) * 1000;
const log = (l: string) => process.stderr.write(`${l}\n`);
for (const [k, v] of Object.entries({
  devices: N,
  'time-scale': SCALE,
  budget: BUDGET,
  concurrency: CONCURRENCY,
}))
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`--${k}: expected a positive number`);

/** A simulated duration in real milliseconds. */
const real = (simulatedMs: number) => Math.max(1, Math.round(simulatedMs / SCALE));

/** The rollout policy at real-speed device timing, every duration divided by the time scale. */
function nightPolicy(): RolloutPolicy {
  const base: RolloutPolicy = {
    targetVersion: TARGET,
    versionType: 'Device',
    allowBeta: false,
    canary: { count: 1 },
    waves: { cumulativePercents: args.waves.split(',').map(Number) },
    maxPartSize: Number(args['max-part-size']),
    concurrency: CONCURRENCY,
    failureBudget: { maxFailurePercent: 50, minFailures: 10, maxConsecutiveFailures: 0, onBreach: 'pause' },
    bake: 0,
    healthRecheck: true,
    approval: 'none',
    approverMustDiffer: false,
    verify: {
      timeout: real(30 * 60_000),
      pollInterval: real(Number(args['poll-interval-seconds']) * 1000),
      consecutivePolls: Number(args['consecutive-polls']),
    },
    upgradeSettle: real(15 * 60_000),
    noSignAfterSettle: 'unconfirmed',
    expectedUpgradeTime: real(UPGRADE_MS),
    offlineRetryDelay: real(10 * 60_000),
    compensation: { repairHaPairs: true, requestPreviousVersion: false },
    autoUpgradeAfter: 'restore',
    windows: [],
    freezes: [],
    requireTicket: false,
    errorOverrides: {},
    webhooks: [],
  };
  if (args['per-device']) return base;
  return {
    ...base,
    ...nightLevers({ scale: SCALE, budget: BUDGET, sequentialParts: args['sequential-parts'] }),
  };
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sag-night-'));
  try {
    await run(tmp);
  } finally {
    if (!args.keep) rmSync(tmp, { recursive: true, force: true });
  }
}

async function run(tmp: string): Promise<void> {
  const bundlePath = await bundleWorkflows(tmp);
  const fleet = nightFleet(N, SEED);
  const fleetFile = path.join(tmp, 'fleet.json');
  writeFileSync(fleetFile, JSON.stringify(fleet));
  const inventory = nightInventory(fleet, TARGET);
  const policy = nightPolicy();
  const design = args['per-device']
    ? 'per-device polling'
    : `levers, ${args['sequential-parts'] ? 'sequential' : 'overlapping'} parts`;
  log(
    `night: ${N} devices, x${SCALE}, window ${args['window-hours']} h, budget ${BUDGET}/s (${BUDGET * SCALE}/s real), concurrency ${CONCURRENCY}, ${design}; nproc ${os.cpus().length}, Node ${process.version}, load ${os
      .loadavg()
      .map((x) => round(x, 2))
      .join(' ')}`,
  );
  mkdirSync(path.join(tmp, 'db'), { recursive: true });
  const server = await startDevServer({
    dbFile: path.join(tmp, 'db', 'temporal.db'),
    uiPort: false,
    log,
    dynamicConfig: { 'system.enableActivityEagerExecution': true },
    sqlitePragmas: { journal_mode: 'WAL', synchronous: 'NORMAL' },
  });
  const sim = spawnNode(['--import', 'tsx', 'bench/lib/simulator-process.ts'], {
    SIM_FLEET_FILE: fleetFile,
    SIM_TIME_SCALE: String(SCALE),
    // Every request of the run: the calls per device are counted from this log.
    SIM_REQUEST_LOG: String(Math.max(100_000, N * 40)),
  });
  const simInfo = JSON.parse(await sim.firstLine) as {
    endpoint: string;
    accessKeyId: string;
    accessKeySecret: string;
  };
  const taskQueue = 'night';
  const cfg: WorkerProcessConfig = {
    address: server.address,
    taskQueue,
    endpoint: simInfo.endpoint,
    accessKeyId: simInfo.accessKeyId,
    accessKeySecret: simInfo.accessKeySecret,
    // The account's budget, at the time scale: the worker's limiter holds the rate to it.
    apiRate: BUDGET * SCALE,
    bundlePath,
  };
  const worker = spawnNode(workerEntry(), { BENCH_WORKER: JSON.stringify(cfg) });
  await worker.firstLine;
  const client = await connectClient({
    connectionOptions: { address: server.address },
    namespace: 'default',
  });
  const pids = { worker: worker.child.pid, server: server.process.pid, sim: sim.child.pid };
  const cpu0 = {
    worker: cpuSeconds(pids.worker),
    server: cpuSeconds(pids.server),
    sim: cpuSeconds(pids.sim),
  };
  let peakRss = 0;
  const memTimer = setInterval(() => (peakRss = Math.max(peakRss, memoryMiB(pids.worker).rss)), 500);
  const started = Date.now();
  const handle = await client.workflow.start(rolloutWorkflow, {
    workflowId: 'rollout/night',
    taskQueue,
    args: [{ rolloutId: 'night', inventory, policy, operator: 'bench', ticket: 'NIGHT', taskQueue }],
  });
  // Give up at twice the window: the figures then say how far it got.
  let state: string;
  let counts: Record<string, number>;
  const progress = setInterval(() => {
    handle
      .query(progressQuery)
      .then((p) =>
        log(
          `  ${round(((Date.now() - started) * SCALE) / 60_000)} simulated min: ${JSON.stringify(p.counts)}`,
        ),
      )
      .catch(() => undefined);
  }, 15_000);
  try {
    const r = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('twice the window')), real(2 * WINDOW_MS)).unref(),
      ),
    ]);
    state = r.state;
    counts = r.counts;
  } catch (err) {
    state = `stopped: ${(err as Error).message}`;
    counts = (await handle.query(progressQuery).catch(() => undefined))?.counts ?? {};
    await handle.terminate('night benchmark timeout').catch(() => undefined);
  }
  clearInterval(progress);
  const elapsedMs = Date.now() - started;
  const cpu1 = {
    worker: cpuSeconds(pids.worker),
    server: cpuSeconds(pids.server),
    sim: cpuSeconds(pids.sim),
  };
  clearInterval(memTimer);
  const mem = memoryMiB(pids.worker);
  peakRss = Math.max(peakRss, mem.hwm, mem.rss);

  // Each wave's start and end in simulated minutes from the rollout's start.
  const simMin = (at: number | undefined) =>
    at === undefined ? undefined : round(((at - started) * SCALE) / 60_000);
  const waves = ((await handle.query(progressQuery).catch(() => undefined))?.waves ?? []).map((w) => ({
    name: w.name,
    size: w.size,
    startMin: simMin(w.startedAt),
    endMin: simMin(w.finishedAt),
  }));
  const stats = await getJson<SimulatorStats>(`${simInfo.endpoint}/_admin/stats`);
  const requests = await getJson<RequestLogEntry[]>(`${simInfo.endpoint}/_admin/requests`);
  const rows = await getJson<DeviceRow[]>(`${simInfo.endpoint}/_admin/devices`);
  let history;
  try {
    history = await histories(client, 'rollout/night', Number(args.sample));
  } finally {
    await client.connection.close();
    await stopProc(worker, 120_000);
    await stopProc(sim);
    await server.stop();
  }

  const simulatedMs = elapsedMs * SCALE;
  const boundMs = (N * UPGRADE_MS) / CONCURRENCY;
  const finished =
    (counts.upgraded ?? 0) + (counts.skipped ?? 0) + (counts.failed ?? 0) + (counts.excluded ?? 0);
  const calls = callsPerUpgradedDevice(requests, rows, TARGET);
  const rate = rateFigures(stats.perSecond, BUDGET * SCALE);
  const result = {
    devices: N,
    design,
    timeScale: SCALE,
    state,
    counts,
    simulatedMinutes: round(simulatedMs / 60_000),
    windowMinutes: WINDOW_MS / 60_000,
    durationOverWindow: round(simulatedMs / WINDOW_MS, 2),
    deviceTimeBoundMinutes: round(boundMs / 60_000),
    durationOverBound: round(simulatedMs / boundMs, 2),
    devicesPerHour: round(finished / (simulatedMs / 3600_000)),
    waves,
    apiCalls: {
      total: stats.totalRequests,
      byAction: stats.byAction,
      byCode: stats.byCode,
      requestLogEntries: requests.length,
    },
    callsPerUpgradedDevice: calls,
    rate: { ...rate, budgetPerSimulatedSecond: BUDGET },
    largestHistory: history.largest,
    deviceEvents: history.deviceEvents,
    workerPeakRssMiB: round(peakRss),
    cpuSeconds: {
      worker: round(cpu1.worker - cpu0.worker),
      server: round(cpu1.server - cpu0.server),
      simulator: round(cpu1.sim - cpu0.sim),
    },
  };
  log(`--- ${design}: ${state} ${JSON.stringify(counts)}`);
  log(
    `simulated duration       ${result.simulatedMinutes} min (${round(elapsedMs / 1000)} s real at x${SCALE})`,
  );
  log(`vs the window            ${result.durationOverWindow} of ${result.windowMinutes} min`);
  log(
    `vs the device-time bound ${result.durationOverBound} of ${result.deviceTimeBoundMinutes} min (${N} x ${UPGRADE_MS / 60_000} min / ${CONCURRENCY})`,
  );
  log(`devices/hour             ${result.devicesPerHour}`);
  log(
    `waves (simulated min)    ${waves.map((w) => `${w.name} (${w.size}) ${w.startMin ?? '-'}→${w.endMin ?? '-'}`).join(', ')}`,
  );
  log(
    `calls per upgraded single device ${calls.total} over ${calls.devices}: ${JSON.stringify(calls.byAction)}`,
  );
  log(
    `API calls                ${stats.totalRequests} (${round(stats.totalRequests / Math.max(1, finished), 2)} per finished device; ${requests.length} in the request log, which a stopped rollout's devices still add to)`,
  );
  log(
    `peak rate                ${round(rate.peakPerSecond / SCALE, 2)}/s simulated vs budget ${BUDGET}/s (${rate.peakOverLimitPct}%), seconds over +5%: ${rate.secondsOver5pct}, mean ${round(rate.meanPerBusySecond / SCALE, 2)}/s`,
  );
  log(
    `largest history          ${history.largest.events} events (${history.largest.workflowId}); device events median ${history.deviceEvents.median}, max ${history.deviceEvents.max}`,
  );
  log(
    `worker peak RSS          ${result.workerPeakRssMiB} MiB; CPU s worker ${result.cpuSeconds.worker}, server ${result.cpuSeconds.server}, simulator ${result.cpuSeconds.simulator}`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  log(`night: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
