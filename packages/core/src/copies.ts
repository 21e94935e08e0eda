/**
 * Set by the build (tsup `define`, see packages/core/tsup.config.ts): `esm` or `cjs`, and the
 * package version. Undefined when the sources run as they are (tests, `@refront/source`).
 */
declare const __REFRONT_CORE_FORMAT__: string | undefined;
declare const __REFRONT_CORE_VERSION__: string | undefined;

/** The `code` of the warning {@link registerCoreCopy} emits when a second copy loads. */
export const DUPLICATE_CORE_WARNING = 'REFRONT_DUPLICATE_CORE';

/** One loaded copy of `@refront/core`, as the process-wide registry lists it. */
export interface CoreCopy {
  /** `esm`, `cjs`, or `source` when loaded from the TypeScript sources. */
  readonly format: string;
  /** The package version (`source` when loaded from the sources). */
  readonly version: string;
}

/** Where every copy of core registers itself: a `Symbol.for()` key, shared by all copies. */
const REGISTRY = Symbol.for('@refront/core.copies');

type Registry = { [REGISTRY]?: CoreCopy[] };

/** This copy, as the build described it. */
export const THIS_COPY: CoreCopy = {
  format: typeof __REFRONT_CORE_FORMAT__ === 'string' ? __REFRONT_CORE_FORMAT__ : 'source',
  version: typeof __REFRONT_CORE_VERSION__ === 'string' ? __REFRONT_CORE_VERSION__ : 'source',
};

/**
 * Adds `copy` to the process-wide list of loaded copies of `@refront/core` and, when another
 * copy is already there, emits a warning with code {@link DUPLICATE_CORE_WARNING}: two copies
 * (the ESM and the CommonJS build loaded side by side, or two installed versions) each have their
 * own request context storage and their own `RefrontError` class, so a context set by one is not
 * seen by the other and `instanceof RefrontError` is false across them (`isRefrontError` still
 * works). Core calls it once when it loads; the warning is the only thing it does at import.
 *
 * @returns the copies that were loaded before this one.
 * @example
 * process.on('warning', (w) => { if (w.name === 'RefrontWarning') … });
 */
export function registerCoreCopy(copy: CoreCopy, target: object = globalThis): readonly CoreCopy[] {
  const registry = target as Registry;
  const earlier = registry[REGISTRY] ?? [];
  registry[REGISTRY] = [...earlier, copy];
  if (earlier.length > 0) {
    const all = [...earlier, copy].map((c) => `${c.format} ${c.version}`).join(', ');
    process.emitWarning(
      `@refront/core is loaded ${earlier.length + 1} times (${all}): each copy has its own request context and RefrontError class, so contexts are not shared and instanceof RefrontError is false across copies. Load every Refront package in one module format (all import or all require) and dedupe @refront/core (npm ls @refront/core).`,
      { type: 'RefrontWarning', code: DUPLICATE_CORE_WARNING },
    );
  }
  return earlier;
}
