import type { Command } from 'commander';
import { action } from '../context';
import { runControl } from '../control';
import { controlOptions, noWaitOption } from '../options';

/** `abort`: no more devices start; the batch in flight is compensated unless `--no-compensate`. */
export function registerAbort(program: Command): void {
  const cmd = controlOptions(program.command('abort <rolloutId>'))
    .description(
      'abort: start no more devices, let upgrades in flight finish, compensate the batch in flight',
    )
    .option('--no-compensate', 'do not compensate the batch in flight');
  noWaitOption(cmd).action(
    action((id: string, o: { compensate: boolean }, c: Command) =>
      runControl('abort', id, c, { compensate: o.compensate }, `abort rollout ${id}`),
    ),
  );
}
