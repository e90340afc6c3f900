import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/simulator';
import {
  createRolloutWorker,
  type RolloutWorker,
  type RolloutWorkerOptions,
} from '../../src/temporal/worker';
import { deviceUpgradeWorkflow } from '../../workflows/device';
import { rolloutWorkflow } from '../../workflows/rollout';
import type { DeviceUpgradePolicy, DeviceUpgradeResult, RolloutPolicy } from '../../domain/types';
import { fastDevicePolicy, fastRolloutPolicy } from './fixtures';
import { connectTestEnv, testTarget, uniqueName, workflowBundle } from './temporal';

export interface Stack {
  sim: SimulatorHandle;
  env: TestWorkflowEnvironment;
  client: Client;
  worker: RolloutWorker;
  taskQueue: string;
  /** Runs `fn` while the worker polls. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** The simulator, a connection to the run's dev server, and a worker on a task queue of its own. */
export async function startStack(
  simOptions: SimulatorOptions,
  workerOptions: Partial<RolloutWorkerOptions> = {},
): Promise<Stack> {
  const sim = await startSimulator(simOptions);
  const env = await connectTestEnv();
  const taskQueue = uniqueName('tq');
  const worker = await createRolloutWorker({
    target: testTarget(),
    taskQueue,
    credentials: {
      getCredentials: () =>
        Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
    },
    sagEndpoint: sim.endpoint,
    apiRate: 500,
    sagTimeoutMs: 2000,
    workflowBundle: workflowBundle(),
    ensureSearchAttributes: false,
    ...workerOptions,
  });
  const running = worker.worker.run();
  let failure: unknown;
  running.catch((err: unknown) => {
    failure = err;
  });
  return {
    sim,
    env,
    client: env.client,
    worker,
    taskQueue,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (failure instanceof Error) throw failure;
      if (failure !== undefined) throw new Error('the worker stopped');
      return fn();
    },
    async stop() {
      worker.worker.shutdown();
      await running.catch(() => undefined);
      await worker.connection.close().catch(() => undefined);
      await env.teardown();
      await sim.stop();
    },
  };
}

/** Runs one device workflow on the stack with a test-sized policy and returns its result. */
export async function runDeviceUpgrade(
  stack: Stack,
  smartAgId: string,
  policy: Partial<DeviceUpgradePolicy> = {},
  rolloutId = 'test',
): Promise<DeviceUpgradeResult> {
  return stack.run(() =>
    stack.client.workflow.execute(deviceUpgradeWorkflow, {
      workflowId: uniqueName(`upgrade/${smartAgId}`),
      taskQueue: stack.taskQueue,
      args: [
        {
          rolloutId,
          device: { smartAgId, regionId: 'cn-shanghai' },
          policy: fastDevicePolicy(policy),
          mode: 'upgrade',
        },
      ],
    }),
  );
}

/**
 * Starts a rollout of `ids` (all in cn-shanghai) on the stack's task queue, operator alice, under
 * the test-sized policy with `policy` over it; the rollout ID is unique and starts with `prefix`.
 */
export function startRolloutOf(stack: Stack, ids: string[], policy: Partial<RolloutPolicy>, prefix = 'r') {
  const rolloutId = uniqueName(prefix);
  return stack.client.workflow.start(rolloutWorkflow, {
    workflowId: `rollout/${rolloutId}`,
    taskQueue: stack.taskQueue,
    args: [
      {
        rolloutId,
        inventory: ids.map((smartAgId) => ({ smartAgId, regionId: 'cn-shanghai' })),
        policy: fastRolloutPolicy(policy),
        operator: 'alice',
        taskQueue: stack.taskQueue,
      },
    ],
  });
}

export { fastDevicePolicy, fastRolloutPolicy, haInstance, instance, VERSIONS } from './fixtures';
