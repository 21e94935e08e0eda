import { packageBuild } from '../../scripts/tsup.package.js';

export default packageBuild({ entry: ['src/index.ts', 'src/bin.ts'] });
