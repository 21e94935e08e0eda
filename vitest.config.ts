import { defineConfig } from 'vitest/config';

const conditions = ['@refront/source', 'node', 'import', 'default'];

/** One Vitest project per workspace, so `npm test` runs everything and `--project core` runs one. */
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@refront/source'] } },
  test: {
    projects: [
      'packages/core',
      'packages/resilience',
      'packages/discovery',
      'packages/data',
      'packages/transport-grpc',
      'packages/transport-amqp',
      'examples/refront-demo',
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
