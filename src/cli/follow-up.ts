import type { Client } from '@temporalio/client';
import { readRolloutInput } from '../audit/read';
import { InputError } from '../config/errors';
import { validatePolicy } from '../config/policy';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { checkFeasible } from '../windows';
import type { DeviceStatus, DeviceStatusOutcome, InventoryDevice, RolloutInput } from '../../domain/types';
import { CliError, ExitCode } from './errors';
import { rolloutWorkflowId } from '../operator/ids';
import { rolloutWorkflowStatus } from '../operator/read';
import { getRolloutStatus } from '../operator/status';
import { checkWebhooksBeforeStart } from './webhooks';
import { isValidRolloutId, startRollout, type StartResult } from '../operator/start';

/** Outcomes a follow-up retries: the device is not known to be on the target. */
export const RETRIED_OUTCOMES: readonly DeviceStatusOutcome[] = ['failed', 'unconfirmed', 'compensated'];

/** What `retry-failed` on a closed rollout reports (`--json`). */
export interface FollowUpResult {
  /** The closed rollout named on the command line. */
  rolloutId: string;
  command: 'retry-failed';
  via: 'follow-up';
  /** The follow-up rollout, as `start` reports one. */
  followUp: StartResult;
  /** The devices it retries, with why the closed rollout left them. */
  devices: { smartAgId: string; outcome: DeviceStatusOutcome; errorCode?: string }[];
}

/** What a follow-up is made of, before it starts. */
export interface FollowUpPlan {
  rolloutId: string;
  /** The follow-up's rollout ID. */
  id: string;
  input: RolloutInput;
  inventory: InventoryDevice[];
  retried: DeviceStatus[];
  taskQueue: string;
  /** Webhooks that could not be checked with a worker. */
  warnings: string[];
}

/**
 * The first free follow-up ID, `<id>-retry-1`, `-retry-2`, … (read from the server, not from
 * visibility, so two commands in a row cannot both miss a follow-up just started).
 * @throws CliError (refused) while a follow-up of this rollout is still running.
 */
export async function nextFollowUpId(client: Client, rolloutId: string): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const id = `${rolloutId}-retry-${n}`;
    const status = await rolloutWorkflowStatus(client, id);
    if (status === undefined) return id;
    if (status === 'RUNNING') {
      throw new CliError(
        `rollout ${rolloutId} has a follow-up running, ${id}: steer that one (sag-rollout status ${id}), or retry its failed devices once it closes`,
        ExitCode.refused,
      );
    }
  }
  throw new CliError(
    `rollout ${rolloutId} has 999 follow-ups: start a new rollout instead`,
    ExitCode.refused,
  );
}

/**
 * Gathers a follow-up of a closed rollout: its failed, unconfirmed and compensated devices (as
 * `status` reads them), their inventory entries, policy and target from the closed rollout's
 * workflow input, and the next free follow-up ID. The policy is checked as `start` checks one,
 * against the original inventory, and its windows against the retried devices.
 *
 * The webhooks it names are checked with a worker as `start` checks them.
 *
 * @throws RolloutNotFoundError; NoWorkerError (its status needs a worker); CliError refused when
 *   no device needs another attempt or a follow-up still runs; CliError bad input when the policy
 *   cannot start a rollout today (a webhook URL, a past deadline, `requireTicket` without a ticket,
 *   a webhook the worker does not know).
 */
