/**
 * The two smartag transports side by side: `@alicloud/pop-core` (signature V2, HMAC-SHA1) and
 * `@alicloud/openapi-client` (signature V3, ACS3-HMAC-SHA256), each driven through
 * `createSagClient`, the path the worker's activities take (parsing and error mapping included).
 *
 *   npx tsx bench/transport-throughput.ts [--concurrency 16] [--seconds 8] [--rounds 3] [--devices 2000]
 *
 * The simulator runs in a child process (bench/lib/simulator-process.ts), so its CPU is read
 * apart from the clients'. Rounds alternate v2, v3, v2, v3, … against the same simulator, so
 * both transports meet the same machine load; each round has N concurrent loops over a read mix
 * (DescribeSmartAccessGatewayAttribute, DescribeSAGDeviceInfo, DescribeSmartAccessGatewayVersions,
 * DescribeSmartAccessGateways with 50 SmartAGIds.N). Reported per transport (median of its
 * rounds): calls/s, client CPU ms per call (this process), simulator CPU ms per call, latency
 * percentiles; and V3 as a ratio of V2 from the same run. JSON on stdout, a summary on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSagClient } from '../src/sag/client';
import type { SagError } from '../src/sag/errors';
import { SAG_SIGNATURES, type SagSignature } from '../src/sag/transport';
import type { DeviceRow } from '../src/simulator';
import { cpuSeconds } from './lib/proc';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    devices: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
  },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

interface Simulator {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  pid: number;
  stop(): Promise<void>;
}

async function startSimulatorProcess(): Promise<Simulator> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(__dirname, 'lib', 'simulator-process.ts'),
      values.devices,
      values.seed,
      '0',
      '0.05',
    ],
    { cwd: path.resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const info = JSON.parse(line) as { endpoint: string; accessKeyId: string; accessKeySecret: string };
  return {
    ...info,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface RoundResult {
  signature: SagSignature;
  calls: number;
  seconds: number;
  callsPerSecond: number;
  clientCpuMsPerCall: number;
  simulatorCpuMsPerCall: number;
  latencyMs: { p50: number; p99: number };
  answersByCode: Record<string, number>;
}

async function round(
  sim: Simulator,
  signature: SagSignature,
  devices: { id: string; region: string; sn: string }[],
): Promise<RoundResult> {
  const client = createSagClient({
    signature,
    endpoint: sim.endpoint,
    timeoutMs: 10_000,
    credentials: {
      getCredentials: () =>
        Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
    },
  });
  const latencies: number[] = [];
  const answersByCode: Record<string, number> = {};
  const deadline = performance.now() + seconds * 1000;
  const loop = async (w: number): Promise<void> => {
    for (let i = w; performance.now() < deadline; i += concurrency) {
      const d = devices[i % devices.length]!;
      const t0 = performance.now();
      let code = 'OK';
      try {
        switch (i % 4) {
          case 0:
            await client.describeSmartAccessGatewayAttribute(d.region, d.id);
            break;
          case 1:
            await client.describeSagDeviceInfo(d.region, d.id, d.sn);
            break;
          case 2:
            await client.describeSmartAccessGatewayVersions(d.region, d.id, 'Device');
            break;
          default: {
            const start = i % devices.length;
            const page = devices.slice(start, start + 50).filter((x) => x.region === d.region);
            await client.describeSmartAccessGateways({
              regionId: d.region,
              smartAgIds: page.map((x) => x.id),
              pageSize: 50,
            });
          }
        }
      } catch (err) {
        // sag-software instances answer DescribeSAGDeviceInfo with SAG.SoftwareNotSupport: an answer, not a failure.
        code = (err as SagError).code;
      }
      latencies.push(performance.now() - t0);
      answersByCode[code] = (answersByCode[code] ?? 0) + 1;
    }
  };
  const simCpu0 = cpuSeconds(sim.pid);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => loop(w)));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const simCpu = cpuSeconds(sim.pid) - simCpu0;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2));
  const calls = latencies.length;
  return {
    signature,
    calls,
    seconds: Number(elapsed.toFixed(2)),
    callsPerSecond: Math.round(calls / elapsed),
    clientCpuMsPerCall: Number(((cpu.user + cpu.system) / 1000 / calls).toFixed(3)),
    simulatorCpuMsPerCall: Number(((simCpu * 1000) / calls).toFixed(3)),
    latencyMs: { p50: pct(0.5), p99: pct(0.99) },
    answersByCode,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const sim = await startSimulatorProcess();
  try {
    const rows = (await (await fetch(`${sim.endpoint}/_admin/devices`)).json()) as DeviceRow[];
    const seen = new Set<string>();
    const devices = rows.flatMap((r) =>
      seen.has(r.SmartAGId)
        ? []
        : (seen.add(r.SmartAGId), [{ id: r.SmartAGId, region: r.RegionId, sn: r.SerialNumber }]),
    );
    // One short warm-up per transport: module loading and JIT are not what is measured.
    for (const s of SAG_SIGNATURES) {
      const warm = createSagClient({
        signature: s,
        endpoint: sim.endpoint,
        credentials: {
          getCredentials: () =>
            Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret }),
        },
      });
      for (let i = 0; i < 200; i++)
        await warm.describeSmartAccessGatewayAttribute(
          devices[i % devices.length]!.region,
          devices[i % devices.length]!.id,
        );
    }
    const results: RoundResult[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const s of SAG_SIGNATURES) {
        const res = await round(sim, s, devices);
        results.push(res);
        process.stderr.write(
          `round ${r + 1} ${s}: ${res.callsPerSecond} calls/s, client ${res.clientCpuMsPerCall} ms CPU/call, simulator ${res.simulatorCpuMsPerCall} ms CPU/call, p50 ${res.latencyMs.p50} ms, p99 ${res.latencyMs.p99} ms\n`,
        );
      }
    }
    const summary = Object.fromEntries(
      SAG_SIGNATURES.map((s) => {
        const mine = results.filter((x) => x.signature === s);
        return [
          s,
          {
            callsPerSecond: median(mine.map((x) => x.callsPerSecond)),
            clientCpuMsPerCall: median(mine.map((x) => x.clientCpuMsPerCall)),
            simulatorCpuMsPerCall: median(mine.map((x) => x.simulatorCpuMsPerCall)),
            p50Ms: median(mine.map((x) => x.latencyMs.p50)),
            p99Ms: median(mine.map((x) => x.latencyMs.p99)),
          },
        ];
      }),
    ) as Record<
      SagSignature,
      {
        callsPerSecond: number;
        clientCpuMsPerCall: number;
        simulatorCpuMsPerCall: number;
        p50Ms: number;
        p99Ms: number;
      }
    >;
    const ratio = (k: 'callsPerSecond' | 'clientCpuMsPerCall' | 'simulatorCpuMsPerCall') =>
      Number((summary.v3[k] / summary.v2[k]).toFixed(2));
    const v3AgainstV2 = {
      callsPerSecond: ratio('callsPerSecond'),
      clientCpuPerCall: ratio('clientCpuMsPerCall'),
      simulatorCpuPerCall: ratio('simulatorCpuMsPerCall'),
    };
    process.stderr.write(
      `median v2 (pop-core): ${summary.v2.callsPerSecond} calls/s, ${summary.v2.clientCpuMsPerCall} ms client CPU/call\n` +
        `median v3 (openapi-client): ${summary.v3.callsPerSecond} calls/s, ${summary.v3.clientCpuMsPerCall} ms client CPU/call\n` +
        `v3 / v2: calls/s ×${v3AgainstV2.callsPerSecond}, client CPU per call ×${v3AgainstV2.clientCpuPerCall}, simulator CPU per call ×${v3AgainstV2.simulatorCpuPerCall}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ instances: devices.length, concurrency, seconds, rounds, summary, v3AgainstV2, byRound: results, node: process.version }, null, 2)}\n`,
    );
  } finally {
    await sim.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
