import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Opening the embedded database takes a few seconds on a small machine.
    hookTimeout: 60_000,
  },
});
