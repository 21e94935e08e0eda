import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateRefrontError } from './errors.js';

/** `npm pack` names a scoped package's tarball `<scope>-<name>-<version>.tgz`. */
const TARBALL = /^refront-(.+)-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\.tgz$/;

/**
 * The `@refront/*` tarballs in `dir` (as `npm pack --pack-destination dir` leaves them), by package
 * name, as `file:` specs with absolute paths: the new app installs these instead of the registry's.
 *
 * @throws CreateRefrontError `BAD_REFRONT_FROM` when `dir` is not a folder or holds no such tarball.
 * @example
 * refrontTarballs('/tmp/packs'); // { '@refront/core': 'file:/tmp/packs/refront-core-0.1.0.tgz', … }
 */
export function refrontTarballs(dir: string): Record<string, string> {
  const folder = resolve(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new CreateRefrontError('BAD_REFRONT_FROM', `--refront-from: ${folder} is not a folder`);
  }
  const found: Record<string, string> = {};
  for (const file of readdirSync(folder).sort()) {
    const m = TARBALL.exec(file);
    if (m) found[`@refront/${m[1]}`] = `file:${join(folder, file)}`;
  }
  if (Object.keys(found).length === 0) {
    throw new CreateRefrontError(
      'BAD_REFRONT_FROM',
      `--refront-from: ${folder} holds no @refront/* tarball (refront-<name>-<version>.tgz, as npm pack names them)`,
    );
  }
  return found;
}
