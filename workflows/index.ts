/** The workflowsPath entry: everything Temporal's sandbox bundles. */
export { deviceUpgradeWorkflow } from './device';
export { wavePartWorkflow } from './part';
export { rolloutWorkflow } from './rollout';
export { apiQuotaWorkflow } from './quota';
export { notificationWorkflow } from './notify';
export { webhookCheckWorkflow } from './webhook-check';
