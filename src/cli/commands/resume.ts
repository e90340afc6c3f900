import type { Command } from 'commander';
import { action } from '../context';
import { runControl } from '../control';
import { controlOptions } from '../options';

/** `resume`: a paused or halted rollout goes on. */
export function registerResume(program: Command): void {
  controlOptions(program.command('resume <rolloutId>'))
    .description('resume a paused or halted rollout (a halted one starts with a fresh failure budget)')
    .action(action((id: string, _o: unknown, cmd: Command) => runControl('resume', id, cmd)));
}
