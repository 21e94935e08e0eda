import { packageBuild } from '../../scripts/tsup.package.js';

// prom-client comes with @refront/core (whose registries we write to); bundling a second copy
// would break `instanceof Counter` against the registry's metrics.
export default packageBuild({ external: ['prom-client'] });
