import { CancellationScope, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { apiCall } from '../activity-options';
import { classify } from '../failures';
import { deviceProgressQuery } from '../messages';
import type { DeviceSnapshot } from '../../domain/device-types';
import { mergeOpenSends } from '../../domain/open-sends';
import type { DeviceUpgradeInput, DeviceUpgradeResult, PriorRecord } from '../../domain/types';
import { serialVersion } from '../../domain/versions';
import { compensate } from './compensate';
import { DeviceRun, nonEmpty, StepError } from './run';
import { upgrade } from './upgrade';

/**
 * Upgrades one SAG instance: inspect, preflight, pin the auto-upgrade policies to manual, upgrade
 * each serial number (an HA pair's standby first, the active one once the pair is healthy again),
 * verify, restore the policies; or, in `compensate` mode, undoes what an earlier run did. Workflow
 * ID `upgrade/<SmartAGId>`: one open run per device, so no two rollouts ever upgrade it at once.
 *
 * The sequence runs in a non-cancellable scope: a flashing device is never interrupted.
 */
export async function deviceUpgradeWorkflow(input: DeviceUpgradeInput): Promise<DeviceUpgradeResult> {
  const run = new DeviceRun(input, Date.now());
  setHandler(deviceProgressQuery, () => run.progress);
  return CancellationScope.nonCancellable(async () => {
    // What earlier runs left open outlives them: read it before anything is sent.
    if (patched('prior-record')) {
      try {
        const info = workflowInfo();
        const prior: PriorRecord = await apiCall.readPriorRecord({
          workflowId: info.workflowId,
          runId: info.runId,
        });
        run.open = mergeOpenSends(run.open, prior.openSends);
        run.priorPinned ??= prior.pinned;
      } catch (err) {
        // Without the record nothing may be sent: an earlier call could still be in progress.
        return run.finishFailed(new StepError('inspect', { ...classify(err), code: 'PriorRunsUnreadable' }));
      }
    }
    let snapshot: DeviceSnapshot;
    try {
      snapshot = await run.step('inspect', () =>
        apiCall.inspectDevice({
          regionId: input.device.regionId,
          smartAgId: input.device.smartAgId,
          versionType: input.policy.versionType,
          overrides: nonEmpty(input.policy.errorOverrides),
          ...(input.policy.reads?.shareVersions ? { shareVersions: input.policy.reads.shareKey } : {}),
        }),
      );
    } catch (err) {
      return run.finishFailed(err);
    }
    run.result.serials = snapshot.serials.map((s) => ({
      serialNumber: s.serialNumber,
      role: s.haState,
      from: serialVersion(s, input.policy.versionType),
    }));
    return input.mode === 'compensate' ? compensate(run, snapshot) : upgrade(run, snapshot);
  });
}

export { deviceWorkflowId } from '../../domain/ids';
