/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   pop-core rejections and Alibaba bodies are untyped JSON; the assertions are what checks their shape. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type AcceptedUpgrade, type SimulatorHandle } from '../../src/simulator';
import { call, failure, popClient, testFleet } from './helpers';

let sim: SimulatorHandle;
beforeAll(async () => {
  // A long download keeps every accepted upgrade in its first phase for the whole file.
  sim = await startSimulator({ fleet: testFleet({ downloadSeconds: 60, upgradeSeconds: 5 }) });
});
afterEach(() => sim.setFaults({ rules: [], qpsLimits: {} }));
afterAll(() => sim.stop());

const UPDATE = 'UpdateSmartAccessGatewayVersion';
const upgrade = (smartAgId: string, regionId = 'cn-shanghai') => ({
  RegionId: regionId,
  SmartAGId: smartAgId,
  VersionCode: '2.4.0.0',
});
const rowOf = (smartAgId: string) => sim.devices().find((d) => d.SmartAGId === smartAgId)!;
const logOf = (smartAgId: string) =>
  sim.requests().filter((r) => r.action === UPDATE && r.smartAgId === smartAgId);

/** The request was processed exactly once: one accepted upgrade, and the device is downloading. */
function expectProcessedOnce(smartAgId: string): AcceptedUpgrade {
  const accepted = sim.upgrades({ smartAgId });
  expect(accepted).toEqual([
    expect.objectContaining({
      SmartAGId: smartAgId,
      SerialNumber: `sn-${smartAgId}`,
      VersionCode: '2.4.0.0',
      VersionType: 'Device',
      started: true,
      fault: 'after-error',
    }),
  ]);
  expect(rowOf(smartAgId)).toMatchObject({
    upgradeCalls: 1,
    upgradeCallsByVersion: { '2.4.0.0': 1 },
    upgrading: { target: '2.4.0.0', phase: 'downloading', auto: false },
  });
  return accepted[0]!;
}

describe('after-error: the request is processed, then its answer is replaced by an error', () => {
  it('accepts the upgrade once and answers a JSON 500 UnknownError with every Alibaba error field', async () => {
    sim.resetStats();
    sim.setFaults({ rules: [{ action: UPDATE, smartAgId: 'sag-ok1', kind: 'after-error', times: 1 }] });
    const err = await failure(call(popClient(sim), UPDATE, upgrade('sag-ok1')));
    expect(err.code).toBe('UnknownError');
    expect(err.entry.response.statusCode).toBe(500);
    expect(Object.keys(err.data as object).sort()).toEqual([
      'Code',
      'HostId',
      'Message',
      'Recommend',
      'RequestId',
    ]);
    const accepted = expectProcessedOnce('sag-ok1');
    expect(accepted.requestId).toBe(err.data.RequestId);
    expect(logOf('sag-ok1')).toEqual([
      expect.objectContaining({
        fault: 'after-error',
        httpStatus: 500,
        code: 'UnknownError',
        replaced: { httpStatus: 200 },
        requestId: err.data.RequestId,
      }),
    ]);
    const stats = sim.stats();
    expect(stats.byCode).toEqual({ UnknownError: 1 });
    expect(stats.byStatus).toEqual({ '500': 1 });
  });

  it('serves the same ledger at GET /_admin/upgrades, filtered by instance', async () => {
    const res = await fetch(`${sim.endpoint}/_admin/upgrades?smartAgId=sag-ok1`);
    expect(res.status).toBe(200);
    const rows = (await res.json()) as AcceptedUpgrade[];
    expect(rows).toEqual(sim.upgrades({ smartAgId: 'sag-ok1' }));
    expect(Object.keys(rows[0]!).sort()).toEqual(
      [
        'RegionId',
        'SerialNumber',
        'SmartAGId',
        'VersionCode',
        'VersionType',
        'accessKeyId',
        'fault',
        'requestId',
        'started',
        'time',
      ].sort(),
    );
    expect(rows[0]!.accessKeyId).toBe(sim.accessKeyId);
  });

  it('counts a retry after the replaced answer as a second accepted call that does not restart the upgrade', async () => {
    const ok = await call(popClient(sim), UPDATE, upgrade('sag-ok1'));
    const accepted = sim.upgrades({ smartAgId: 'sag-ok1' });
    expect(accepted.map((a) => [a.started, a.fault ?? null])).toEqual([
      [true, 'after-error'],
      [false, null],
    ]);
    expect(accepted[1]!.requestId).toBe(ok.RequestId);
    expect(rowOf('sag-ok1').upgradeCalls).toBe(2);
  });

  it('answers a load balancer HTML 502 page (pop-core: SyntaxError) after accepting the upgrade once', async () => {
    sim.setFaults({
      rules: [{ action: UPDATE, smartAgId: 'sag-ok2', kind: 'after-error', format: 'html', httpStatus: 502 }],
    });
    const err = await failure(call(popClient(sim), UPDATE, upgrade('sag-ok2')));
    expect(err).not.toBeInstanceOf(Error);
    expect(err.name).toBe('SyntaxError');
    expect(err.text).toContain('<title>502 Bad Gateway</title>');
    expectProcessedOnce('sag-ok2');
    const [logged] = logOf('sag-ok2');
    expect(logged).toMatchObject({ fault: 'after-error', httpStatus: 502, replaced: { httpStatus: 200 } });
    expect(logged!.code).toBeUndefined();
  });

  it('answers an HTML 504 Gateway Time-out page after accepting the upgrade once', async () => {
    sim.setFaults({
      rules: [{ action: UPDATE, smartAgId: 'sag-ok3', kind: 'after-error', format: 'html', httpStatus: 504 }],
    });
    const err = await failure(call(popClient(sim), UPDATE, upgrade('sag-ok3')));
    expect(err.name).toBe('SyntaxError');
    expect(err.text).toContain('504 Gateway Time-out');
    expectProcessedOnce('sag-ok3');
    expect(logOf('sag-ok3')).toEqual([expect.objectContaining({ fault: 'after-error', httpStatus: 504 })]);
  });

  it('answers any raw text body with the given status after accepting the upgrade once', async () => {
    const body =
      'upstream connect error or disconnect/reset before headers. reset reason: connection termination';
    sim.setFaults({
      rules: [
        { action: UPDATE, smartAgId: 'sag-hz1', kind: 'after-error', format: 'text', httpStatus: 503, body },
      ],
    });
    const err = await failure(call(popClient(sim), UPDATE, upgrade('sag-hz1', 'cn-hangzhou')));
    expect(err.name).toBe('SyntaxError');
    expect(err.text).toBe(body);
    expectProcessedOnce('sag-hz1');
    expect(logOf('sag-hz1')).toEqual([expect.objectContaining({ fault: 'after-error', httpStatus: 503 })]);
  });

  it('replaces a refusal too: nothing is accepted, and the log keeps the refusal it replaced', async () => {
    sim.setFaults({
      rules: [{ action: UPDATE, smartAgId: 'sag-newer', kind: 'after-error', code: 'ServiceUnavailable' }],
    });
    const err = await failure(call(popClient(sim), UPDATE, upgrade('sag-newer')));
    expect(err.code).toBe('ServiceUnavailable');
    expect(err.entry.response.statusCode).toBe(503);
    expect(sim.upgrades({ smartAgId: 'sag-newer' })).toEqual([]);
    expect(logOf('sag-newer')).toEqual([
      expect.objectContaining({
        httpStatus: 503,
        code: 'ServiceUnavailable',
        replaced: { httpStatus: 403, code: 'VersionTooOld' },
      }),
    ]);
  });
});

