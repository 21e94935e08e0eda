import { CreateRefrontError } from './errors.js';
import {
  APP_DEPENDENCIES,
  APP_DEV_DEPENDENCIES,
  REFRONT_DEV_PACKAGES,
  REFRONT_PACKAGES,
} from './versions.js';

/** Options of {@link appManifest}. */
export interface AppManifestOptions {
  /** The app's package name. */
  readonly name: string;
  /** The Refront release: the app depends on `^refrontVersion` of each `@refront/*` package. */
  readonly refrontVersion: string;
  /** `@refront/*` package → `file:` spec of a local tarball, used instead of the registry (`--refront-from`). */
  readonly tarballs?: Readonly<Record<string, string>>;
}

function sorted(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The new app's `package.json`. With `tarballs`, the `@refront/*` packages the app imports come
 * from them, and `overrides` send every `@refront/*` package (those depend on each other) to
 * its tarball too, so nothing of Refront comes from the registry.
 *
 * @throws CreateRefrontError `BAD_REFRONT_FROM` when `tarballs` lacks a package the app imports.
 */
export function appManifest(options: AppManifestOptions): Record<string, unknown> {
  const tarballs = options.tarballs;
  const all = [...REFRONT_PACKAGES, ...REFRONT_DEV_PACKAGES];
  const missing = tarballs ? all.filter((p) => tarballs[p] === undefined) : [];
  if (missing.length > 0) {
    throw new CreateRefrontError(
      'BAD_REFRONT_FROM',
      `--refront-from: no tarball of ${missing.join(', ')} (pack them with npm pack -w <package> --pack-destination <dir>)`,
    );
  }
  const spec = (p: string): [string, string] => [p, tarballs?.[p] ?? `^${options.refrontVersion}`];
  const refront = Object.fromEntries(REFRONT_PACKAGES.map(spec));
  const refrontDev = Object.fromEntries(REFRONT_DEV_PACKAGES.map(spec));
  return {
    name: options.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      generate: 'buf lint && buf generate',
      dev: 'npm run generate && tsx watch src/main.ts',
      build: 'npm run generate && tsc -p tsconfig.build.json',
      start: 'node dist/main.js',
      test: 'npm run generate && tsc --noEmit && vitest run',
    },
    dependencies: sorted({ ...refront, ...APP_DEPENDENCIES }),
    devDependencies: sorted({ ...refrontDev, ...APP_DEV_DEPENDENCIES }),
    ...(tarballs ? { overrides: sorted(tarballs) } : {}),
  };
}
