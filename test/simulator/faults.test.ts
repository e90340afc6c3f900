import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { call, failure, popClient, testFleet } from './helpers';

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ fleet: testFleet() });
});
afterEach(() => sim.setFaults({ rules: [], qpsLimits: {} }));
afterAll(() => sim.stop());

const attr = { RegionId: 'cn-shanghai', SmartAGId: 'sag-ok1' };

describe('fault injection', () => {
  it("answers an HTML 502 page that pop-core turns into json-bigint's plain-object SyntaxError", async () => {
    sim.setFaults({
      rules: [{ action: 'DescribeSmartAccessGatewayAttribute', kind: 'html', httpStatus: 502 }],
    });
    const err = await failure(call(popClient(sim), 'DescribeSmartAccessGatewayAttribute', attr));
    expect(err).not.toBeInstanceOf(Error);
    expect(err.name).toBe('SyntaxError');
    expect(err.text).toContain('502 Bad Gateway');
  });

  it('hangs past the client timeout, giving pop-core RequestTimeoutError', async () => {
    sim.setFaults({ rules: [{ action: 'DescribeSmartAccessGatewayAttribute', kind: 'hang' }] });
    const err = await failure(call(popClient(sim), 'DescribeSmartAccessGatewayAttribute', attr, 'POST', 300));
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('RequestTimeoutError');
  });

  it('drops the connection without a response', async () => {
    sim.setFaults({ rules: [{ kind: 'drop', nth: [1] }] });
    const err = await failure(call(popClient(sim), 'DescribeSmartAccessGatewayAttribute', attr));
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toMatch(/ECONNRESET|socket hang up/);
    // The script fired once: the next call goes through.
    const ok = await call(popClient(sim), 'DescribeSmartAccessGatewayAttribute', attr);
    expect(ok.SmartAGId).toBe('sag-ok1');
  });

  it('fails the n-th call by script with ServiceUnavailable (503) and InternalError (500)', async () => {
    sim.setFaults({
      rules: [
        { action: 'DescribeSmartAccessGatewayHa', code: 'ServiceUnavailable', nth: [2] },
        { action: 'DescribeSmartAccessGatewayHa', code: 'InternalError', nth: [3] },
      ],
    });
    const client = popClient(sim);
    const results: (string | number)[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        await call(client, 'DescribeSmartAccessGatewayHa', attr);
        results.push('ok');
      } catch (e) {
        const err = e as { code: string; entry: { response: { statusCode: number } } };
        results.push(`${err.code}/${err.entry.response.statusCode}`);
      }
    }
    // Rules count only the calls that reach them: the second rule sees calls 1, 3 and 4.
    expect(results).toEqual(['ok', 'ServiceUnavailable/503', 'ok', 'InternalError/500']);
  });

  it('fires by seeded probability, the same way on every run', async () => {
    const run = async () => {
      sim.setFaults({
        seed: 42,
        rules: [{ action: 'GetSmartAGDpiAttribute', code: 'ServiceUnavailable', probability: 0.5 }],
      });
      const out: boolean[] = [];
      for (let i = 0; i < 20; i++)
        out.push(
          await call(popClient(sim), 'GetSmartAGDpiAttribute', attr).then(
            () => true,
            () => false,
          ),
        );
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.filter((x) => x).length).toBeGreaterThan(2);
    expect(a.filter((x) => !x).length).toBeGreaterThan(2);
  });

  it('throttles with Throttling.User (400) beyond the per-action QPS limit', async () => {
    sim.setFaults({ rules: [], qpsLimits: { DescribeRegions: 5 } });
    const client = popClient(sim);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(client, 'DescribeRegions', {}).then(
          () => 'ok',
          (e: { code: string; entry: { response: { statusCode: number } } }) =>
            `${e.code}/${e.entry.response.statusCode}`,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok').length).toBeLessThanOrEqual(10);
    expect(outcomes).toContain('Throttling.User/400');
    // Other actions are not limited.
    expect((await call(client, 'DescribeSmartAccessGatewayHa', attr)).SmartAGId).toBe('sag-ok1');
  });

  it('adds latency and then serves normally', async () => {
    sim.setFaults({ rules: [{ action: 'DescribeSmartAccessGatewayHa', kind: 'latency', latencyMs: 250 }] });
    const started = Date.now();
    const res = await call(popClient(sim), 'DescribeSmartAccessGatewayHa', attr);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(res.SmartAGId).toBe('sag-ok1');
  });

  it('changes faults at run time through POST /_admin/faults', async () => {
    const res = await fetch(`${sim.endpoint}/_admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ rules: [{ action: 'DescribeRegions', code: 'Throttling.User', times: 1 }] }),
    });
    expect(res.status).toBe(200);
    const first = await failure(call(popClient(sim), 'DescribeRegions', {}));
    expect(first.code).toBe('Throttling.User');
    await call(popClient(sim), 'DescribeRegions', {});
    const described = (await (await fetch(`${sim.endpoint}/_admin/faults`)).json()) as {
      rules: { fired: number }[];
    };
    expect(described.rules[0]!.fired).toBe(1);
    const bad = await fetch(`${sim.endpoint}/_admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ rules: [{ kind: 'explode' }] }),
    });
    expect(bad.status).toBe(400);
  });
});
