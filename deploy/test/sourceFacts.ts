import { readRepoFile } from './paths.js';

/**
 * The files whose environment variables a `serve.ts` process reads: its own zod schema, the
 * gateway's, discovery, the AI provider, the logger. The deployment files may set only these
 * (and NODE_ENV), and docs/deploy.md must describe each one.
 */
export const ENV_SOURCES = [
  'examples/refront-demo/src/serve.ts',
  'examples/refront-demo/src/gateway/config.ts',
  'examples/refront-demo/src/platform/distributed.ts',
  'examples/refront-demo/src/ai/config.ts',
  'packages/discovery/src/registryFromEnv.ts',
  'packages/core/src/logger.ts',
] as const;

/** Variables set for the runtime, read by no Refront code. */
export const RUNTIME_ENV = ['NODE_ENV'] as const;

/** Names declared as keys of a zod shape (`  NAME: z.…`) or read as `env.NAME` / `process.env.NAME`. */
export function envNamesIn(source: string): Set<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(/^\s+([A-Z][A-Z0-9_]+): z\./gm)) names.add(m[1] as string);
  for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b/g)) names.add(m[1] as string);
  return names;
}

/** Every environment variable the code of a service process reads. */
export function serveEnvNames(): Set<string> {
  const all = new Set<string>();
  for (const file of ENV_SOURCES) for (const name of envNamesIn(readRepoFile(file))) all.add(name);
  return all;
}

/** The default of a numeric variable of serve.ts's schema (`NAME: z.coerce.number()….default(9_464)`). */
export function serveNumberDefault(name: string): number {
  const source = readRepoFile('examples/refront-demo/src/serve.ts');
  const line = source.split('\n').find((l) => l.trimStart().startsWith(`${name}: z.`));
  const m = line ? /\.default\(([\d_]+)\)/.exec(line) : null;
  if (!m?.[1]) throw new Error(`serve.ts has no numeric default for ${name}`);
  return Number(m[1].replaceAll('_', ''));
}
