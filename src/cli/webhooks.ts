import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { InputError } from '../config/errors';
import {
  hasWebhookConfiguration,
  howToConfigure,
  loadWebhooks,
  lookupWebhook,
  webhookUrlVar,
} from '../config/webhooks';
import type { webhookCheckWorkflow } from '../../workflows/webhook-check';
import type { RolloutPolicy } from '../../domain/types';
import { workerCount } from '../operator/read';
import { CliError, ExitCode } from './errors';

/** The webhook names a policy uses. */
export function policyWebhookNames(policy: Pick<RolloutPolicy, 'webhooks'>): string[] {
  return policy.webhooks.flatMap((h) => (h.name !== undefined ? [h.name] : []));
}

/**
 * Checks webhook names against this process's own configuration (`SAG_WEBHOOK_<NAME>_URL`,
 * `SAG_WEBHOOKS_FILE`), which is the worker's only when both run in one environment: the result
 * is warnings, never a refusal.
 */
export function localWebhookWarnings(names: string[], env: NodeJS.ProcessEnv): string[] {
  if (names.length === 0) return [];
  if (!hasWebhookConfiguration(env)) {
    return [
      `webhooks not checked here (this environment configures none): the worker must know ${names.join(', ')} (${webhookUrlVar(names[0]!)} or its --webhooks file), or their deliveries fail`,
    ];
  }
  try {
    const directory = loadWebhooks({ env });
    return names
      .filter((n) => !lookupWebhook(directory, n))
      .map(
        (n) =>
          `webhook ${n} is not configured in this environment (${webhookUrlVar(n)} or SAG_WEBHOOKS_FILE): the worker must know it, or its deliveries fail`,
      );
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return [
      `this environment's webhook configuration cannot be read (${err.problems[0] ?? 'invalid'}): webhooks not checked`,
    ];
  }
}

/**
 * Asks a worker of the task queue which names it cannot resolve, through `webhookCheckWorkflow`
 * (only names travel). Returns why not when no worker answers within `timeoutMs`.
 */
export async function askWorkerAboutWebhooks(
  client: Client,
  taskQueue: string,
  names: string[],
  timeoutMs = 5000,
): Promise<{ unknown: string[] } | { unanswered: string }> {
  if ((await workerCount(client, taskQueue)) === 0)
    return { unanswered: `no worker polls task queue ${taskQueue}` };
  const handle = await client.workflow.start<typeof webhookCheckWorkflow>('webhookCheckWorkflow', {
    workflowId: `webhook-check/${randomUUID()}`,
    taskQueue,
    args: [{ names }],
    workflowExecutionTimeout: '1m',
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      handle.result(),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]);
    if (answer) return answer;
    // A worker of a version without the check, or a busy one: nothing waits for it any more.
    await handle.terminate('no answer in time').catch(() => undefined);
    return {
      unanswered: `no worker on task queue ${taskQueue} answered within ${Math.round(timeoutMs / 1000)} s`,
    };
  } catch (err) {
    return {
      unanswered: `the check on task queue ${taskQueue} failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Before a rollout starts: the worker's answer decides (a name it does not know is refused, since
 * every delivery to it would fail); without an answer, this environment's configuration gives
 * warnings. Returns the warnings.
 * @throws CliError (bad input) naming each webhook the worker does not know and how to configure it.
 */
export async function checkWebhooksBeforeStart(
  client: Client,
  taskQueue: string,
  policy: Pick<RolloutPolicy, 'webhooks'>,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const names = policyWebhookNames(policy);
  if (names.length === 0) return [];
  const answer = await askWorkerAboutWebhooks(client, taskQueue, names);
  if ('unknown' in answer) {
    if (answer.unknown.length === 0) return [];
    throw new CliError(
      `the worker on task queue ${taskQueue} does not know webhook${answer.unknown.length > 1 ? 's' : ''} ${answer.unknown.join(', ')}: nothing was started`,
      ExitCode.badInput,
      answer.unknown.map((n) => `${n}: ${howToConfigure(n)}`),
    );
  }
  return [`webhooks not checked with a worker (${answer.unanswered})`, ...localWebhookWarnings(names, env)];
}
