import type { Command } from 'commander';
import { runSimulatorCommand } from '../../simulator/command';
import { action } from '../context';
import { ExitCode } from '../errors';
import { wholeNumber } from '../inputs';

/** `simulator`: the local smartag endpoint over a simulated fleet. */
export function registerSimulator(program: Command): void {
  program
    .command('simulator')
    .description(
      'run the SAG simulator: a local smartag endpoint over a simulated fleet (see docs/simulator.md)',
    )
    .option('--port <port>', 'TCP port (default: a free one)', (v) => wholeNumber(v, '--port'))
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--fleet <file>', 'fleet file')
    .option('--devices <n>', 'generate this many instances (default 20)', (v) =>
      wholeNumber(v, '--devices', 1),
    )
    .option('--seed <n>', 'seed of the generated fleet', (v) => wholeNumber(v, '--seed'))
    .option('--access-key-id <id>', 'AccessKey the simulator accepts (default: a generated pair)')
    .option(
      '--access-key-secret <secret>',
      'its secret (or SAG_SIMULATOR_ACCESS_KEY_SECRET, which keeps it out of the process list)',
    )
    .action(
      action(
        async (o: {
          port?: number;
          host: string;
          fleet?: string;
          devices?: number;
          seed?: number;
          accessKeyId?: string;
          accessKeySecret?: string;
        }) => {
          await runSimulatorCommand(o);
          return ExitCode.ok;
        },
      ),
    );
}
