import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The file an in-memory PGlite starts from instead of running initdb (decision 0144): a dump of a
 * fresh cluster (`dumpDataDir`), kept in the user's cache directory
 * (`$XDG_CACHE_HOME/refront` or `~/.cache/refront`), one per installed PGlite (named by the size
 * and time of its engine files, so an upgrade makes a new one); undefined when the engine's files
 * cannot be found.
 */
export function defaultTemplatePath(): string | undefined {
  try {
    const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
    const require = createRequire(join(here, 'index.js'));
    const hash = createHash('sha256');
    for (const file of ['@electric-sql/pglite/pglite.wasm', '@electric-sql/pglite/initdb.wasm']) {
      const path = require.resolve(file);
      const s = statSync(path);
      hash.update(`${path}\0${s.size}\0${s.mtimeMs}\0`);
    }
    const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    return join(cache, 'refront', `pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
  } catch {
    return undefined;
  }
}

/** The template at `path`, or undefined when there is none (or it cannot be read). */
export async function readTemplate(path: string): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(path)]);
  } catch {
    return undefined;
  }
}

/**
 * Writes `dump` to `path` through a file of its own renamed into place, so that processes
 * starting together never read a half-written template. Best effort: a cache that cannot be
 * written only means the next start runs initdb again.
 */
export async function writeTemplate(path: string, dump: Blob): Promise<void> {
  const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()), { mode: 0o600 });
    await rename(partial, path);
  } catch {
    await rm(partial, { force: true }).catch(() => {});
  }
}

/** Removes a template that did not load. */
export async function discardTemplate(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => {});
}
