/**
 * The npm packages a new app depends on besides `@refront/*`, with the ranges this release of
 * Refront is built and tested with (a test checks them against the repository's own). The
 * `@refront/*` packages get `^` this package's own version: create-refront is released with them.
 */
export const APP_DEPENDENCIES: Readonly<Record<string, string>> = {
  // The runtime of the code ts-proto generates.
  '@bufbuild/protobuf': '^2.17.0',
  // The embedded database; @refront/data opens it when no DATABASE_URL is set.
  '@electric-sql/pglite': '^0.5.16',
  // Typed configuration (src/config.ts).
  zod: '^4.6.7',
};

/** Tools of a new app: the contract pipeline, the compiler, the test runner. */
export const APP_DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  // buf from npm (its binary ships in a platform package): lint and generate, offline.
  '@bufbuild/buf': '^1.75.0',
  '@types/node': '^20.19.43',
  // The protoc plugin buf runs (buf.gen.yaml), from node_modules/.bin.
  'ts-proto': '^2.18.0',
  // `npm run dev` runs the TypeScript sources without a build.
  tsx: '^4.23.15',
  typescript: '~5.9.3',
  vitest: '^4.1.12',
};

/** The `@refront/*` packages a new app imports. */
export const REFRONT_PACKAGES: readonly string[] = [
  '@refront/core',
  '@refront/data',
  '@refront/transport-amqp',
  '@refront/transport-grpc',
];

/** The `@refront/*` packages a new app's tests import (`src/notes/notes.test.ts`): devDependencies. */
export const REFRONT_DEV_PACKAGES: readonly string[] = ['@refront/testing'];
