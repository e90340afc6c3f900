/** Workflow IDs as the operator client reads them: the project's naming, and its inverse. */

import { deviceWorkflowId, rolloutOfWorkflowId, rolloutWorkflowId } from '../../domain/ids';

export { deviceWorkflowId, rolloutWorkflowId };

/** The rollout ID a rollout's workflow ID names (an ID not named that way is returned as it is). */
export function rolloutIdOf(workflowId: string): string {
  return rolloutOfWorkflowId(workflowId) ?? workflowId;
}
