import { CommanderError } from 'commander';
import { ExitCode, classifyError } from './errors';
import { buildProgram } from './program';

/**
 * Runs the CLI and returns its exit code (see {@link ExitCode}). Errors are printed as one clear
 * message on stderr; `--json` also prints `{"error": ..., "exitCode": ...}` on stdout.
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  for (const c of program.commands) c.exitOverride();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return program.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help' ||
        err.code === 'commander.executeSubCommandAsync'
      )
        return ExitCode.ok;
      // Commander already printed its message on stderr.
      return ExitCode.badInput;
    }
    const { message, details, exitCode: code } = classifyError(err);
    process.stderr.write(`sag-rollout: ${message}\n${details.map((d) => `  ${d}\n`).join('')}`);
    if (json) process.stdout.write(`${JSON.stringify({ error: message, details, exitCode: code })}\n`);
    if (code === ExitCode.internal && process.env.SAG_ROLLOUT_DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    return code;
  }
}
