/**
 * Soak: one long rollout under everything at once. A fresh dev server (its own SQLite file), the
 * simulator with transient faults on every action, and two worker processes sharing the API
 * quota; while the rollout runs, a worker is SIGKILLed at random moments and started again, and
 * the Temporal server is restarted on its database file. At the end the rollout's invariants are
 * checked, and the figures printed.
 *
 *   npm run soak -- [--devices 1000] [--workers 2] [--fault-rate 0.1] [--kill-every 20]
 *                   [--server-restarts 1] [--download-seconds 1] [--upgrade-seconds 2]
 *                   [--api-rate 400] [--concurrency 100] [--timeout-minutes 30] [--seed 7]
 *
 * Checked: the rollout completes; every device has exactly one final state and the states add up
 * to the fleet; no serial number was sent the same version twice (simulator counts); no device
 * ended failed with a transient code (every transient fault was retried away). Exit code 1 when an
 * invariant fails. Figures on stderr, the whole result as JSON on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPolicy } from '../src/config/policy';
import { startSimulator } from '../src/simulator';
import { connectClient } from '../src/temporal/connection';
import { rolloutWorkflow } from '../workflows';
import { resolveCodePolicy } from '../domain/error-policy';
import { progressQuery } from '../workflows/messages';
import type { DeviceStatus, RolloutPolicy, RolloutProgress } from '../domain/types';
import { seeded } from './lib/random';
import { faultRules, rolloutDevices } from './lib/rollout-data';
import { RestartableServer } from './lib/temporal-server';
import { bundleWorkflows } from './lib/worker-launch';
import { WorkerPool } from './lib/worker-pool';
import type { WorkerProcessConfig } from './lib/worker-process';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    'fault-rate': { type: 'string', default: '0.1' },
    'kill-every': { type: 'string', default: '20' },
    'server-restarts': { type: 'string', default: '1' },
    'download-seconds': { type: 'string', default: '1' },
    'upgrade-seconds': { type: 'string', default: '2' },
    'api-rate': { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '100' },
    'timeout-minutes': { type: 'string', default: '30' },
    seed: { type: 'string', default: '7' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(args.devices);
const WORKERS = Number(args.workers);
const FAULT_RATE = Number(args['fault-rate']);
const KILL_EVERY_MS = Number(args['kill-every']) * 1000;
const SERVER_RESTARTS = Number(args['server-restarts']);
const API_RATE = Number(args['api-rate']);
const SEED = Number(args.seed);
const log = (l: string) => process.stderr.write(`soak ${new Date().toISOString().slice(11, 19)} ${l}\n`);

/** A transient service fault under the error-code table: a device that ends failed with one was given up on. */
function transient(code: string): boolean {
  const p = resolveCodePolicy(code);
  return p.class === 'service' && p.persistence === 'transient';
}
const FINAL = new Set(['upgraded', 'skipped', 'failed', 'unconfirmed', 'excluded', 'compensated']);

