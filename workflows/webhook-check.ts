import { workerCheck } from './activity-options';
import type { CheckWebhooksInput, CheckWebhooksResult } from '../activities/rollout';

/**
 * Asks a worker of the task queue which of a policy's webhook names it cannot resolve, before a
 * rollout starts (`sag-rollout start`, `retry-failed`). Only names travel: the URLs stay in the
 * worker's configuration. ID `webhook-check/<uuid>`.
 */
export async function webhookCheckWorkflow(input: CheckWebhooksInput): Promise<CheckWebhooksResult> {
  return workerCheck.checkWebhooks(input);
}
