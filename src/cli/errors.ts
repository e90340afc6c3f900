import { InputError } from '../config/errors';
import { CredentialsConfigError } from '../sag/credentials';
import { IamPolicyInputError } from '../sag/iam-policy';
import { ControlError, NoWorkerError, RolloutNotFoundError } from '../operator/errors';
import { notReached } from '../operator/not-reached';
import type { RolloutStatus } from '../operator/status';

/**
 * Exit codes of every `sag-rollout` command (a public contract, documented in docs/cli.md).
 */
export const ExitCode = {
  /** The command did what was asked (a rollout it watched completed). */
  ok: 0,
  /** Anything unexpected: a bug, an unreachable Temporal server, no worker to answer. */
  internal: 1,
  /** Bad input: flags, inventory, policy, configuration. Nothing was started or changed. */
  badInput: 2,
  /** Refused: the rollout said no, the operator declined, or there was no terminal to ask on. */
  refused: 3,
  /** The named rollout (or file) does not exist. */
  notFound: 4,
  /** The rollout halted on its failure budget, was aborted, or failed. */
  halted: 5,
  /**
   * The rollout completed, and some devices failed, stayed unconfirmed, were compensated, or were
   * not reached (the deadline passed, or another rollout held them).
   */
  completedWithFailures: 6,
  /** The rollout completed without upgrading any device (all skipped as needing nothing, or excluded), and none failed or went unreached. */
  nothingUpgraded: 7,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code a rollout's state maps to: 5 for aborted, failed, or paused on a halt; once it
 * completed, 6 when devices failed (or stayed unconfirmed, or were compensated, or were skipped
 * without being reached: `DeadlinePassed`, `HeldByAnotherRollout`), 7 when no device was upgraded;
 * else 0.
 */
export function exitCodeForState(
  s: Pick<RolloutStatus, 'state' | 'haltReason' | 'counts' | 'devices'>,
): ExitCodeValue {
  if (s.state === 'aborted' || s.state === 'failed') return ExitCode.halted;
  // Halted and not closed yet: paused on the halt, aborting after it, or the part decided it and
  // the rollout is about to hear of it.
  if (s.haltReason && s.state !== 'completed') return ExitCode.halted;
  if (s.state === 'completed') {
    const c = s.counts;
    if (c.failed + c.unconfirmed + c.compensated > 0 || s.devices.some(notReached))
      return ExitCode.completedWithFailures;
    if (c.upgraded === 0) return ExitCode.nothingUpgraded;
  }
  return ExitCode.ok;
}

/** An error the CLI reports as one clear message and a specific exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** Extra lines printed under the message (e.g. every problem of an input file). */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** Maps any thrown value onto the message and exit code the CLI reports. Never includes a secret. */
export function classifyError(err: unknown): { message: string; details: string[]; exitCode: ExitCodeValue } {
  if (err instanceof CliError) return { message: err.message, details: err.details, exitCode: err.exitCode };
  if (err instanceof RolloutNotFoundError)
    return { message: err.message, details: [], exitCode: ExitCode.notFound };
  if (err instanceof NoWorkerError) return { message: err.message, details: [], exitCode: ExitCode.internal };
  if (err instanceof ControlError) {
    const exitCode = err.reason === 'refused' ? ExitCode.refused : ExitCode.internal;
    return { message: err.message, details: [], exitCode };
  }
  if (err instanceof InputError) {
    const [first, ...rest] = err.message.split('\n');
    return {
      message: first ?? 'invalid input',
      details: rest.map((l) => l.trim()),
      exitCode: ExitCode.badInput,
    };
  }
  if (err instanceof CredentialsConfigError || err instanceof IamPolicyInputError) {
    return { message: err.message, details: [], exitCode: ExitCode.badInput };
  }
  const name = err instanceof Error ? err.name : '';
  if (name === 'WorkflowNotFoundError') {
    return {
      message: err instanceof Error ? err.message : String(err),
      details: [],
      exitCode: ExitCode.notFound,
    };
  }
  // The dashboard refuses an address beyond loopback without a token (src/dashboard, which the
  // CLI's errors do not import): bad input like any other flag.
  if (name === 'FleetValidationError' || name === 'DashboardConfigError') {
    return {
      message: err instanceof Error ? err.message : String(err),
      details: [],
      exitCode: ExitCode.badInput,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message, details: [], exitCode: ExitCode.internal };
}
