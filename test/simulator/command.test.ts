import { spawn } from 'node:child_process';
import path from 'node:path';
import RPCClient from '@alicloud/pop-core';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

describe('simulator command', () => {
  it('prints eval-able endpoint and credentials, serves pop-core, and stops cleanly on SIGTERM', async () => {
    const script =
      "require('./src/simulator/command').runSimulatorCommand({ port: 0, devices: 5, seed: 3, accessKeyId: 'LTAIcmd' })";
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: root,
      env: { ...process.env, SAG_SIMULATOR_ACCESS_KEY_SECRET: 'from-env-secret' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('ALIBABA_CLOUD_ACCESS_KEY_SECRET=') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const vars = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    );
    expect(vars.SAG_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(vars.ALIBABA_CLOUD_ACCESS_KEY_ID).toBe('LTAIcmd');
    expect(vars.ALIBABA_CLOUD_ACCESS_KEY_SECRET).toBe('from-env-secret');
    const client = new RPCClient({
      endpoint: vars.SAG_ENDPOINT!,
      apiVersion: '2018-03-13',
      accessKeyId: 'LTAIcmd',
      accessKeySecret: 'from-env-secret',
    });
    const res = await client.request<{ TotalCount: number }>(
      'DescribeSmartAccessGateways',
      {},
      { method: 'POST' },
    );
    expect(res.TotalCount).toBe(5);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
