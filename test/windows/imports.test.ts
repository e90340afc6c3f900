import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// config/ reads files and checks them with the window rules; windows/ and common/ sit below it and
// never import it back, so neither folder can form a cycle with config/.
const SRC = path.resolve(__dirname, '../../src');

function importsOf(folder: string): Array<{ file: string; target: string }> {
  const out: Array<{ file: string; target: string }> = [];
  for (const name of readdirSync(path.join(SRC, folder), { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('.ts')) continue;
    const text = readFileSync(path.join(SRC, folder, name), 'utf8');
    for (const m of text.matchAll(/\bfrom\s+'([^']+)'/g)) {
      const spec = m[1] ?? '';
      if (!spec.startsWith('.')) continue;
      const target = path.relative(SRC, path.resolve(SRC, folder, path.dirname(name), spec));
      out.push({ file: `${folder}/${name}`, target });
    }
  }
  return out;
}

describe('folder boundaries', () => {
  it.each(['windows', 'common'])('src/%s imports nothing from src/config', (folder) => {
    const bad = importsOf(folder).filter(({ target }) => target.split(path.sep)[0] === 'config');
    expect(bad).toEqual([]);
  });

  it('src/common imports only itself and domain/', () => {
    const bad = importsOf('common').filter(
      ({ target }) => !target.startsWith(`common${path.sep}`) && !target.startsWith(`..${path.sep}domain`),
    );
    expect(bad).toEqual([]);
  });
});
