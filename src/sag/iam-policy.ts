/**
 * The least-privilege RAM policy for a rollout over a given inventory.
 */
import type { InventoryDevice } from '../../domain/types';

/** Actions that act on (or read) one SAG instance, granted per instance ARN. */
export const INSTANCE_ACTIONS = [
  'smartag:UpdateSmartAccessGatewayVersion',
  'smartag:ModifyDeviceAutoUpgradePolicy',
  'smartag:DescribeSmartAccessGatewayAttribute',
  'smartag:DescribeSmartAccessGatewayVersions',
  'smartag:DescribeSmartAccessGatewayHa',
  'smartag:DescribeDeviceAutoUpgradePolicy',
  'smartag:DescribeSAGDeviceInfo',
  'smartag:GetSmartAGDpiAttribute',
] as const;

/** List actions, which RAM authorises on all resources only. */
export const LIST_ACTIONS = ['smartag:DescribeSmartAccessGateways', 'smartag:DescribeRegions'] as const;

export const REBOOT_ACTION = 'smartag:RebootSmartAccessGateway';

export interface RamPolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
}

export interface RamPolicyDocument {
  Version: '1';
  Statement: RamPolicyStatement[];
}

export interface IamPolicyOptions {
  /** Also grant `smartag:RebootSmartAccessGateway` on each instance. */
  includeReboot?: boolean;
}

/** Thrown for an account ID, region or instance ID that cannot appear in an ARN. */
export class IamPolicyInputError extends Error {
  override readonly name = 'IamPolicyInputError';
}

const ACCOUNT_ID = /^\d{1,32}$/;
const REGION_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SMARTAG_ID = /^sag-[A-Za-z0-9]+$/;

/** `acs:smartag:{regionId}:{accountId}:smartag/{SmartAGId}` */
export function smartagArn(regionId: string, accountId: string, smartAgId: string): string {
  return `acs:smartag:${regionId}:${accountId}:smartag/${smartAgId}`;
}

/**
 * Builds `{"Version":"1","Statement":[...]}`: one statement allowing the per-instance actions on
 * each inventory instance's ARN (deduplicated, in inventory order), one allowing the list actions
 * on `*`.
 *
 * @throws IamPolicyInputError when `accountId` is not numeric, or an inventory entry has a
 *   malformed region or `SmartAGId` (a wildcard or separator would widen the grant).
 */
export function buildIamPolicy(
  inventory: InventoryDevice[],
  accountId: string,
  opts: IamPolicyOptions = {},
): RamPolicyDocument {
  if (!ACCOUNT_ID.test(accountId))
    throw new IamPolicyInputError(`account ID must be digits, got ${JSON.stringify(accountId)}`);
  const resources: string[] = [];
  const seen = new Set<string>();
  for (const device of inventory) {
    if (!REGION_ID.test(device.regionId))
      throw new IamPolicyInputError(
        `${device.smartAgId}: region ${JSON.stringify(device.regionId)} is not a region ID`,
      );
    if (!SMARTAG_ID.test(device.smartAgId))
      throw new IamPolicyInputError(`${JSON.stringify(device.smartAgId)} is not a SmartAGId`);
    const arn = smartagArn(device.regionId, accountId, device.smartAgId);
    if (!seen.has(arn)) {
      seen.add(arn);
      resources.push(arn);
    }
  }
  const statements: RamPolicyStatement[] = [];
  if (resources.length > 0) {
    const actions: string[] = [...INSTANCE_ACTIONS];
    if (opts.includeReboot) actions.push(REBOOT_ACTION);
    statements.push({ Effect: 'Allow', Action: actions, Resource: resources });
  }
  statements.push({ Effect: 'Allow', Action: [...LIST_ACTIONS], Resource: ['*'] });
  return { Version: '1', Statement: statements };
}
