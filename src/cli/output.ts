/** The terminal side of a command: results on stdout, progress and logs on stderr, confirmations. */

import { createInterface } from 'node:readline/promises';
import { CliError, ExitCode } from './errors';

/** Whether a prompt can be shown: both stdin and stderr are terminals. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** A summary shown before the question, which then asks only `ask` (`start rollout r-42`). */
export interface ConfirmSummary {
  text: string;
  ask: string;
}

/**
 * Whether a confirmation's summary reaches a reader: on a terminal, before the question, or
 * with `--yes` when stderr is one (a record of what was started); never to a pipe or a log.
 */
export function summaryShown(yes: boolean | undefined): boolean {
  return yes ? Boolean(process.stderr.isTTY) : canPrompt();
}

/**
 * Asks the operator to confirm a change. `--yes` skips the question; without a terminal the
 * command is refused rather than hanging on a prompt nobody sees. A `summary` goes to stderr
 * where {@link summaryShown} says, and the question then asks only its `ask`.
 * @throws CliError (refused) when declined or when there is no terminal and no `--yes`.
 */
export async function confirm(
  question: string,
  yes: boolean | undefined,
  summary?: ConfirmSummary,
): Promise<void> {
  if (summary && summaryShown(yes)) info(`${summary.text}\n\n`);
  if (yes) return;
  if (!canPrompt()) {
    throw new CliError(
      `refusing to ${question} without confirmation: there is no terminal to ask on; pass --yes`,
      ExitCode.refused,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${summary?.ask ?? question}? [y/N] `);
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
