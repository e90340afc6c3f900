import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where Debian's PostgreSQL binaries are, newest first; `PG_BIN` overrides. */
const CANDIDATES = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

export interface PostgresOptions {
  /** The data directory to create (must not exist yet, or hold a cluster made by this module). */
  dataDir: string;
  /** TCP port on 127.0.0.1. */
  port: number;
  user: string;
  password: string;
  log?: (line: string) => void;
}

export interface LocalPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  dataDir: string;
  /** `pg_ctl stop -m fast`; idempotent. */
  stop(): void;
}

function pgBin(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(path.join(fromEnv, 'initdb'))) return fromEnv;
  const found = CANDIDATES.find((d) => existsSync(path.join(d, 'initdb')));
  if (!found)
    throw new Error(
      'PostgreSQL is not installed: `apt-get install postgresql` (15 or newer), or point PG_BIN at its bin/ folder',
    );
  return found;
}

/**
 * How PostgreSQL's programs are run: as this user, or, when this is root (which PostgreSQL
 * refuses), as the unprivileged `postgres` user through runuser.
 */
function runAs(): { uid: number; gid: number; prefix: string[] } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0)
      return {
        uid: Number(uid.stdout.trim()),
        gid: Number(gid.stdout.trim()),
        prefix: ['runuser', '-u', user, '--'],
      };
  }
  throw new Error('running as root and no `postgres` or `nobody` user exists to run PostgreSQL as');
}

function run(cmd: string[], what: string): string {
  const [bin, ...args] = cmd as [string, ...string[]];
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0)
    throw new Error(
      `${what} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(-2000)}`,
    );
  return r.stdout;
}

/**
 * Initialises a PostgreSQL cluster in `dataDir` (password authentication over TCP for `user`,
 * listening on 127.0.0.1 only, its socket inside the data directory) and starts it.
 * @throws Error naming the step that failed (initdb or pg_ctl start), with PostgreSQL's own message.
 */
export function startPostgres(o: PostgresOptions): LocalPostgres {
  const bin = pgBin();
  const as = runAs();
  const prefix = as?.prefix ?? [];
  const log = o.log ?? (() => undefined);
  if (!existsSync(path.join(o.dataDir, 'PG_VERSION'))) {
    mkdirSync(o.dataDir, { recursive: true });
    // PostgreSQL's user must reach the data directory through the run's folder.
    if (as) chmodSync(path.dirname(o.dataDir), 0o755);
    const pwfile = path.join(path.dirname(o.dataDir), 'pg-password');
    writeFileSync(pwfile, `${o.password}\n`, { mode: 0o600 });
    if (as) {
      chownSync(o.dataDir, as.uid, as.gid);
      chownSync(pwfile, as.uid, as.gid);
    }
    run(
      [
        ...prefix,
        path.join(bin, 'initdb'),
        '-D',
        o.dataDir,
        '-U',
        o.user,
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '-E',
        'UTF8',
        '--no-instructions',
      ],
      'initdb',
    );
    log(`postgres: initialised ${o.dataDir}`);
  }
  const logFile = path.join(o.dataDir, 'postgres.log');
  run(
    [
      ...prefix,
      path.join(bin, 'pg_ctl'),
      'start',
      '-w',
      '-t',
      '60',
      '-D',
      o.dataDir,
      '-l',
      logFile,
      '-o',
      // Temporal's services hold up to maxConns each (persistence 20, visibility 2, per service).
      `-p ${o.port} -c listen_addresses=127.0.0.1 -k ${o.dataDir} -c max_connections=300`,
    ],
    'pg_ctl start',
  );
  log(`postgres: listening on 127.0.0.1:${o.port} (log ${logFile})`);
  let stopped = false;
  return {
    host: '127.0.0.1',
    port: o.port,
    user: o.user,
    password: o.password,
    dataDir: o.dataDir,
    stop() {
      if (stopped) return;
      stopped = true;
      const cmd = [...prefix, path.join(bin, 'pg_ctl'), 'stop', '-m', 'fast', '-D', o.dataDir];
      spawnSync(cmd[0]!, cmd.slice(1));
    },
  };
}
