import { readFileSync } from 'node:fs';
import { packageBuild } from '../../scripts/tsup.package.js';

const { version } = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// Two entries over one module graph: `splitting` puts what both use (the request context's
// AsyncLocalStorage, RefrontError) in shared chunks, in the CommonJS build too, so there is one
// of each whichever entry a package imports. Each build names its format and version, which the
// copy registry (src/copies.ts) reports when ESM and CommonJS copies are loaded side by side.
export default packageBuild({
  entry: ['src/index.ts', 'src/transport.ts'],
  splitting: true,
  esbuildOptions(options, { format }) {
    options.define = {
      ...options.define,
      __REFRONT_CORE_FORMAT__: JSON.stringify(format),
      __REFRONT_CORE_VERSION__: JSON.stringify(version),
    };
  },
});
