import { defineConfig, type Options } from 'tsup';

/**
 * The build of every published package (`packages/<name>/tsup.config.ts`): ESM and CommonJS with
 * their `.d.ts`, source maps, Node 20, from `tsconfig.build.json`. A package passes only what
 * differs: more entries (a `bin.ts`), or dependencies to keep external.
 *
 * @example
 * export default packageBuild({ entry: ['src/index.ts', 'src/bin.ts'] });
 */
export function packageBuild(
  options: Pick<Options, 'entry' | 'external' | 'splitting' | 'esbuildOptions'> = {},
) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    tsconfig: 'tsconfig.build.json',
    ...options,
  });
}
