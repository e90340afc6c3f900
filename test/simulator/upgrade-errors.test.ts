/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Alibaba response bodies are untyped JSON; the assertions are what checks their shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { call, failure, popClient, testFleet } from './helpers';

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: testFleet() });
});
afterAll(() => sim.stop());

// Every error of the UpdateSmartAccessGatewayVersion API page, the instance state that triggers it,
// and the HTTP status and message the page documents.
const cases: [string, Record<string, string>, number, string, string][] = [
  [
    'Forbidden',
    { SmartAGId: 'sag-forbidden' },
    403,
    'Forbidden',
    'User not authorized to operate on the specified resource.',
  ],
  [
    'an unknown id',
    { SmartAGId: 'sag-nosuch' },
    403,
    'InvalidId.SMARTAG',
    'The specified smart access gateway instance id is invalid.',
  ],
  [
    'the wrong region',
    { SmartAGId: 'sag-hz1' },
    403,
    'InvalidId.SMARTAG',
    'The specified smart access gateway instance id is invalid.',
  ],
  [
    'no CCN',
    { SmartAGId: 'sag-unbound' },
    403,
    'NotBoundCCN',
    'The specified smart access gateway has not bound CCN; please bind CCN first.',
  ],
  [
    'an offline device',
    { SmartAGId: 'sag-offline' },
    403,
    'SmartAccessGatewayNotOnline',
    'The specified smart access gateway is not online.',
  ],
  [
    'a device without a reported version',
    { SmartAGId: 'sag-noversion' },
    403,
    'GetSmartAccessGatewayVersionError',
    'An error occurred while obtaining the smart access gateway version.',
  ],
  [
    'a device in an unknown state',
    { SmartAGId: 'sag-nostate' },
    403,
    'GetSmartAccessGatewayStateError',
    'An error occurred while obtaining the smart access gateway status.',
  ],
  [
    'a target equal to the installed version',
    { SmartAGId: 'sag-newer' },
    403,
    'VersionTooOld',
    'The specified version is outdated; please select a newer version.',
  ],
  [
    'a target older than the installed version',
    { SmartAGId: 'sag-newer', VersionCode: '2.3.0.0' },
    403,
    'VersionTooOld',
    'The specified version is outdated; please select a newer version.',
  ],
  [
    'an expired EndTime',
    { SmartAGId: 'sag-expired' },
    500,
    'SmartAccessGatewayInArrears',
    'The specified Smart Access Gateway has expired.',
  ],
  [
    'Status Arrearage',
    { SmartAGId: 'sag-arrears' },
    500,
    'SmartAccessGatewayInArrears',
    'The specified Smart Access Gateway has expired.',
  ],
  [
    'an instance never activated',
    { SmartAGId: 'sag-inactive' },
    500,
    'SmartAccessGatewayNotActivated',
    'The specified Smart Access Gateway has not been activated.',
  ],
  [
    'an instance of another account',
    { SmartAGId: 'sag-foreign' },
    500,
    'PermissionError',
    'No permission to operate the instance.',
  ],
  [
    'a version not offered',
    { SmartAGId: 'sag-ok1', VersionCode: '9.9.9.9' },
    400,
    'VersionNotExist',
    'The specified version does not exist.',
  ],
  [
    'firmware for sag-software',
    { SmartAGId: 'sag-software' },
    400,
    'VersionNotExist',
    'The specified version does not exist.',
  ],
];

describe('UpdateSmartAccessGatewayVersion errors', () => {
  for (const method of ['GET', 'POST'] as const) {
    for (const [what, params, status, code, message] of cases) {
      it(`returns ${code} (${status}) for ${what} over ${method}`, async () => {
        const err = await failure(
          call(
            popClient(sim),
            'UpdateSmartAccessGatewayVersion',
            { RegionId: 'cn-shanghai', VersionCode: '2.4.0.0', ...params },
            method,
          ),
        );
        expect(err).toBeInstanceOf(Error);
        expect(err.code).toBe(code);
        expect(err.name).toBe(`${code}Error`);
        expect(err.entry.response.statusCode).toBe(status);
        expect(err.data.Message).toBe(message);
        expect(err.data.RequestId).toMatch(/^[0-9A-F-]{36}$/);
      });
    }
  }

  it('leaves refused devices without an upgrade call counted', () => {
    const counted = sim.devices().filter((d) => d.upgradeCalls > 0);
    expect(counted).toEqual([]);
  });

  it('returns a forced documented code for one device, whatever its state', async () => {
    sim.setFaults({ rules: [{ smartAgId: 'sag-ok2', code: 'GetSmartAccessGatewayStateError' }] });
    try {
      const err = await failure(
        call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
          RegionId: 'cn-shanghai',
          SmartAGId: 'sag-ok2',
          VersionCode: '2.4.0.0',
        }),
      );
      expect([err.code, err.entry.response.statusCode]).toEqual(['GetSmartAccessGatewayStateError', 403]);
      const other = await call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
        RegionId: 'cn-shanghai',
        SmartAGId: 'sag-ok3',
        VersionCode: '2.4.0.0',
      });
      expect(other.RequestId).toBeDefined();
    } finally {
      sim.setFaults({ rules: [] });
    }
  });

  it('refuses a DPI update on an instance with DPI off, and a serial number not in the instance', async () => {
    const dpi = await failure(
      call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
        RegionId: 'cn-shanghai',
        SmartAGId: 'sag-dpioff',
        VersionCode: '20220610_1_0-0.0.3',
        VersionType: 'Dpi',
      }),
    );
    expect(dpi.code).toBe('OperationDenied.DpiDisabled');
    const sn = await failure(
      call(popClient(sim), 'UpdateSmartAccessGatewayVersion', {
        RegionId: 'cn-shanghai',
        SmartAGId: 'sag-ok1',
        VersionCode: '2.4.0.0',
        SerialNumber: 'sn-other',
      }),
    );
    expect([sn.code, sn.entry.response.statusCode]).toEqual(['SAG.InvalidSerialNumber', 400]);
  });
});
