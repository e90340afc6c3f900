import os from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Client } from '@temporalio/client';
import {
  DEFAULT_TASK_QUEUE,
  connectClient,
  temporalTarget,
  type TemporalTarget,
} from '../temporal/connection';
import { CliError, ExitCode } from './errors';

/** Options every command accepts (declared once on the program). */
export interface GlobalOptions {
  /** `--address host:port` of the Temporal frontend. */
  address?: string;
  /** `--namespace`. */
  namespace?: string;
  /** `--task-queue` the worker polls. */
  taskQueue?: string;
  /** `--json`: machine-readable results on stdout. */
  json?: boolean;
}

/** The Temporal server, namespace and task queue the command talks to. */
export function targetOf(opts: GlobalOptions): TemporalTarget & { taskQueue: string } {
  const target = temporalTarget(process.env, { address: opts.address, namespace: opts.namespace });
  return { ...target, taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE };
}

/**
 * Connects a workflow client, turning a failed connection into one clear message.
 * @throws CliError (internal) when the server cannot be reached.
 */
export async function connect(
  opts: GlobalOptions,
): Promise<{ client: Client; target: TemporalTarget; taskQueue: string }> {
  const target = targetOf(opts);
  try {
    const client = await connectClient(target);
    return { client, target, taskQueue: target.taskQueue };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new CliError(
      `cannot reach Temporal at ${target.connectionOptions.address} (namespace ${target.namespace}): ${why}`,
      ExitCode.internal,
      [
        'start a local one with `sag-rollout dev`, or point --address / TEMPORAL_ADDRESS (or a TEMPORAL_PROFILE) at your server',
      ],
    );
  }
}

/** Closes the client's connection, ignoring errors. */
export async function disconnect(client: Client): Promise<void> {
  await client.connection.close().catch(() => undefined);
}

/** The operator's name when `--operator` is not given: the OS user. */
export function defaultOperator(): string {
  try {
    return os.userInfo().username || process.env.USER || 'unknown';
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

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
