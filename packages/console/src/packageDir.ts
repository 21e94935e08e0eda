import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's own folder (its `ui/` and `proto/` sit there), from `src/` when run from source
 * and from `dist/` when built, in ESM and in CommonJS.
 */
export function packageDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  return join(here, '..');
}
