/**
 * What every command runs with: the global options, the Temporal client they point at, and the
 * exit code its action returns.
 */

import os from 'node:os';
import type { Client } from '@temporalio/client';
import { Command } from 'commander';
import {
  DEFAULT_TASK_QUEUE,
  connectClient,
  temporalTarget,
  type TemporalTarget,
} from '../temporal/connection';
import { CliError, ExitCode, type ExitCodeValue } from './errors';

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

/** The root command: it keeps the exit code of the action that ran, for `main` to return. */
export class CliProgram extends Command {
  exitCode: ExitCodeValue = ExitCode.ok;
}

/** Declares the {@link GlobalOptions} on the program. */
export function globalOptions(program: Command): Command {
  return program
    .option(
      '--address <host:port>',
      'Temporal frontend (default: TEMPORAL_ADDRESS, a TEMPORAL_PROFILE, or localhost:7233)',
    )
    .option('--namespace <ns>', 'Temporal namespace (default: TEMPORAL_NAMESPACE or default)')
    .option('--task-queue <name>', 'task queue of the workers', undefined)
    .option('--json', 'print results as JSON on stdout');
}

/** The global options as the command's invocation set them. */
export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * Wraps a command's action for commander. The action returns its exit code; the program keeps it
 * for `main`. Commander passes the command itself as the action's last argument.
 */
export function action<A extends unknown[]>(
  run: (...args: A) => Promise<ExitCodeValue>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await run(...args);
    const cmd = args[args.length - 1];
    if (!(cmd instanceof Command)) return;
    let root = cmd;
    while (root.parent) root = root.parent;
    if (root instanceof CliProgram) root.exitCode = code;
  };
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

/** Runs `fn` with a client connected as the command's global options say, and closes it after. */
export async function withClient<T>(
  cmd: Command,
  fn: (ctx: Awaited<ReturnType<typeof connect>>) => Promise<T>,
): Promise<T> {
  const ctx = await connect(globalsOf(cmd));
  try {
    return await fn(ctx);
  } finally {
    await disconnect(ctx.client);
  }
}

/** The operator's name when `--operator` is not given: the OS user. */
export function defaultOperator(): string {
  try {
    return os.userInfo().username || process.env.USER || 'unknown';
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
