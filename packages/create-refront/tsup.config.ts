import { packageBuild } from '../../scripts/tsup.package.js';

// The command (bin.ts) beside the library; shims give the CommonJS build import.meta.url, which
// finds the template folder.
export default { ...packageBuild({ entry: ['src/index.ts', 'src/bin.ts'] }), shims: true };
