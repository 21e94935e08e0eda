import { CoreErrors } from './coreErrors.js';

/**
 * Runs `load` (a dynamic `import()` of an optional peer dependency, written at the call site so
 * that it resolves from the calling package) and turns "not installed" into
 * `CORE_OPTIONAL_DEPENDENCY_MISSING`, naming the packages to install. Any other failure (the
 * package is there but throws while loading) passes through unchanged.
 *
 * @param feature what needs the packages, for the message (`setupTracing`).
 * @param packages every package the feature needs, for the message; a failure counts as "not
 *   installed" when it is a module-not-found error naming one of them.
 * @throws RefrontError FAILED_PRECONDITION `CORE_OPTIONAL_DEPENDENCY_MISSING` when one is missing.
 * @example
 * const { PGlite } = await importOptional('createEmbeddedPostgres', ['@electric-sql/pglite'], () => import('@electric-sql/pglite'));
 */
export async function importOptional<T>(
  feature: string,
  packages: readonly string[],
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (e: unknown) {
    const missing = missingPackage(e, packages);
    if (missing !== undefined)
      throw CoreErrors.OPTIONAL_DEPENDENCY_MISSING.with({ cause: e }, feature, missing, packages);
    throw e;
  }
}

/**
 * The one of `packages` that Node's module-not-found error `e` (ESM `ERR_MODULE_NOT_FOUND`,
 * CommonJS `MODULE_NOT_FOUND`) names, or undefined for any other error.
 */
function missingPackage(e: unknown, packages: readonly string[]): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as Error & { code?: unknown }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  return packages.find((p) => e.message.includes(`'${p}'`) || e.message.includes(`"${p}"`));
}
