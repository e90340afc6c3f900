import type { Command } from 'commander';
import { getRolloutStatus } from '../../operator/status';
import { action, globalsOf, withClient } from '../context';
import { exitCodeForState, type ExitCodeValue } from '../errors';
import { intervalOption } from '../options';
import { out, outJson } from '../output';
import { statusJson } from '../render/json';
import { renderRolloutText } from '../render/rollout-text';
import { watchMode, watchRollout } from '../watch';

interface StatusFlags {
  watch?: boolean;
  interval: number;
  allDevices?: boolean;
  deviceLines?: boolean;
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
    .action(action(status));
}

async function status(rolloutId: string, o: StatusFlags, cmd: Command): Promise<ExitCodeValue> {
  const g = globalsOf(cmd);
  return withClient(cmd, async ({ client }) => {
    if (o.watch) {
      const final = await watchRollout(client, rolloutId, {
        ...watchMode(Boolean(g.json), o.interval),
        deviceLines: o.deviceLines,
      });
      return exitCodeForState(final);
    }
    const s = await getRolloutStatus(client, rolloutId);
    if (g.json) outJson(statusJson(s));
    else out(renderRolloutText(s, { allDevices: o.allDevices }));
    return exitCodeForState(s);
  });
}
