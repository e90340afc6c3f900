import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../src');

/** Every .ts and .js file under a folder of src/, as paths relative to src/. */
function filesOf(folder: string): string[] {
  return readdirSync(path.join(SRC, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.bundle.js'))
    .map((f) => path.join(folder, f));
}

/** The folders of src/ a file imports from (relative specifiers only), each as `cli/...` and the like. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)].map((m) =>
    path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), m[1]!)),
  );
}

describe('the operator screens and their client', () => {
  it.each(filesOf('operator'))('%s imports nothing from src/cli or src/dashboard', (f) => {
    expect(importsOf(f).filter((i) => /^(cli|dashboard)\//.test(i))).toEqual([]);
  });

  it.each(filesOf('dashboard'))('%s imports nothing from src/cli', (f) => {
    expect(importsOf(f).filter((i) => i.startsWith('cli/'))).toEqual([]);
  });

  it('the CLI reaches the dashboard only to start its server, from the dashboard command', () => {
    const reaches = filesOf('cli').flatMap((f) =>
      importsOf(f)
        .filter((i) => i.startsWith('dashboard/'))
        .map((i) => `${f} -> ${i}`),
    );
    expect(reaches).toEqual([path.join('cli', 'commands', 'dashboard.ts') + ' -> dashboard/server.js']);
  });
});
