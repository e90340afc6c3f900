/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RamPolicy, type SimulatorHandle } from '../../src/simulator';
import { call, failure, popClient, testFleet } from './helpers';

let sim: SimulatorHandle;
const account = '1234567890';
const policy: RamPolicy = {
  Version: '1',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['smartag:DescribeSmartAccessGateways', 'smartag:Describe*'],
      Resource: ['*'],
    },
    {
      Effect: 'Allow',
      Action: ['smartag:UpdateSmartAccessGatewayVersion'],
      Resource: [`acs:smartag:cn-shanghai:${account}:smartag/sag-ok1`],
    },
    {
      Effect: 'Allow',
      Action: ['smartag:GetSmartAGDpiAttribute'],
      Resource: [`acs:smartag:*:${account}:smartag/*`],
    },
    {
      Effect: 'Deny',
      Action: ['smartag:GetSmartAGDpiAttribute'],
      Resource: [`acs:smartag:cn-shanghai:${account}:smartag/sag-ok2`],
    },
  ],
};

beforeAll(async () => {
  sim = await startSimulator({
    fleet: testFleet(),
    credentials: [{ accessKeyId: 'LTAIram', accessKeySecret: 'ram-secret', accountId: account, policy }],
  });
});
afterAll(() => sim.stop());

const region = { RegionId: 'cn-shanghai' };

describe('RAM policy enforcement', () => {
  it('allows the granted actions on the granted resources', async () => {
    const client = popClient(sim);
    expect((await call(client, 'DescribeSmartAccessGateways', region)).TotalCount).toBeGreaterThan(0);
    expect(
      (await call(client, 'DescribeSmartAccessGatewayAttribute', { ...region, SmartAGId: 'sag-ha1' }))
        .SmartAGId,
    ).toBe('sag-ha1');
    expect(
      (
        await call(client, 'UpdateSmartAccessGatewayVersion', {
          ...region,
          SmartAGId: 'sag-ok1',
          VersionCode: '2.4.0.0',
        })
      ).RequestId,
    ).toBeDefined();
  });

  it('refuses an action on an instance outside the policy with Forbidden.RAM (403)', async () => {
    const err = await failure(
      call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
        ...region,
        SmartAGId: 'sag-ok2',
        VersionCode: '2.4.0.0',
      }),
    );
    expect([err.code, err.entry.response.statusCode]).toEqual(['Forbidden.RAM', 403]);
    expect(sim.devices().find((d) => d.SmartAGId === 'sag-ok2')!.upgradeCalls).toBe(0);
  });

  it('refuses an action the policy never names', async () => {
    const err = await failure(
      call(popClient(sim), 'RebootSmartAccessGateway', { ...region, SmartAGId: 'sag-ok1' }),
    );
    expect(err.code).toBe('Forbidden.RAM');
  });

  it('lets a Deny statement win over a matching Allow', async () => {
    expect(
      (await call(popClient(sim), 'GetSmartAGDpiAttribute', { ...region, SmartAGId: 'sag-ok1' })).DpiStatus,
    ).toBe('On');
    const err = await failure(
      call(popClient(sim), 'GetSmartAGDpiAttribute', { ...region, SmartAGId: 'sag-ok2' }),
    );
    expect(err.code).toBe('Forbidden.RAM');
  });

  it('checks list actions against "*": an instance-scoped grant does not allow them', async () => {
    sim.setPolicy('LTAIram', {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: 'smartag:*', Resource: `acs:smartag:cn-shanghai:${account}:smartag/*` },
      ],
    });
    try {
      const err = await failure(call(popClient(sim), 'DescribeSmartAccessGateways', region));
      expect(err.code).toBe('Forbidden.RAM');
      expect(
        (await call(popClient(sim), 'DescribeSmartAccessGatewayHa', { ...region, SmartAGId: 'sag-ok3' }))
          .SmartAGId,
      ).toBe('sag-ok3');
    } finally {
      sim.setPolicy('LTAIram', policy);
    }
  });

  it('allows everything once the policy is removed', async () => {
    sim.setPolicy('LTAIram', undefined);
    try {
      expect(
        (await call(popClient(sim), 'GetSmartAGDpiAttribute', { ...region, SmartAGId: 'sag-ok2' })).DpiStatus,
      ).toBe('On');
    } finally {
      sim.setPolicy('LTAIram', policy);
    }
  });
});
