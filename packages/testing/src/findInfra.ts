import { TestingErrors } from './errors.js';
import { DEFAULT_AMQP_URL, DEFAULT_POSTGRES_URL, reachable } from './internal/infra.js';

/** A server a test can run against. */
export type InfraServer = 'postgres' | 'rabbitmq';

const SERVERS = {
  postgres: {
    label: 'PostgreSQL',
    variable: 'REFRONT_TEST_DATABASE_URL',
    fallback: DEFAULT_POSTGRES_URL,
    port: 5432,
    start: 'pg_ctlcluster <version> main start',
  },
  rabbitmq: {
    label: 'RabbitMQ',
    variable: 'REFRONT_TEST_AMQP_URL',
    fallback: DEFAULT_AMQP_URL,
    port: 5672,
    start: 'rabbitmq-server -detached',
  },
} as const;

/**
 * The URL of a real server for a test, or `undefined` when it does not answer (the suite then
 * skips, with a line saying how to start it). With `REFRONT_REQUIRE_INFRA=1` (CI) a server that
 * does not answer fails instead, so a missing server is never a silent skip.
 *
 * The URL is `REFRONT_TEST_DATABASE_URL` / `REFRONT_TEST_AMQP_URL`, else the local default
 * (`postgres://postgres@127.0.0.1:5432/postgres`, `amqp://guest:guest@127.0.0.1:5672`), the same
 * ones {@link startTestApp} uses.
 *
 * @throws RefrontError FAILED_PRECONDITION `TESTING_INFRA_MISSING` when it does not answer and
 *   `REFRONT_REQUIRE_INFRA=1`.
 * @example
 * const amqpUrl = await findInfra('rabbitmq');
 * describe.skipIf(!amqpUrl)('against RabbitMQ', () => { … });
 */
export async function findInfra(
  server: InfraServer,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string | undefined> {
  const s = SERVERS[server];
  const url = env[s.variable] ?? s.fallback;
  if (await reachable(url, s.port)) return url;
  const u = new URL(url);
  const where = `${s.label} at ${u.hostname}:${u.port || s.port} does not answer`;
  if (env.REFRONT_REQUIRE_INFRA === '1')
    throw TestingErrors.INFRA_MISSING(`${where} and REFRONT_REQUIRE_INFRA=1`);
  console.warn(`skipping: ${where}; start it with \`${s.start}\` (or set ${s.variable})`);
  return undefined;
}
