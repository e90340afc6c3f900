import { rolloutStep } from './activity-options';
import type { WebhookTarget } from '../domain/types';

export interface NotificationInput {
  rolloutId: string;
  event: string;
  detail: Record<string, string | number | boolean | undefined>;
  /** When the rollout decided to send the event; every attempt carries it. */
  at: number;
  /** The webhooks that take the event, already filtered by their `events`. */
  webhooks: WebhookTarget[];
}

export interface NotificationResult {
  delivered: number;
  /** Positions in `webhooks` whose delivery failed after every retry. */
  failed: number[];
}

/**
 * Delivers one rollout event to its webhooks, each with its own retried activity, in a workflow
 * of its own (`rollout/<rolloutId>/notify-<event>`). The rollout starts it for the events it
 * sends as it closes, so their retries outlive the rollout's own execution.
 */
export async function notificationWorkflow(input: NotificationInput): Promise<NotificationResult> {
  const outcomes = await Promise.allSettled(
    input.webhooks.map((hook) =>
      rolloutStep.notify({
        webhooks: [hook],
        event: input.event,
        rolloutId: input.rolloutId,
        detail: input.detail,
        at: input.at,
      }),
    ),
  );
  const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
  return { delivered: outcomes.length - failed.length, failed };
}
