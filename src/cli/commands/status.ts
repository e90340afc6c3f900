import type { Command } from 'commander';
import { NoWorkerError } from '../../operator/errors';
import { getRolloutStatus, type RolloutStatus } from '../../operator/status';
import { action, globalsOf, withClient } from '../context';
import { ExitCode, exitCodeForState, type ExitCodeValue } from '../errors';
import { intervalOption } from '../options';
import { info, out, outJson } from '../output';
import { statusJson } from '../render/json';
import { lastSeenJson, renderLastSeenText } from '../render/last-seen';
import { renderRolloutText } from '../render/rollout-text';
import { halted, watchMode, watchRollout } from '../watch';

interface StatusFlags {
  watch?: boolean;
  interval: number;
  allDevices?: boolean;
  deviceLines?: boolean;
  exitOnHalt?: boolean;
}

/** `status`: a rollout's state, waves and devices, once or followed with `--watch`. */
export function registerStatus(program: Command): void {
  const cmd = program
    .command('status <rolloutId>')
    .description(
      'show a rollout: state, waves, device counts and every device not upgraded (--watch follows it live)',
    )
    .option(
      '-w, --watch',
      'follow until it closes: progress bars on a terminal, plain event lines otherwise (JSON lines with --json)',
    );
  intervalOption(cmd)
    .option('--all-devices', 'list every device, also the upgraded and pending ones')
    .option('--device-lines', 'with --watch off a terminal: a line for every device that finishes')
    .option(
      '--exit-on-halt',
      'with --watch: stop when the rollout halts (exit 5) instead of waiting for a resume',
    )
    .action(action(status));
}

async function status(rolloutId: string, o: StatusFlags, cmd: Command): Promise<ExitCodeValue> {
  const g = globalsOf(cmd);
  return withClient(cmd, async ({ client }) => {
    if (o.watch) {
      const final = await watchRollout(client, rolloutId, {
        ...watchMode(Boolean(g.json), o.interval),
        deviceLines: o.deviceLines,
        ...(o.exitOnHalt ? { until: halted } : {}),
      });
      return exitCodeForState(final);
    }
    let s: RolloutStatus;
    try {
      s = await getRolloutStatus(client, rolloutId);
    } catch (err) {
      if (!(err instanceof NoWorkerError)) throw err;
      // Without a worker: say so, and show what visibility and the search attributes hold.
      if (g.json) outJson(lastSeenJson(err, ExitCode.internal));
      else {
        info(err.message);
        if (err.lastSeen) out(renderLastSeenText(err.lastSeen));
      }
      return ExitCode.internal;
    }
    if (g.json) outJson(statusJson(s));
    else out(renderRolloutText(s, { allDevices: o.allDevices }));
    return exitCodeForState(s);
  });
}
