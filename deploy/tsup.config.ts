import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';

/** The repository root (this file is deploy/tsup.config.ts). */
const root = fileURLToPath(new URL('..', import.meta.url));

/** The runtime dependencies a package.json of the repository declares. */
const dependenciesOf = (manifest: string): string[] =>
  Object.keys(
    (JSON.parse(readFileSync(`${root}${manifest}`, 'utf8')) as { dependencies: Record<string, string> })
      .dependencies,
  );

/**
 * Left to node_modules, where `npm ci --omit=dev --workspace=@refront/demo` puts them: the demo's
 * runtime dependencies, and those of @refront/identity, whose command line is bundled from source
 * (node-forge: CommonJS that requires Node built-ins at run time, so it cannot be inlined in ESM).
 * Everything else (the demo's sources, its generated code) is bundled.
 */
const external = [
  ...new Set([
    ...dependenciesOf('examples/refront-demo/package.json'),
    ...dependenciesOf('packages/identity/package.json'),
  ]),
];

/** Where the bundle goes, relative to the repository root (and to /app in the image). */
export const SERVE_BUNDLE_DIR = 'examples/refront-demo/dist/serve';

/** The entries of the bundle, by output name (`<name>.mjs` in {@link SERVE_BUNDLE_DIR}). */
export const BUNDLE_ENTRIES = {
  /** A service process: what the image's entrypoint runs. */
  serve: 'examples/refront-demo/src/serve.ts',
  /**
   * `refront-dev-certs` of @refront/identity: Compose's one-shot `certs` service mints the
   * development CA and the services' certificates with the same image (decision 0082).
   */
  'refront-dev-certs': 'packages/identity/src/bin.ts',
} as const;

/**
 * The production entry points of the image (decision 0081): `examples/refront-demo/src/serve.ts`
 * bundled to `examples/refront-demo/dist/serve/serve.mjs`, and the development certificate command
 * beside it (`refront-dev-certs.mjs`). The output sits two levels below the demo so that
 * `new URL('../../data/…', import.meta.url)` (the AI training set) resolves to
 * `examples/refront-demo/data`, as it does from the sources.
 */
export const serveBundle: Options = {
  entry: Object.fromEntries(Object.entries(BUNDLE_ENTRIES).map(([name, path]) => [name, `${root}${path}`])),
  outDir: `${root}${SERVE_BUNDLE_DIR}`,
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outExtension: () => ({ js: '.mjs' }),
  // Code splitting: serve.ts import()s the gateway, and without chunks esbuild would hoist the
  // gateway's external imports into serve.mjs, loading them in every service (decision 0143).
  splitting: true,
  sourcemap: true,
  clean: true,
  dts: false,
  external,
  tsconfig: `${root}examples/refront-demo/tsconfig.json`,
};

export default defineConfig(serveBundle);
