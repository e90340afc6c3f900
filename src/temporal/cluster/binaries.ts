import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../tooling';

/**
 * The Temporal server the cluster runs: the same server version as the pinned dev server (CLI
 * 1.9.1 embeds server 1.32.0). Later tags declare a newer Go than the 1.26.8 these machines have.
 */
export const SERVER_VERSION = '1.32.0';

const MODULE = 'go.temporal.io/server';

export interface ClusterBinaries {
  version: string;
  /** `temporal-server` (`cmd/server`): every service in one process or one per process. */
  server: string;
  /** temporal-sql-tool (`cmd/tools/sql`): creates databases and applies the versioned schemas. */
  sqlTool: string;
  /** The module's PostgreSQL schemas (`schema/postgresql/v12`), copied beside the binaries. */
  schemaDir: string;
  /** How they were obtained: found under `.tools/`, or built now (with the build's duration). */
  source: 'cached' | 'built';
  buildMs?: number;
}

export interface EnsureBinariesOptions {
  version?: string;
  root?: string;
  log?: (line: string) => void;
  /** Build when missing (default true); false throws instead. */
  build?: boolean;
}

/** Where the binaries of a server version live: `.tools/temporal-server/<version>/` (git-ignored). */
export function binariesDir(version = SERVER_VERSION, root = projectRoot()): string {
  return path.join(root, '.tools', 'temporal-server', version);
}

let goChecked = false;

/** `go`, once `go version` answered (asked once per process). */
function goBinary(): string {
  if (goChecked) return 'go';
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `the Temporal server ${SERVER_VERSION} must be built from the Go module proxy and no \`go\` is on PATH (Go 1.26.8 or newer is needed)`,
    );
  goChecked = true;
  return 'go';
}

function goEnv(name: string): string {
  return spawnSync(goBinary(), ['env', name], { encoding: 'utf8' }).stdout.trim();
}

/** The module's source directory in the Go module cache, downloading it when absent. */
function moduleDir(version: string): string {
  const cached = path.join(goEnv('GOMODCACHE'), `${MODULE}@v${version}`);
  if (existsSync(cached)) return cached;
  const r = spawnSync(goBinary(), ['mod', 'download', '-json', `${MODULE}@v${version}`], {
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
  });
  if (r.status !== 0) throw new Error(`go mod download ${MODULE}@v${version} failed: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout) as { Dir: string }).Dir;
}

function runGoInstall(version: string, gobin: string, log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      goBinary(),
      ['install', '-trimpath', `${MODULE}/cmd/server@v${version}`, `${MODULE}/cmd/tools/sql@v${version}`],
      {
        env: { ...process.env, GOBIN: gobin, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
        stdio: ['ignore', 'inherit', 'pipe'],
      },
    );
    let tail = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      tail = (tail + s).slice(-4000);
      // `go: downloading ...` lines: one progress line per module is too many; keep the errors.
      for (const line of s.split('\n')) if (line && !line.startsWith('go: downloading')) log(line);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`go install exited with ${code}: ${tail.trim()}`)),
    );
  });
}

/**
 * The Temporal server and temporal-sql-tool of `version`, from `.tools/temporal-server/<version>/`,
 * built there with `go install` from the Go module proxy when absent (10 to 47 minutes on two
 * cores depending on their load, about 1.5 GB of module cache). A second call finds them in milliseconds.
 * @throws Error when they are missing and `build` is false, when Go is missing, or when the build fails.
 */
export async function ensureClusterBinaries(options: EnsureBinariesOptions = {}): Promise<ClusterBinaries> {
  const version = options.version ?? SERVER_VERSION;
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const dir = binariesDir(version, options.root);
  const server = path.join(dir, 'server');
  const sqlTool = path.join(dir, 'sql');
  const schemaDir = path.join(dir, 'schema', 'postgresql', 'v12');
  let source: ClusterBinaries['source'] = 'cached';
  let buildMs: number | undefined;
  if (!existsSync(server) || !existsSync(sqlTool)) {
    if (options.build === false)
      throw new Error(`the Temporal server ${version} is not built under ${dir}: run \`npm run cluster\``);
    mkdirSync(dir, { recursive: true });
    log(
      `cluster: building the Temporal server ${version} and temporal-sql-tool with go install into ${dir} (10 to 47 minutes on two cores; once per version)`,
    );
    const started = Date.now();
    await runGoInstall(version, dir, log);
    buildMs = Date.now() - started;
    source = 'built';
    writeFileSync(
      path.join(dir, 'BUILD.json'),
      `${JSON.stringify({ version, builtAt: new Date().toISOString(), buildMs }, null, 2)}\n`,
    );
    log(`cluster: built in ${(buildMs / 60_000).toFixed(1)} min`);
  }
  if (!existsSync(path.join(schemaDir, 'temporal', 'versioned'))) {
    cpSync(path.join(moduleDir(version), 'schema', 'postgresql', 'v12'), schemaDir, { recursive: true });
    // The module cache is read-only; the copy must stay removable with the rest of .tools/.
    spawnSync('chmod', ['-R', 'u+w', schemaDir]);
  }
  return { version, server, sqlTool, schemaDir, source, ...(buildMs !== undefined ? { buildMs } : {}) };
}

/** The build's recorded duration, when this checkout built the binaries itself. */
export function recordedBuildMs(version = SERVER_VERSION, root = projectRoot()): number | undefined {
  try {
    return (
      JSON.parse(readFileSync(path.join(binariesDir(version, root), 'BUILD.json'), 'utf8')) as {
        buildMs?: number;
      }
    ).buildMs;
  } catch {
    return undefined;
  }
}
