import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
  // prom-client comes with @refront/core (whose registries we write to); bundling a second copy
  // would break `instanceof Counter` against the registry's metrics.
  external: ['prom-client'],
});
