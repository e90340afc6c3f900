import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowBundle } from '../helpers/temporal';

const dir = path.resolve(__dirname, '../fixtures/histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.bin'));

describe('replay of saved rollout histories', () => {
  it('has the histories of a full rollout: rollout, parts and device workflows, compensation included', () => {
    expect(files.some((f) => f.startsWith('rolloutWorkflow-'))).toBe(true);
    expect(files.filter((f) => f.startsWith('wavePartWorkflow-')).length).toBeGreaterThanOrEqual(2);
    expect(files.filter((f) => f.startsWith('deviceUpgradeWorkflow-')).length).toBeGreaterThanOrEqual(6);
  });

  it('has the histories of a rollout that continued as new, of a compensation part, and of an aborted rollout', () => {
    const rollouts = files
      .filter((f) => f.startsWith('rolloutWorkflow-'))
      .map((f) => temporal.api.history.v1.History.decode(readFileSync(path.join(dir, f))).events ?? []);
    expect(rollouts.some((events) => events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes)).toBe(
      true,
    );
    expect(files.some((f) => f.startsWith('wavePartWorkflow-') && f.includes('_compensate-'))).toBe(true);
    // An aborted rollout's history holds the abort update or signal its operator sent.
    expect(
      rollouts.some((events) =>
        events.some(
          (e) =>
            e.workflowExecutionSignaledEventAttributes?.signalName === 'abort' ||
            e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'abortRollout',
        ),
      ),
    ).toBe(true);
  });

  it.each(files)('replays %s through the current workflow code without nondeterminism', async (file) => {
    const history = temporal.api.history.v1.History.decode(readFileSync(path.join(dir, file)));
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, file);
  });
});
