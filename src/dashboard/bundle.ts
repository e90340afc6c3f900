import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The dashboard's front-end, ready to inline into its page. */
export interface FrontEnd {
  js: string;
  css: string;
  /** `sha256-…` of the script, for the Content-Security-Policy. */
  scriptHash: string;
}

/** Where the front-end sources are (`src/dashboard/public`), from sources or from `dist/`. */
export function publicDir(): string {
  const here = path.join(__dirname, 'public');
  if (existsSync(path.join(here, 'app.js'))) return here;
  // Compiled to dist/src/dashboard: the sources stay in the package's src/.
  return path.resolve(__dirname, '../../../src/dashboard/public');
}

/** The file a build writes for installs without esbuild. */
export const PREBUILT = 'app.bundle.js';

/**
 * Bundles `public/app.js` with preact and htm from node_modules into one IIFE with esbuild (no
 * CDN: the page works without network access). esbuild arrives with the dev tool chain; where it
 * is absent (a production install) the prebuilt `public/app.bundle.js` is used.
 * @throws Error when neither esbuild nor the prebuilt bundle is available.
 */
export async function buildFrontEnd(options: { prebuiltOnly?: boolean } = {}): Promise<FrontEnd> {
  const dir = publicDir();
  const css = readFileSync(path.join(dir, 'app.css'), 'utf8');
  let js: string | undefined;
  if (!options.prebuiltOnly) js = await bundleWithEsbuild(dir);
  if (js === undefined) {
    const prebuilt = path.join(dir, PREBUILT);
    if (!existsSync(prebuilt))
      throw new Error(
        `the dashboard needs esbuild or ${prebuilt} (build it with \`npx tsx src/dashboard/build.ts\`)`,
      );
    js = readFileSync(prebuilt, 'utf8');
  }
  // An inline script must not close its own element.
  js = js.replace(/<\/(script)/gi, '<\\/$1');
  return { js, css, scriptHash: `sha256-${createHash('sha256').update(js).digest('base64')}` };
}

/** esbuild's in-memory bundle of the app, or undefined when esbuild is not installed. */
export async function bundleWithEsbuild(dir = publicDir()): Promise<string | undefined> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  const r = await esbuild.build({
    entryPoints: [path.join(dir, 'app.js')],
    bundle: true,
    write: false,
    format: 'iife',
    minify: true,
    target: ['es2020'],
    legalComments: 'none',
    logLevel: 'silent',
  });
  return r.outputFiles[0]!.text;
}
