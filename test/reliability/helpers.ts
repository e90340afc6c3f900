import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { inject } from 'vitest';
import type { SimulatorHandle, SimulatorOptions } from '../../src/simulator';
import { devicesQuery } from '../../workflows/messages';
import { rolloutWorkflow } from '../../workflows/rollout';
import type { DeviceStatus, InventoryDevice, RolloutPolicy } from '../../domain/types';
import { fastRolloutPolicy, instance } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '../..');

/** Polls `check` until it returns a value (not undefined), or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface WorkerEvent {
  event: string;
  action?: string;
  smartAgId?: string;
  code?: string;
  rate?: number;
  pid?: number;
}

/** A worker in a child process (test/reliability/worker-process.ts). */
export interface WorkerProcess {
  proc: ChildProcess;
  events: WorkerEvent[];
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  ready: Promise<void>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface WorkerProcessOptions {
  address: string;
  taskQueue: string;
  sim: Pick<SimulatorHandle, 'endpoint' | 'accessKeyId' | 'accessKeySecret'>;
  apiRate?: number;
  sharedQuota?: boolean;
  sagTimeoutMs?: number;
  /** A pre-built bundle of workflows/ (the run's global one); omitted, the worker bundles from source. */
  workflowBundle?: string;
  /** More environment for the worker, e.g. `SAG_WEBHOOK_<NAME>_URL` or `WEBHOOKS_FILE`. */
  env?: NodeJS.ProcessEnv;
  /** v2 (pop-core, the default) or v3 (openapi-client). */
  signature?: 'v2' | 'v3';
  /** An STS token to send with the simulator's keys. */
  securityToken?: string;
}

export function spawnWorker(o: WorkerProcessOptions): WorkerProcess {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: o.address,
    TASK_QUEUE: o.taskQueue,
    SAG_ENDPOINT: o.sim.endpoint,
    SAG_ACCESS_KEY_ID: o.sim.accessKeyId,
    SAG_ACCESS_KEY_SECRET: o.sim.accessKeySecret,
    API_RATE: String(o.apiRate ?? 300),
    SAG_TIMEOUT_MS: String(o.sagTimeoutMs ?? 2000),
    SHARED_QUOTA: o.sharedQuota === false ? 'false' : 'true',
    ...(o.workflowBundle ? { WORKFLOW_BUNDLE: o.workflowBundle } : {}),
    // On the TLS cluster, the profile that carries its certificates.
    ...inject('temporalEnv'),
    ...o.env,
    ...(o.signature ? { SAG_SIGNATURE: o.signature } : {}),
    ...(o.securityToken ? { SAG_SECURITY_TOKEN: o.securityToken } : {}),
  };
  // `node --import tsx` rather than the tsx CLI: one process, so SIGKILL reaches the worker itself.
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'worker-process.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: WorkerEvent[] = [];
  const chunks: string[] = [];
  let pending = '';
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  proc.stdout.setEncoding('utf8').on('data', (s: string) => {
    chunks.push(s);
    pending += s;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        const e = JSON.parse(line) as WorkerEvent;
        events.push(e);
        if (e.event === 'ready') resolveReady();
      } catch {
        // not an event line
      }
    }
  });
  proc.stderr.setEncoding('utf8').on('data', (s: string) => chunks.push(s));
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      rejectReady(
        new Error(`worker process exited (${code}) before it was ready: ${chunks.join('').slice(-2000)}`),
      );
      resolve(code);
    });
  });
  return {
    proc,
    events,
    output: () => chunks.join(''),
    ready,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      await exited;
    },
  };
}

/** Instances with near-zero device time, `sag-<prefix><nnnn>`. */
export function quickFleet(prefix: string, n: number, extra: Parameters<typeof instance>[1] = {}) {
  return Array.from({ length: n }, (_, i) =>
    instance(`sag-${prefix}${String(i + 1).padStart(4, '0')}`, {
      simulation: { downloadSeconds: 0.01, upgradeSeconds: 0.03, outcome: 'ok' },
      ...extra,
    }),
  );
}

export const inventoryOf = (instances: { SmartAGId: string; RegionId?: string }[]): InventoryDevice[] =>
  instances.map((i) => ({ smartAgId: i.SmartAGId, regionId: i.RegionId ?? 'cn-shanghai' }));

