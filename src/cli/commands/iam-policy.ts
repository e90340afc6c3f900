import { buildIamPolicy, type RamPolicyDocument } from '../../sag/iam-policy';
import type { InventoryDevice } from '../../../domain/types';
import { CliError, ExitCode } from '../errors';

/**
 * The least-privilege RAM policy a worker needs for this inventory: the per-instance actions on
 * each instance's ARN, the list actions on `*`.
 * @throws CliError (bad input) for an account ID that is not digits.
 */
export function iamPolicy(
  inventory: InventoryDevice[],
  accountId: string | undefined,
  includeReboot: boolean,
): RamPolicyDocument {
  if (!accountId)
    throw new CliError(
      '--account-id is required (the 16-digit Alibaba Cloud account ID that owns the instances)',
      ExitCode.badInput,
    );
  return buildIamPolicy(inventory, accountId.trim(), { includeReboot });
}
