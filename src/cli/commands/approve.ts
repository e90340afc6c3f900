import type { Command } from 'commander';
import { action } from '../context';
import { runControl } from '../control';
import { wholeNumber } from '../inputs';
import { controlOptions } from '../options';

/** `approve`: the wave waiting at an approval gate may start. */
export function registerApprove(program: Command): void {
  controlOptions(program.command('approve <rolloutId>'))
    .description('approve the wave waiting at an approval gate')
    .option('--wave <n>', 'the wave whose gate this approves (default: the one waiting)', (v) =>
      wholeNumber(v, '--wave'),
    )
    .action(
      action((id: string, o: { wave?: number }, cmd: Command) =>
        runControl('approve', id, cmd, { wave: o.wave }),
      ),
    );
}
