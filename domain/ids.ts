/** The workflow IDs the project names its workflows by: one place, read by workflows and clients. */

/** The workflow ID of a rollout. */
export function rolloutWorkflowId(rolloutId: string): string {
  return `rollout/${rolloutId}`;
}

/** The workflow ID of a device's upgrade lock: one running upgrade per device, whatever the rollout. */
export function deviceWorkflowId(smartAgId: string): string {
  return `upgrade/${smartAgId}`;
}

/** The workflow ID of a rollout's child: a wave part, a compensation, a notification. */
export function rolloutChildId(rolloutId: string, name: string): string {
  return `${rolloutWorkflowId(rolloutId)}/${name}`;
}

/**
 * The rollout a workflow ID belongs to: `rollout/<id>` and its children `rollout/<id>/<name>`
 * (rollout IDs hold no `/`); undefined for an ID not named so.
 */
export function rolloutOfWorkflowId(workflowId: string): string | undefined {
  const prefix = rolloutWorkflowId('');
  if (!workflowId.startsWith(prefix)) return undefined;
  return workflowId.slice(prefix.length).split('/')[0] || undefined;
}
