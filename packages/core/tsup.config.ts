import { packageBuild } from '../../scripts/tsup.package.js';

// Two entries over one module graph: `splitting` puts what both use (the request context's
// AsyncLocalStorage, RefrontError) in shared chunks, in the CommonJS build too, so there is one
// of each whichever entry a package imports.
export default packageBuild({ entry: ['src/index.ts', 'src/transport.ts'], splitting: true });