export async function planFollowUp(
  client: Client,
  rolloutId: string,
  o: { operator: string; ticket?: string; taskQueue?: string; env: NodeJS.ProcessEnv },
): Promise<FollowUpPlan> {
  const status = await getRolloutStatus(client, rolloutId);
  const retried = status.devices.filter((d) => RETRIED_OUTCOMES.includes(d.outcome));
  if (retried.length === 0) {
    throw new CliError(
      `rollout ${rolloutId} has closed (${status.state}) with no failed, unconfirmed or compensated device: retry-failed changes nothing`,
      ExitCode.refused,
    );
  }
  const input = await readRolloutInput(client, rolloutId);
  const byId = new Map(input.inventory.map((d) => [d.smartAgId, d]));
  const wanted = new Set(retried.map((d) => d.smartAgId));
  // The closed rollout's own inventory entries (serial numbers, group, tags), in its order.
  const inventory = [
    ...input.inventory.filter((d) => wanted.has(d.smartAgId)),
    ...retried
      .filter((d) => !byId.has(d.smartAgId))
      .map((d) => ({ smartAgId: d.smartAgId, regionId: d.regionId })),
  ];
  try {
    validatePolicy(input.policy, input.inventory, { ticket: o.ticket, operator: o.operator });
    checkFeasible(input.policy, Date.now(), inventory);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new CliError(
      `the policy of rollout ${rolloutId} cannot start a follow-up: nothing was started`,
      ExitCode.badInput,
      [
        ...err.problems,
        'retry these devices with sag-rollout start and a policy that passes (sag-rollout status shows them)',
      ],
    );
  }
  const id = checkFollowUpId(await nextFollowUpId(client, rolloutId));
  const description = await client.workflow.getHandle(rolloutWorkflowId(rolloutId)).describe();
  const taskQueue = o.taskQueue ?? input.taskQueue ?? description.taskQueue;
  const warnings = await checkWebhooksBeforeStart(client, taskQueue, input.policy, o.env);
  return { rolloutId, id, input, inventory, retried, taskQueue, warnings };
}

function checkFollowUpId(id: string): string {
  if (isValidRolloutId(id)) return id;
  throw new CliError(
    `the follow-up ID ${id} would be longer than 100 characters: start a new rollout instead`,
    ExitCode.refused,
  );
}

/**
 * Starts the follow-up as a rollout of its own under the closed rollout's policy, recorded with
 * `followUpOf` in its input and the `SagFollowUpOf` search attribute. Its device workflows read
 * what earlier runs of each device left open, so an upgrade that may still be in progress is
 * watched, not sent again; with `resendUnconfirmed`, one that shows no sign within the settle is
 * sent again (the policy's `noSignAfterSettle: resend`, for this follow-up only).
 * @throws CliError (refused) when the ID was taken meanwhile; what `startRollout` throws.
 */
export async function startFollowUp(
  client: Client,
  plan: FollowUpPlan,
  o: { operator: string; operatorIdentity?: string; ticket?: string; resendUnconfirmed?: boolean },
): Promise<FollowUpResult> {
  // A worker of this version registers SagFollowUpOf; a namespace prepared by an older one may lack it.
  await ensureSearchAttributes(client.connection, client.options.namespace).catch(() => []);
  const followUp = await startRollout(client, {
    rolloutId: plan.id,
    inventory: plan.inventory,
    // An operator who has read the report may choose to send again where no sign showed.
    policy: o.resendUnconfirmed ? { ...plan.input.policy, noSignAfterSettle: 'resend' } : plan.input.policy,
    operator: o.operator,
    ...(o.operatorIdentity ? { operatorIdentity: o.operatorIdentity } : {}),
    ticket: o.ticket,
    taskQueue: plan.taskQueue,
    followUpOf: plan.rolloutId,
  });
  if (!followUp.started) {
    throw new CliError(
      `rollout ${plan.id} was started meanwhile by someone else: nothing was started`,
      ExitCode.refused,
    );
  }
  return {
    rolloutId: plan.rolloutId,
    command: 'retry-failed',
    via: 'follow-up',
    followUp,
    devices: plan.retried.map((d) => ({
      smartAgId: d.smartAgId,
      outcome: d.outcome,
      ...(d.errorCode ? { errorCode: d.errorCode } : {}),
    })),
  };
}

/** The text line `retry-failed` prints for a follow-up. */
export function renderFollowUp(r: FollowUpResult): string {
  const by: Record<string, number> = {};
  for (const d of r.devices) by[d.outcome] = (by[d.outcome] ?? 0) + 1;
  const counts = Object.entries(by)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const waves = r.followUp.waves.map((w) => `${w.name} (${w.size})`).join(', ');
  return `retry-failed: started follow-up rollout ${r.followUp.rolloutId} of ${r.rolloutId}: ${r.followUp.devices} devices (${counts}) in ${waves}`;
}
