/** The terminal side of a command: results on stdout, progress and logs on stderr, confirmations. */

import { createInterface } from 'node:readline/promises';
import { CliError, ExitCode } from './errors';

/** Whether a prompt can be shown: both stdin and stderr are terminals. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/**
 * Asks the operator to confirm a change. `--yes` skips the question; without a terminal the
 * command is refused rather than hanging on a prompt nobody sees.
 * @throws CliError (refused) when declined or when there is no terminal and no `--yes`.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!canPrompt()) {
    throw new CliError(
      `refusing to ${question} without confirmation: there is no terminal to ask on; pass --yes`,
      ExitCode.refused,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim()))
      throw new CliError('not confirmed: nothing was changed', ExitCode.refused);
  } finally {
    rl.close();
  }
}

/** Writes a result line to stdout. */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Writes a progress or log line to stderr. */
export function info(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Prints `data` as indented JSON on stdout. */
export function outJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}
