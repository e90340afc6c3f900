import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DOMAIN = path.resolve(__dirname, '../../domain');

/** Every module specifier a file imports or re-exports. */
function specifiers(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

describe('domain/ is the pure core', () => {
  const files = readdirSync(DOMAIN).filter((f) => f.endsWith('.ts'));

  it('holds the shared types and decisions', () => {
    expect(files).toEqual(
      expect.arrayContaining(['types.ts', 'error-policy.ts', 'preflight.ts', 'budget.ts']),
    );
  });

  it.each(files)('%s imports only files of domain/ and reads no clock, randomness or environment', (f) => {
    const text = readFileSync(path.join(DOMAIN, f), 'utf8');
    expect(specifiers(text).filter((s) => !s.startsWith('./'))).toEqual([]);
    expect(text).not.toMatch(/\bDate\.now\(|\bnew Date\(\)|Math\.random|process\./);
  });
});
