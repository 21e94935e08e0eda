import { connect as tcp } from 'node:net';
import { CoreErrors } from './coreErrors.js';

/** A server a test can run against. */
export type InfraServer = 'postgres' | 'rabbitmq';

const SERVERS = {
  postgres: {
    label: 'PostgreSQL',
    variable: 'REFRONT_TEST_DATABASE_URL',
    fallback: 'postgres://postgres@127.0.0.1:5432/postgres',
    port: 5432,
    start: 'pg_ctlcluster <version> main start',
  },
  rabbitmq: {
    label: 'RabbitMQ',
    variable: 'REFRONT_TEST_AMQP_URL',
    fallback: 'amqp://guest:guest@127.0.0.1:5672',
    port: 5672,
    start: 'rabbitmq-server -detached',
  },
} as const;

/** Options of {@link findInfra}. */
export interface FindInfraOptions {
  /** The server to probe. @default {@link infraUrl} of `server` */
  readonly url?: string;
  /** Do not print the skip hint when it does not answer. @default false */
  readonly quiet?: boolean;
}

/**
 * The URL of the server a test uses: `REFRONT_TEST_DATABASE_URL` / `REFRONT_TEST_AMQP_URL`, else
 * the local default (`postgres://postgres@127.0.0.1:5432/postgres`, `amqp://guest:guest@127.0.0.1:5672`).
 *
 * @example
 * const url = infraUrl('rabbitmq');
 */
export function infraUrl(
  server: InfraServer,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const s = SERVERS[server];
  return env[s.variable] ?? s.fallback;
}

/**
 * The URL of a real server for a test (`env`'s `REFRONT_TEST_DATABASE_URL` /
 * `REFRONT_TEST_AMQP_URL`, else the local default), or `undefined`. The one probe of the test infrastructure, used by `@refront/testing` (`findInfra`,
 * `startTestApp`) and by the packages' and the demo's own tests: the URL of a real server when a
 * TCP connection to it opens within a second, else `undefined` (the suite skips, after a line
 * saying how to start it). With `REFRONT_REQUIRE_INFRA=1` (CI) a server that does not answer
 * fails instead, so a missing server is never a silent skip.
 *
 * @throws RefrontError FAILED_PRECONDITION `CORE_INFRA_MISSING` when it does not answer and
 *   `REFRONT_REQUIRE_INFRA=1`.
 * @example
 * const amqpUrl = await findInfra('rabbitmq');
 * describe.skipIf(!amqpUrl)('against RabbitMQ', () => { … });
 */
export async function findInfra(
  server: InfraServer,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: FindInfraOptions = {},
): Promise<string | undefined> {
  const s = SERVERS[server];
  const url = options.url ?? infraUrl(server, env);
  const u = new URL(url);
  const port = Number(u.port || s.port);
  if (await reachable(u.hostname || '127.0.0.1', port)) return url;
  const where = `${s.label} at ${u.hostname}:${port} does not answer`;
  if (env.REFRONT_REQUIRE_INFRA === '1')
    throw CoreErrors.INFRA_MISSING(`${where} and REFRONT_REQUIRE_INFRA=1`);
  if (!options.quiet) console.warn(`skipping: ${where}; start it with \`${s.start}\` (or set ${s.variable})`);
  return undefined;
}

/** Whether a TCP connection to `host:port` opens within a second. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcp({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