/** The project's defaults, with the soak's pace, waves and a verify loop sized for seconds-long upgrades. */
function policy(): RolloutPolicy {
  return {
    ...defaultPolicy(),
    targetVersion: '2.4.0.0',
    canary: { count: 1 },
    waves: { cumulativePercents: [5, 30, 100] },
    maxPartSize: 500,
    concurrency: Number(args.concurrency),
    // The generated fleet has devices that revert or stay offline by design; they must not halt it.
    failureBudget: { maxFailurePercent: 50, minFailures: 10, maxConsecutiveFailures: 0, onBreach: 'pause' },
    bake: 0,
    verify: { timeout: 600_000, pollInterval: 1_000, consecutivePolls: 2 },
    upgradeSettle: 10_000,
    expectedUpgradeTime: 60_000,
    offlineRetryDelay: 5_000,
  };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sag-soak-'));
  const rand = seeded(SEED);
  log(
    `${N} devices, ${WORKERS} workers, fault rate ${FAULT_RATE}, a kill every ~${KILL_EVERY_MS / 1000} s, ${SERVER_RESTARTS} server restart(s); tmp ${tmp}`,
  );

  const server = await RestartableServer.start(path.join(tmp, 'temporal.db'));
  const sim = await startSimulator({
    generate: {
      devices: N,
      seed: SEED,
      simulation: {
        downloadSeconds: Number(args['download-seconds']),
        upgradeSeconds: Number(args['upgrade-seconds']),
      },
    },
    requestLogSize: 1000,
  });
  const share = FAULT_RATE / 5;
  sim.setFaults({
    seed: SEED,
    rules: [
      { kind: 'error', code: 'Throttling.User', probability: share },
      { kind: 'error', code: 'ServiceUnavailable', probability: share },
      { kind: 'html', httpStatus: 502, probability: share },
      { kind: 'hang', probability: share },
      { kind: 'drop', probability: share },
    ],
  });
  const bundlePath = await bundleWorkflows(tmp);
  const cfg: WorkerProcessConfig = {
    address: server.address,
    taskQueue: 'soak',
    endpoint: sim.endpoint,
    accessKeyId: sim.accessKeyId,
    accessKeySecret: sim.accessKeySecret,
    apiRate: API_RATE,
    bundlePath,
    extra: { sharedQuota: true, sagTimeoutMs: 2000 },
  };
  // Any worker that exits (killed, or gave up while the server was away) is started again.
  const pool = new WorkerPool(cfg, WORKERS, { rand });

  const client = await connectClient({
    connectionOptions: { address: server.address },
    namespace: 'default',
  });
  const connection = client.connection;
  const rolloutId = `soak-${Date.now()}`;
  const inventory = sim.instances().map((i) => ({ smartAgId: i.smartAgId, regionId: i.regionId }));
  const handle: WorkflowHandle<typeof rolloutWorkflow> = await client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: cfg.taskQueue,
    args: [
      { rolloutId, inventory, policy: policy(), operator: 'soak', ticket: 'SOAK', taskQueue: cfg.taskQueue },
    ],
  });
  const startedAt = Date.now();
  const deadline = startedAt + Number(args['timeout-minutes']) * 60_000;
  let nextKill = Date.now() + KILL_EVERY_MS * (0.5 + rand());
  let serverRestarts = 0;
  let last: RolloutProgress | undefined;
  let lastLog = 0;
  let closed = false;
  while (!closed && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const d = await handle.describe();
      closed = d.status.name !== 'RUNNING';
      last = await handle.query(progressQuery);
    } catch {
      // The server is restarting, or no worker is up to answer the query.
    }
    const done = last ? last.total - last.counts.pending - last.counts['in-progress'] : 0;
    if (Date.now() - lastLog > 15_000 && last) {
      lastLog = Date.now();
      log(`${done}/${N} finished ${JSON.stringify(last.counts)}; workers up ${pool.up}/${WORKERS}`);
    }
    if (closed) break;
    if (KILL_EVERY_MS > 0 && Date.now() >= nextKill) {
      const pid = pool.killRandom();
      if (pid) log(`SIGKILL worker pid ${pid}`);
      nextKill = Date.now() + KILL_EVERY_MS * (0.5 + rand());
    }
    if (serverRestarts < SERVER_RESTARTS && done >= (N * (serverRestarts + 1)) / (SERVER_RESTARTS + 1)) {
      serverRestarts++;
      log(`restarting the Temporal server (${done}/${N} finished)`);
      await server.restart();
      log('Temporal server back');
    }
  }
  const elapsedMs = Date.now() - startedAt;

  const failures: string[] = [];
  let devices: DeviceStatus[];
  let state = 'unknown';
  try {
    const result = await handle.result();
    state = result.state;
    devices = await rolloutDevices(handle);
  } catch (err) {
    failures.push(`the rollout did not complete: ${err instanceof Error ? err.message : String(err)}`);
    devices = [];
  }

  if (state !== 'completed') failures.push(`rollout state ${state}, expected completed`);
  const outcomes: Record<string, number> = {};
  for (const d of devices) outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
  const codes: Record<string, number> = {};
  for (const d of devices)
    if (d.outcome !== 'upgraded' && d.errorCode)
      codes[`${d.outcome}:${d.errorCode}`] = (codes[`${d.outcome}:${d.errorCode}`] ?? 0) + 1;
  const ids = new Set(devices.map((d) => d.smartAgId));
  if (devices.length !== N || ids.size !== N)
    failures.push(`${devices.length} device statuses (${ids.size} distinct) for ${N} devices`);
  const notFinal = devices.filter((d) => !FINAL.has(d.outcome));
  if (notFinal.length > 0)
    failures.push(
      `${notFinal.length} devices not in a final state, e.g. ${notFinal[0]!.smartAgId} ${notFinal[0]!.outcome}`,
    );
  const gaveUp = devices.filter(
    (d) => (d.outcome === 'failed' || d.outcome === 'compensated') && d.errorCode && transient(d.errorCode),
  );
  if (gaveUp.length > 0)
    failures.push(
      `${gaveUp.length} devices failed on a transient code, e.g. ${gaveUp[0]!.smartAgId} ${gaveUp[0]!.errorCode} in ${gaveUp[0]!.phase}`,
    );
  let maxSends = 0;
  for (const row of sim.devices())
    for (const n of Object.values(row.upgradeCallsByVersion)) maxSends = Math.max(maxSends, n);
  if (maxSends > 1) failures.push(`a serial number was sent the same version ${maxSends} times`);

  const stats = sim.stats();
  const faults: Record<string, number> = {};
  for (const r of await faultRules(sim.endpoint))
    faults[r.code ?? r.kind ?? '?'] = (faults[r.code ?? r.kind ?? '?'] ?? 0) + r.fired;
  const faultTotal = Object.values(faults).reduce((a, b) => a + b, 0);
  const figures = {
    devices: N,
    workers: WORKERS,
    state,
    elapsedMinutes: Math.round(elapsedMs / 600) / 100,
    devicesPerMinute: Math.round(N / (elapsedMs / 60_000)),
    outcomes,
    codes,
    workerKills: pool.kills,
    workerStarts: pool.starts,
    serverRestarts,
    apiCalls: stats.totalRequests,
    apiCallsPerDevice: Math.round((stats.totalRequests / N) * 100) / 100,
    faultsInjected: faults,
    faultShare: Math.round((faultTotal / Math.max(1, stats.totalRequests)) * 1000) / 10,
    peakApiPerSecond: stats.peakPerSecond,
    maxUpgradeCallsPerSerialAndVersion: maxSends,
    workerPeakRssMiB: pool.peakMiB,
    failures,
  };
  log(
    `${state} in ${figures.elapsedMinutes} min (${figures.devicesPerMinute} devices/min): ${JSON.stringify(outcomes)} ${JSON.stringify(codes)}`,
  );
  log(
    `${figures.workerKills} worker kills, ${serverRestarts} server restart(s); ${faultTotal} faults injected (${figures.faultShare}% of ${stats.totalRequests} calls) ${JSON.stringify(faults)}`,
  );
  log(
    `max upgrade calls per serial and version ${maxSends}; worker peak RSS ${figures.workerPeakRssMiB} MiB; peak API ${stats.peakPerSecond}/s (limit ${API_RATE})`,
  );
  log(failures.length === 0 ? 'every invariant holds' : `FAILED:\n  ${failures.join('\n  ')}`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);

  await pool.stop();
  await connection.close().catch(() => undefined);
  await sim.stop();
  await server.stop();
  if (!args.keep) rmSync(tmp, { recursive: true, force: true });
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
