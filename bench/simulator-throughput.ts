/**
 * Throughput of the SAG simulator driven by @alicloud/pop-core clients over loopback.
 *
 *   npx tsx bench/simulator-throughput.ts [--concurrency 32] [--seconds 10] [--devices 10000] [--in-process]
 *
 * By default the simulator runs in a child process (`sag-rollout simulator`'s code path), so the
 * clients and the server do not share an event loop. Each client is its own RPCClient (its own
 * keep-alive agent), looping over POSTed DescribeSmartAccessGatewayAttribute,
 * DescribeSAGDeviceInfo, DescribeSmartAccessGatewayVersions and a bulk
 * DescribeSmartAccessGateways of 50 SmartAGIds.N.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import RPCClient from '@alicloud/pop-core';
import { generateFleet, startSimulator, type SimulatorStats } from '../src/simulator';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    devices: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    'in-process': { type: 'boolean', default: false },
  },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const devices = Number(values.devices);
const seed = Number(values.seed);

interface Target {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  stop(): Promise<void>;
}

async function startChild(): Promise<Target> {
  const script = `require('./src/simulator/command').runSimulatorCommand({ port: 0, devices: ${devices}, seed: ${seed} })`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: path.resolve(__dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ALIBABA_CLOUD_ACCESS_KEY_SECRET=') && out.endsWith('\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const vars = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
  return {
    endpoint: vars.SAG_ENDPOINT!,
    accessKeyId: vars.ALIBABA_CLOUD_ACCESS_KEY_ID!,
    accessKeySecret: vars.ALIBABA_CLOUD_ACCESS_KEY_SECRET!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const fleet = generateFleet({ devices, seed });
  const target: Target = values['in-process']
    ? await startSimulator({ fleet, requestLogSize: 1000 })
    : await startChild();
  const ids = fleet.instances.map((i) => ({
    id: i.SmartAGId,
    region: i.RegionId,
    sn: i.Devices[0]!.SerialNumber,
  }));
  const deadline = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  const byAction: Record<string, number> = {};
  let errors = 0;
  const errorCodes: Record<string, number> = {};

  const worker = async (w: number): Promise<void> => {
    const client = new RPCClient({
      endpoint: target.endpoint,
      apiVersion: '2018-03-13',
      accessKeyId: target.accessKeyId,
      accessKeySecret: target.accessKeySecret,
    });
    for (let i = w; Date.now() < deadline; i += concurrency) {
      const d = ids[i % ids.length]!;
      let action: string;
      let params: Record<string, unknown>;
      switch (i % 4) {
        case 0:
          action = 'DescribeSmartAccessGatewayAttribute';
          params = { RegionId: d.region, SmartAGId: d.id };
          break;
        case 1:
          action = 'DescribeSAGDeviceInfo';
          params = { RegionId: d.region, SmartAGId: d.id, SmartAGSn: d.sn };
          break;
        case 2:
          action = 'DescribeSmartAccessGatewayVersions';
          params = { RegionId: d.region, SmartAGId: d.id };
          break;
        default: {
          action = 'DescribeSmartAccessGateways';
          const page = ids.slice(i % ids.length, (i % ids.length) + 50).filter((x) => x.region === d.region);
          params = { RegionId: d.region, SmartAGIds: page.map((x) => x.id), PageSize: 50 };
        }
      }
      const t0 = performance.now();
      try {
        await client.request(action, params, { method: 'POST', timeout: 10_000 });
      } catch (e) {
        errors++;
        const code = (e as { code?: string }).code ?? 'unknown';
        // Refusals that follow from the generated fleet's state (sag-software has no device info) are answers, not failures.
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      }
      latencies.push(performance.now() - t0);
      byAction[action] = (byAction[action] ?? 0) + 1;
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  const stats = (await (await fetch(`${target.endpoint}/_admin/stats`)).json()) as SimulatorStats;
  await target.stop();

  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2);
  const total = latencies.length;
  const result = {
    mode: values['in-process'] ? 'in-process' : 'child-process',
    instances: devices,
    concurrency,
    seconds: Number(elapsed.toFixed(2)),
    requests: total,
    requestsPerSecond: Math.round(total / elapsed),
    peakPerSecondAtSimulator: stats.peakPerSecond,
    latencyMs: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: latencies.at(-1)!.toFixed(2) },
    errorResponses: errors,
    errorCodes,
    byAction,
    node: process.version,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
