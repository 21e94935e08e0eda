import { randomBytes } from 'node:crypto';
import { findInfra, type InfraServer } from '@refront/core/transport';
import { createEmbeddedPostgres, type EmbeddedPostgres } from '@refront/data';
import pg from 'pg';
import { TestingErrors } from '../errors.js';

/** Where the modules' databases live: PGlite in memory, a PostgreSQL server, or PostgreSQL when it answers. */
export type DatabaseChoice = 'pglite' | 'postgres' | 'auto';
/** Which event bus the modules share: core's in-process bus, RabbitMQ, or RabbitMQ when it answers. */
export type BrokerChoice = 'in-process' | 'rabbitmq' | 'auto';

/**
 * Whether to use the real server at `url`: `explicit` insists (TESTING_INFRA_MISSING when it is
 * down), `auto` uses it when it answers, through core's one probe (`findInfra`: CORE_INFRA_MISSING
 * when it is down and REFRONT_REQUIRE_INFRA=1).
 */
export async function useReal(
  choice: 'explicit' | 'auto',
  server: InfraServer,
  url: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<boolean> {
  // An explicit choice is not a skip: the probe never fails it on REFRONT_REQUIRE_INFRA's account.
  const probeEnv = choice === 'explicit' ? { ...env, REFRONT_REQUIRE_INFRA: undefined } : env;
  if ((await findInfra(server, probeEnv, { url, quiet: true })) !== undefined) return true;
  if (choice === 'explicit') {
    const u = new URL(url);
    const label = server === 'postgres' ? 'PostgreSQL' : 'RabbitMQ';
    const port = u.port || (server === 'postgres' ? 5432 : 5672);
    throw TestingErrors.INFRA_MISSING(`${label} at ${u.hostname}:${port} does not answer`);
  }
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
