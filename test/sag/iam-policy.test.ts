import { describe, expect, it } from 'vitest';
import {
  IamPolicyInputError,
  INSTANCE_ACTIONS,
  LIST_ACTIONS,
  buildIamPolicy,
  smartagArn,
} from '../../src/sag/iam-policy';

describe('buildIamPolicy', () => {
  const inventory = [
    { smartAgId: 'sag-aaa1', regionId: 'cn-shanghai' },
    { smartAgId: 'sag-bbb2', regionId: 'eu-central-1' },
    { smartAgId: 'sag-aaa1', regionId: 'cn-shanghai' },
  ];

  it('grants the per-instance actions on each instance ARN and the list actions on *', () => {
    const policy = buildIamPolicy(inventory, '1234567890123456');
    expect(policy).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'smartag:UpdateSmartAccessGatewayVersion',
            'smartag:ModifyDeviceAutoUpgradePolicy',
            'smartag:DescribeSmartAccessGatewayAttribute',
            'smartag:DescribeSmartAccessGatewayVersions',
            'smartag:DescribeSmartAccessGatewayHa',
            'smartag:DescribeDeviceAutoUpgradePolicy',
            'smartag:DescribeSAGDeviceInfo',
            'smartag:GetSmartAGDpiAttribute',
          ],
          Resource: [
            'acs:smartag:cn-shanghai:1234567890123456:smartag/sag-aaa1',
            'acs:smartag:eu-central-1:1234567890123456:smartag/sag-bbb2',
          ],
        },
        {
          Effect: 'Allow',
          Action: ['smartag:DescribeSmartAccessGateways', 'smartag:DescribeRegions'],
          Resource: ['*'],
        },
      ],
    });
    expect(JSON.parse(JSON.stringify(policy))).toEqual(policy);
  });

  it('adds reboot only when asked', () => {
    expect(buildIamPolicy(inventory, '1').Statement[0]!.Action).not.toContain(
      'smartag:RebootSmartAccessGateway',
    );
    expect(buildIamPolicy(inventory, '1', { includeReboot: true }).Statement[0]!.Action).toContain(
      'smartag:RebootSmartAccessGateway',
    );
  });

  it('grants only the list actions for an empty inventory', () => {
    expect(buildIamPolicy([], '1').Statement).toEqual([
      { Effect: 'Allow', Action: [...LIST_ACTIONS], Resource: ['*'] },
    ]);
  });

  it('refuses input that would widen the grant', () => {
    expect(() => buildIamPolicy([{ smartAgId: 'sag-*', regionId: 'cn-shanghai' }], '1')).toThrow(
      IamPolicyInputError,
    );
    expect(() => buildIamPolicy([{ smartAgId: 'sag-a', regionId: '*' }], '1')).toThrow(IamPolicyInputError);
    expect(() => buildIamPolicy([{ smartAgId: 'sag-a', regionId: 'cn-shanghai' }], '*')).toThrow(
      IamPolicyInputError,
    );
  });

  it('exports the ARN form and the action lists it uses', () => {
    expect(smartagArn('cn-hangzhou', '42', 'sag-x')).toBe('acs:smartag:cn-hangzhou:42:smartag/sag-x');
    expect(INSTANCE_ACTIONS).toHaveLength(8);
  });
});
