import { ParentClosePolicy, WorkflowIdReusePolicy, patched, startChild } from '@temporalio/workflow';
import { rolloutStep } from '../activity-options';
import { notificationWorkflow } from '../notify';
import { rolloutChildId } from '../../domain/ids';
import type { Rollout } from './state';

type Detail = Record<string, string | number | boolean | undefined>;

/** Sends a rollout event to the policy's webhooks that take it. Delivery retries in its activity and never blocks the rollout. */
export function notify(r: Rollout, event: string, detail: Detail): void {
  const { policy, input } = r;
  if (policy.webhooks.length === 0) return;
  if (patched('notify-per-webhook')) {
    // One activity per webhook: one that fails or never answers is retried on its own, and
    // neither delays nor repeats the delivery to the others.
    const at = Date.now();
    for (const hook of policy.webhooks) {
      if (hook.events?.length && !hook.events.includes(event)) continue;
      void rolloutStep
        .notify({ webhooks: [hook], event, rolloutId: input.rolloutId, detail, at })
        .catch(() => undefined);
    }
    return;
  }
  void rolloutStep
    .notify({ webhooks: policy.webhooks, event, rolloutId: input.rolloutId, detail, at: Date.now() })
    .catch(() => undefined);
}

/**
 * Sends an event the rollout emits as it closes. Its deliveries run in a workflow of their own
 * that outlives this one, so a webhook that fails at first still gets every retry.
 */
export async function notifyClosing(r: Rollout, event: string, detail: Detail): Promise<void> {
  const { policy, input } = r;
  if (policy.webhooks.length === 0) return;
  if (!patched('notify-closing-workflow')) return notify(r, event, detail);
  const webhooks = policy.webhooks.filter((hook) => !hook.events?.length || hook.events.includes(event));
  if (webhooks.length === 0) return;
  try {
    await startChild(notificationWorkflow, {
      workflowId: rolloutChildId(input.rolloutId, `notify-${event}`),
      taskQueue: input.taskQueue,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [{ rolloutId: input.rolloutId, event, detail, at: Date.now(), webhooks }],
    });
  } catch {
    // The workflow ID is taken (a rollout ID reused while its last delivery still retries):
    // deliver from here, while this rollout is open.
    notify(r, event, detail);
  }
}
