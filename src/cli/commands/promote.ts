import type { Command } from 'commander';
import { action } from '../context';
import { runControl } from '../control';
import { controlOptions } from '../options';

/** `promote`: the bake or gate that is waiting ends now. */
export function registerPromote(program: Command): void {
  controlOptions(program.command('promote <rolloutId>'))
    .description('skip the rest of the bake or gate that is waiting')
    .action(action((id: string, _o: unknown, cmd: Command) => runControl('promote', id, cmd)));
}