/** A rollout policy for quick fleets: fast polls, one canary, two waves. */
export function quickPolicy(overrides: Partial<RolloutPolicy> = {}): RolloutPolicy {
  return fastRolloutPolicy({
    // Longer than the 30 s activity timeouts a killed worker leaves behind: the verify deadline
    // counts from before the upgrade call.
    verify: { timeout: 90_000, pollInterval: 60, consecutivePolls: 2 },
    upgradeSettle: 3000,
    healthRecheck: false,
    maxPartSize: 1000,
    ...overrides,
  });
}

export async function startRollout(
  client: Client,
  taskQueue: string,
  rolloutId: string,
  inventory: InventoryDevice[],
  policy: RolloutPolicy,
): Promise<WorkflowHandle<typeof rolloutWorkflow>> {
  return client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue,
    args: [{ rolloutId, inventory, policy, operator: 'reliability', ticket: 'CHG-REL', taskQueue }],
  });
}

/** Every device status of a rollout, page by page. */
export async function allDevices(h: WorkflowHandle): Promise<DeviceStatus[]> {
  const out: DeviceStatus[] = [];
  for (let offset = 0; ;) {
    const page = await h.query(devicesQuery, { offset, limit: 500 });
    out.push(...page.devices);
    offset += page.devices.length;
    if (page.devices.length === 0 || offset >= page.total) return out;
  }
}

export { untilProgress } from '../helpers/progress';

/** Upgrade calls the simulator counted, per instance and target version. */
export function upgradeCallsByVersion(
  sim: Pick<SimulatorHandle, 'devices'>,
  ids?: Set<string>,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const row of sim.devices()) {
    if (ids && !ids.has(row.SmartAGId)) continue;
    const per = (out[row.SmartAGId] ??= {});
    for (const [v, n] of Object.entries(row.upgradeCallsByVersion)) per[v] = (per[v] ?? 0) + n;
  }
  return out;
}

/** The largest per-version call count of any serial number: 1 means no upgrade was ever sent twice. */
export function maxCallsPerSerialAndVersion(
  sim: Pick<SimulatorHandle, 'devices'>,
  ids?: Set<string>,
): number {
  let max = 0;
  for (const row of sim.devices()) {
    if (ids && !ids.has(row.SmartAGId)) continue;
    for (const n of Object.values(row.upgradeCallsByVersion)) max = Math.max(max, n);
  }
  return max;
}

export type SimFleet = NonNullable<SimulatorOptions['fleet']>;

/**
 * The rollout's result; after `timeoutMs`, an error naming every device not yet final with its
 * phase, so a stuck rollout says where it stuck.
 */
export async function resultOrExplain(
  h: WorkflowHandle<typeof rolloutWorkflow>,
  timeoutMs: number,
): Promise<Awaited<ReturnType<WorkflowHandle<typeof rolloutWorkflow>['result']>>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
  try {
    const r = await Promise.race([h.result(), late]);
    if (r !== 'late') return r;
  } finally {
    clearTimeout(timer);
  }
  const open = (await allDevices(h).catch(() => [])).filter(
    (d) => d.outcome === 'pending' || d.outcome === 'in-progress',
  );
  throw new Error(
    `the rollout did not close within ${timeoutMs} ms; devices not final: ${open.map((d) => `${d.smartAgId}:${d.outcome}:${d.phase ?? ''}`).join(', ') || 'none'}`,
  );
}

/**
 * What is wrong with the devices a rollout left `unconfirmed`: each must have had no upgrade call
 * accepted by the simulator and still run its old version (an unconfirmed device is one the
 * workflow could not prove took the call; after a worker is killed mid-send, that is the truth).
 */
export function unconfirmedProblems(
  sim: Pick<SimulatorHandle, 'devices'>,
  devices: DeviceStatus[],
  target: string,
): string[] {
  const problems: string[] = [];
  for (const d of devices.filter((x) => x.outcome === 'unconfirmed')) {
    const row = sim.devices().find((r) => r.SmartAGId === d.smartAgId);
    if (!row) problems.push(`${d.smartAgId}: not in the simulator`);
    else if ((row.upgradeCallsByVersion[target] ?? 0) > 0 || row.SoftwareVersion === target)
      problems.push(
        `${d.smartAgId}: unconfirmed although the simulator accepted ${row.upgradeCallsByVersion[target] ?? 0} call(s) and it runs ${row.SoftwareVersion}`,
      );
  }
  return problems;
}
