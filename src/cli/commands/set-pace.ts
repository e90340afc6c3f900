import type { Command } from 'commander';
import { action } from '../context';
import { runControl } from '../control';
import { CliError, ExitCode } from '../errors';
import { wholeNumber } from '../inputs';
import { controlOptions } from '../options';

/** `set-pace`: devices in flight and devices started per minute, changed while the rollout runs. */
export function registerSetPace(program: Command): void {
  controlOptions(program.command('set-pace <rolloutId>'))
    .description('change the pace: devices in flight and devices started per minute')
    .option('--concurrency <n>', 'devices in flight', (v) => wholeNumber(v, '--concurrency', 1))
    .option('--max-per-minute <n>', 'devices started per minute (0 removes the cap)', (v) =>
      wholeNumber(v, '--max-per-minute', 0),
    )
    .action(
      action(async (id: string, o: { concurrency?: number; maxPerMinute?: number }, cmd: Command) => {
        if (o.concurrency === undefined && o.maxPerMinute === undefined)
          throw new CliError('set-pace needs --concurrency or --max-per-minute', ExitCode.badInput);
        return runControl('set-pace', id, cmd, { concurrency: o.concurrency, maxPerMinute: o.maxPerMinute });
      }),
    );
}
