import type { Command } from 'commander';
import { action } from '../context';
import { runControl } from '../control';
import { controlOptions } from '../options';

/** `exclude`: devices that have not started yet leave the rollout. */
export function registerExclude(program: Command): void {
  controlOptions(program.command('exclude <rolloutId> <smartAgIds...>'))
    .description('exclude devices that have not started yet from the rollout')
    .action(
      action((id: string, ids: string[], _o: unknown, cmd: Command) =>
        runControl('exclude', id, cmd, { smartAgIds: ids }, `exclude ${ids.join(', ')} from rollout ${id}`),
      ),
    );
}
