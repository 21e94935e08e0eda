import { randomBytes } from 'node:crypto';
import { connect as tcp } from 'node:net';
import { createEmbeddedPostgres, type EmbeddedPostgres } from '@refront/data';
import pg from 'pg';
import { TestingErrors } from '../errors.js';

/** Where the modules' databases live: PGlite in memory, a PostgreSQL server, or PostgreSQL when it answers. */
export type DatabaseChoice = 'pglite' | 'postgres' | 'auto';
/** Which event bus the modules share: core's in-process bus, RabbitMQ, or RabbitMQ when it answers. */
export type BrokerChoice = 'in-process' | 'rabbitmq' | 'auto';

/** The PostgreSQL server `postgres` and `auto` use unless told. */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** The RabbitMQ broker `rabbitmq` and `auto` use unless told. */
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** Whether a TCP connection to `url`'s host and port opens within a second. */
export function reachable(url: string, fallbackPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = tcp({ host: u.hostname || '127.0.0.1', port: Number(u.port || fallbackPort) });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Whether to use the real server: `explicit` insists (throws when it is down), `auto` uses it when
 * it answers, or throws when it does not and REFRONT_REQUIRE_INFRA=1.
 */
export async function useReal(
  choice: 'explicit' | 'auto',
  what: string,
  url: string,
  port: number,
  env: Readonly<Record<string, string | undefined>>,
): Promise<boolean> {
  if (await reachable(url, port)) return true;
  const u = new URL(url);
  if (choice === 'explicit' || env.REFRONT_REQUIRE_INFRA === '1')
    throw TestingErrors.INFRA_MISSING(
      `${what} at ${u.hostname}:${u.port || port} does not answer${choice === 'auto' ? ' and REFRONT_REQUIRE_INFRA=1' : ''}`,
    );
  return false;
}

/** The databases of one app: where each module opens its own, and how it all goes away. */
export interface AppDatabase {
  readonly kind: 'pglite' | 'postgres';
  readonly url: string | undefined;
  readonly embedded: EmbeddedPostgres | undefined;
  close(): Promise<void>;
}

/** A fresh in-memory PGlite, or `shared` (left open). */
export async function embeddedDatabase(shared: EmbeddedPostgres | undefined): Promise<AppDatabase> {
  const embedded = shared ?? (await createEmbeddedPostgres());
  return {
    kind: 'pglite',
    url: undefined,
    embedded,
    close: async () => {
      if (!shared) await embedded.close();
    },
  };
}

/** A fresh database on the server at `serverUrl`, dropped at close: tests never see each other's rows. */
export async function postgresDatabase(serverUrl: string): Promise<AppDatabase> {
  const name = `refront_test_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    embedded: undefined,
    close: () => admin(`drop database if exists ${name} with (force)`),
  };
}
