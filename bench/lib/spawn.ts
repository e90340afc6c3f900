/** Child Node processes of the benchmarks: spawned with their first stdout line awaited, stopped with a grace period. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface Proc {
  child: ChildProcess;
  firstLine: Promise<string>;
  exited: Promise<void>;
}

export function spawnNode(nodeArgs: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`${nodeArgs.join(' ')} exited with ${code}`)));
  });
  return { child, firstLine, exited };
}

export async function stopProc(p: Proc, timeoutMs = 60_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  await p.exited;
  clearTimeout(t);
}
