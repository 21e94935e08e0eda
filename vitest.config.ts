import { defineConfig } from 'vitest/config';

const conditions = ['@refront/source', 'node', 'import', 'default'];

/** One Vitest project per workspace, so `npm test` runs everything and `--project core` runs one. */
export default defineConfig({
  resolve: { conditions },
  // Vitest passes ssr conditions to Node as --conditions; 'import' there would make require()
  // inside CommonJS packages load their ESM builds (pg → pg-pool breaks), so it is left out.
  ssr: {
    resolve: {
      conditions: conditions.filter((c) => c !== 'import'),
      externalConditions: ['@refront/source'],
    },
  },
  test: {
    projects: [
      'packages/core',
      'packages/resilience',
      'packages/discovery',
      'packages/identity',
      'packages/rpc',
      'packages/data',
      'packages/workflow',
      'packages/transport-grpc',
      'packages/transport-mux',
      'packages/transport-amqp',
      'packages/testing',
      'packages/validate',
      'packages/create-refront',
      'packages/conformance',
      'packages/console',
      'packages/cli',
      'examples/refront-demo',
      'deploy',
      'docs',
      'scripts',
      'bench',
    ].map((root) => ({
      extends: true as const,
      test: {
        name: root.split('/').pop() as string,
        root,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        testTimeout: 30_000,
        hookTimeout: 60_000,
      },
    })),
  },
});
