import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { call, failure, popClient, testFleet } from './helpers';

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: testFleet({ downloadSeconds: 5, upgradeSeconds: 5 }) });
});
afterEach(() => sim.setFaults({ rules: [], qpsLimits: {} }));
afterAll(() => sim.stop());

const upgrade = (smartAgId: string) => ({
  RegionId: 'cn-shanghai',
  SmartAGId: smartAgId,
  VersionCode: '2.4.0.0',
});
const callsOf = (smartAgId: string) => sim.devices().find((d) => d.SmartAGId === smartAgId)!;

describe('faults that lose the answer of a processed request', () => {
  it('hang-after accepts and counts the upgrade, then never answers (RequestTimeoutError)', async () => {
    sim.setFaults({
      rules: [
        { action: 'UpdateSmartAccessGatewayVersion', smartAgId: 'sag-ok1', kind: 'hang-after', times: 1 },
      ],
    });
    const err = await failure(
      call(popClient(sim), 'UpdateSmartAccessGatewayVersion', upgrade('sag-ok1'), 'POST', 300),
    );
    expect(err.name).toBe('RequestTimeoutError');
    const row = callsOf('sag-ok1');
    expect(row.upgradeCalls).toBe(1);
    expect(row.upgradeCallsByVersion).toEqual({ '2.4.0.0': 1 });
    expect(row.upgrading).toMatchObject({ target: '2.4.0.0', phase: 'downloading' });
    const logged = sim
      .requests()
      .filter((r) => r.action === 'UpdateSmartAccessGatewayVersion' && r.smartAgId === 'sag-ok1');
    expect(logged).toEqual([expect.objectContaining({ fault: 'hang-after', httpStatus: 200 })]);
  });

  it('drop-after accepts and counts the upgrade, then destroys the socket (ECONNRESET)', async () => {
    sim.setFaults({
      rules: [
        { action: 'UpdateSmartAccessGatewayVersion', smartAgId: 'sag-ok2', kind: 'drop-after', nth: [1] },
      ],
    });
    const err = await failure(call(popClient(sim), 'UpdateSmartAccessGatewayVersion', upgrade('sag-ok2')));
    expect(err).toBeInstanceOf(Error);
    expect(String(err.code ?? err.message)).toMatch(/ECONNRESET|socket hang up/);
    expect(callsOf('sag-ok2').upgradeCalls).toBe(1);
    expect(callsOf('sag-ok2').upgrading?.target).toBe('2.4.0.0');
  });

  it('loses the answer of a refusal too: the error is decided, only its delivery fails', async () => {
    sim.setFaults({
      rules: [{ action: 'UpdateSmartAccessGatewayVersion', smartAgId: 'sag-nope', kind: 'drop-after' }],
    });
    const err = await failure(call(popClient(sim), 'UpdateSmartAccessGatewayVersion', upgrade('sag-nope')));
    expect(String(err.code ?? err.message)).toMatch(/ECONNRESET|socket hang up/);
    const logged = sim.requests().filter((r) => r.smartAgId === 'sag-nope');
    expect(logged).toEqual([
      expect.objectContaining({ code: 'InvalidId.SMARTAG', httpStatus: 403, fault: 'drop-after' }),
    ]);
  });
});
