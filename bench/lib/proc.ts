/** Readings from /proc (Linux): CPU seconds and resident memory of a process. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** User + system CPU seconds a process has used so far (its own threads, not its children). */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** `VmHWM` (peak resident set) and `VmRSS` of a process, in MiB. */
export function memoryMiB(pid: number | undefined): { hwm: number; rss: number } {
  if (!pid) return { hwm: 0, rss: 0 };
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
  } catch {
    return { hwm: 0, rss: 0 };
  }
}

/**
 * CPU seconds of a PostgreSQL cluster: its postmaster and the backends alive now (each Temporal
 * connection is a backend process, held open by the server's pools for the whole run).
 */
export function postgresCpuSeconds(dataDir: string): number {
  try {
    const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
    return [postmaster, ...children].reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  } catch {
    return 0;
  }
}
