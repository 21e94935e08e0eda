import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';

/** The repository root (this file is deploy/tsup.config.ts). */
const root = fileURLToPath(new URL('..', import.meta.url));

/** The demo's runtime dependencies: left to node_modules; everything else (its sources, generated code) is bundled. */
const demo = JSON.parse(readFileSync(`${root}examples/refront-demo/package.json`, 'utf8')) as {
  dependencies: Record<string, string>;
};

/** Where the bundle goes, relative to the repository root (and to /app in the image). */
export const SERVE_BUNDLE_DIR = 'examples/refront-demo/dist/serve';

/**
 * The production entry point of the image (decision 0081): `examples/refront-demo/src/serve.ts`
 * bundled to `examples/refront-demo/dist/serve/serve.mjs`. The output sits two levels below the
 * demo so that `new URL('../../data/…', import.meta.url)` (the AI training set) resolves to
 * `examples/refront-demo/data`, as it does from the sources.
 */
export const serveBundle: Options = {
  entry: { serve: `${root}examples/refront-demo/src/serve.ts` },
  outDir: `${root}${SERVE_BUNDLE_DIR}`,
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outExtension: () => ({ js: '.mjs' }),
  splitting: false,
  sourcemap: true,
  clean: true,
  dts: false,
  external: Object.keys(demo.dependencies),
  tsconfig: `${root}examples/refront-demo/tsconfig.json`,
};

export default defineConfig(serveBundle);
