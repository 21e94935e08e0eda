import { readdirSync } from 'node:fs';
import { sep } from 'node:path';
import { demoServiceOf, loadServeConfig, type ServeConfig } from '@refront/demo/deploy';
import { readRepoFile, repoPath } from './paths.js';

/**
 * The files whose environment variables a `serve.ts` process reads: its own zod schema
 * (serveConfig.ts), the gateway's, service identity (mutual TLS), discovery, the AI provider, the logger, tracing. The deployment files
 * may set only these (and NODE_ENV), and docs/deploy.md must describe each one.
 */
export const ENV_SOURCES = [
  'examples/refront-demo/src/serve.ts',
  'examples/refront-demo/src/serveConfig.ts',
  'examples/refront-demo/src/gateway/config.ts',
  'examples/refront-demo/src/platform/distributed.ts',
  'examples/refront-demo/src/platform/serviceIdentity.ts',
  'examples/refront-demo/src/ai/config.ts',
  'packages/discovery/src/registryFromEnv.ts',
  'packages/core/src/logger.ts',
  'packages/core/src/setupTracing.ts',
] as const;

/** The zod schema of serve.ts's own variables. */
const SERVE_CONFIG = 'examples/refront-demo/src/serveConfig.ts';

/**
 * Variables set for the runtime and the libraries, read by no Refront code: Node's `NODE_ENV`, and
 * the OpenTelemetry exporter's headers (the console's token, which the exporter sends with each span).
 */
export const RUNTIME_ENV = ['NODE_ENV', 'OTEL_EXPORTER_OTLP_HEADERS'] as const;

/** Names declared as keys of a zod shape (`  NAME: z.…`) or read as `env.NAME` / `process.env.NAME`. */
export function envNamesIn(source: string): Set<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(/^\s+([A-Z][A-Z0-9_]+): z\s*\./gm)) names.add(m[1] as string);
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
  const source = readRepoFile(SERVE_CONFIG);
  const line = source.split('\n').find((l) => l.trimStart().startsWith(`${name}: z.`));
  const m = line ? /\.default\(([\d_]+)\)/.exec(line) : null;
  if (!m?.[1]) throw new Error(`serveConfig.ts has no numeric default for ${name}`);
  return Number(m[1].replaceAll('_', ''));
}

/**
 * What serve.ts's schema makes of a variable left unset (`REFRONT_RPC` → its default lane,
 * `MUX_PORT` → its default port), read by parsing an environment that sets only `SERVICE` (and
 * `MTLS=off`, which the schema requires to leave the certificate files unset).
 */
export function serveDefault<K extends keyof ServeConfig>(name: K): ServeConfig[K] {
  if (name === 'MTLS') throw new Error('MTLS is set here to parse the rest: read its default elsewhere');
  return loadServeConfig({ SERVICE: 'tickets', AMQP_URL: 'amqp://tickets:pw@rabbitmq:5672', MTLS: 'off' })[
    name
  ];
}

/** The demo's sources, relative to the repository root. */
const DEMO_SRC = 'examples/refront-demo/src';

/** The shipped `.ts` files under a folder of the repository: no tests, no `testing/` helpers. */
function shippedSources(dir: string): string[] {
  return readdirSync(repoPath(dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.split(sep).includes('testing'))
    .map((f) => `${dir}/${f.split(sep).join('/')}`);
}

/**
 * The services a piece of source calls: every `client(XDefinition…)` / `createClient(XDefinition…)`,
 * with `XDefinition` imported from the generated code of `refront.<package>.v<n>`, mapped to the
 * owning service the way the routing channel maps a call (`demoServiceOf`).
 */
export function calleesIn(source: string): Set<string> {
  const callees = new Set<string>();
  for (const [, definition] of source.matchAll(/\b(?:createClient|client)\(\s*(\w+Definition)\b/g)) {
    const from = new RegExp(
      `import\\s*(?:type\\s*)?\\{[^}]*\\b${definition}\\b[^}]*\\}\\s*from\\s*'[^']*/gen/refront/(\\w+)/(v\\d+)/`,
    ).exec(source);
    if (!from?.[1] || !from[2]) throw new Error(`${definition}: not imported from the generated contracts`);
    callees.add(demoServiceOf(`refront.${from[1]}.${from[2]}.${definition}`));
  }
  return callees;
}

/**
 * Who calls whom between the processes of the platform, read from the demo's sources: the gateway
 * (src/gateway) and each module of `services` (src/<name without dashes>, whose module.ts declares
 * that name). Every caller opens its channels with `openLane(REFRONT_RPC, …)`, so this is the set
 * of names each one looks up in discovery: `<callee>` on gRPC, `<callee>-mux` on mux.
 * @throws Error when a module's folder is not where the convention says.
 */
export function rpcCallGraph(services: readonly string[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const caller of ['gateway', ...services]) {
    const dir = `${DEMO_SRC}/${caller.replaceAll('-', '')}`;
    if (caller !== 'gateway' && !readRepoFile(`${dir}/module.ts`).includes(`name: '${caller}'`)) {
      throw new Error(`${dir}/module.ts does not declare the module ${caller}`);
    }
    const callees = new Set<string>();
    for (const file of shippedSources(dir)) for (const c of calleesIn(readRepoFile(file))) callees.add(c);
    callees.delete(caller);
    if (callees.size > 0) graph.set(caller, callees);
  }
  return graph;
}