describe('error: a refusal before processing', () => {
  it('accepts nothing, in JSON, HTML or raw text, and the next call without the rule is accepted for both devices of a pair', async () => {
    sim.setFaults({
      rules: [
        { action: UPDATE, smartAgId: 'sag-ha1', code: 'ServiceUnavailable', nth: [1] },
        { action: UPDATE, smartAgId: 'sag-ha1', kind: 'error', format: 'html', httpStatus: 503, nth: [1] },
        {
          action: UPDATE,
          smartAgId: 'sag-ha1',
          kind: 'error',
          format: 'text',
          body: 'bad gateway',
          nth: [1],
        },
      ],
    });
    const client = popClient(sim);
    const json = await failure(call(client, UPDATE, upgrade('sag-ha1')));
    expect([json.code, json.entry.response.statusCode]).toEqual(['ServiceUnavailable', 503]);
    const html = await failure(call(client, UPDATE, upgrade('sag-ha1')));
    expect(html.text).toContain('503 Service Temporarily Unavailable');
    const text = await failure(call(client, UPDATE, upgrade('sag-ha1')));
    expect(text.text).toBe('bad gateway');
    expect(sim.upgrades({ smartAgId: 'sag-ha1' })).toEqual([]);
    for (const d of sim.devices().filter((r) => r.SmartAGId === 'sag-ha1')) {
      expect(d.upgradeCalls).toBe(0);
      expect(d.upgrading).toBeUndefined();
    }
    expect(logOf('sag-ha1').map((r) => [r.fault, r.httpStatus, r.code ?? null])).toEqual([
      ['error', 503, 'ServiceUnavailable'],
      ['error', 503, null],
      ['error', 500, null],
    ]);

    const ok = await call(client, UPDATE, upgrade('sag-ha1'));
    const accepted = sim.upgrades({ smartAgId: 'sag-ha1' });
    expect(accepted.map((a) => [a.SerialNumber, a.requestId, a.started])).toEqual([
      ['sn-ha1-a', ok.RequestId, true],
      ['sn-ha1-b', ok.RequestId, true],
    ]);
  });

  it('keeps the ledger equal to the devices’ accepted-call counters', () => {
    const total = sim.devices().reduce((n, d) => n + d.upgradeCalls, 0);
    expect(sim.upgrades()).toHaveLength(total);
  });

  it('rejects rules whose fields do not fit their kind', () => {
    expect(() => sim.setFaults({ rules: [{ kind: 'error' }] })).toThrow(/code/);
    expect(() => sim.setFaults({ rules: [{ kind: 'after-error', format: 'text' }] })).toThrow(/body/);
    expect(() => sim.setFaults({ rules: [{ kind: 'after-error', body: 'x' }] })).toThrow(/body/);
    expect(() => sim.setFaults({ rules: [{ kind: 'hang', format: 'html' }] })).toThrow(/format/);
  });
});
