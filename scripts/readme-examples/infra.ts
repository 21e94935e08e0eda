import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findInfra, infraUrl } from '@refront/core/transport';
import type { Infra } from './extract.js';

/** The servers of one example run. */
export interface InfraEnv {
  /** `DATABASE_URL` (a database of its own) and `AMQP_URL` (a virtual host of its own). */
  readonly env: Readonly<Record<string, string>>;
  /** What does not answer (the run is skipped), never with REFRONT_REQUIRE_INFRA=1 (it throws). */
  readonly missing: readonly string[];
  /** Drops the database and the virtual host. */
  release(): Promise<void>;
}

const run = promisify(execFile);

/**
 * Gives an example run the servers it needs, each fresh: a new PostgreSQL database and a new
 * RabbitMQ virtual host, so runs never share state. The servers are the repository's
 * (`REFRONT_TEST_DATABASE_URL`, `REFRONT_TEST_AMQP_URL`, else the local defaults); one that does
 * not answer skips the run, or throws with REFRONT_REQUIRE_INFRA=1, as the repository's tests do.
 * PostgreSQL is reached with the `pg` installed in `work` (a dependency of `@refront/data`).
 *
 * @throws RefrontError `CORE_INFRA_MISSING` when a needed server does not answer and REFRONT_REQUIRE_INFRA=1.
 */
export async function provisionInfra(
  needs: readonly Infra[],
  work: string,
  env: NodeJS.ProcessEnv,
): Promise<InfraEnv> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  const releases: (() => Promise<void>)[] = [];
  const name = `refront_readme_${randomBytes(4).toString('hex')}`;
  for (const what of needs) {
    // Core's one probe (decision 0127): the URL when it answers; REFRONT_REQUIRE_INFRA=1 throws.
    const url = await findInfra(what, env, { quiet: true });
    if (url === undefined) {
      const base = new URL(infraUrl(what, env));
      missing.push(
        `${what} at ${base.hostname}:${base.port || (what === 'postgres' ? 5432 : 5672)} does not answer`,
      );
      continue;
    }
    const base = new URL(url);
    if (what === 'postgres') {
      const pg = createRequire(join(work, 'package.json'))('pg') as typeof import('pg');
      const admin = async (sql: string): Promise<void> => {
        const client = new pg.Client({ connectionString: base.href });
        await client.connect();
        try {
          await client.query(sql);
        } finally {
          await client.end();
        }
      };
      await admin(`create database ${name}`);
      releases.push(() => admin(`drop database if exists ${name} with (force)`));
      out.DATABASE_URL = Object.assign(new URL(base.href), { pathname: `/${name}` }).href;
    } else {
      await run('rabbitmqctl', ['-q', 'add_vhost', name]);
      releases.push(async () => void (await run('rabbitmqctl', ['-q', 'delete_vhost', name])));
      await run('rabbitmqctl', [
        '-q',
        'set_permissions',
        '-p',
        name,
        decodeURIComponent(base.username),
        '.*',
        '.*',
        '.*',
      ]);
      out.AMQP_URL = Object.assign(new URL(base.href), { pathname: `/${name}` }).href;
    }
  }
  return {
    env: out,
    missing,
    async release() {
      for (const r of releases.reverse()) await r();
    },
  };
}
