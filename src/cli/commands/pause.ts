import type { Command } from 'commander';
import { action } from '../context';
import { runControl } from '../control';
import { controlOptions, noWaitOption } from '../options';

/** `pause`: no new device starts; a Signal when no worker answers. */
export function registerPause(program: Command): void {
  const cmd = controlOptions(program.command('pause <rolloutId>')).description(
    'pause: no new device starts; upgrades in flight finish (a Signal when no worker answers)',
  );
  noWaitOption(cmd).action(action((id: string, _o: unknown, c: Command) => runControl('pause', id, c)));
}
