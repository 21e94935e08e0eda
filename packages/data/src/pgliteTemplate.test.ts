import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedPostgres, type EmbeddedPostgres } from './EmbeddedPostgres.js';
import { openDatabase } from './openDatabase.js';
import { silent } from './testing/engines.js';

const dir = mkdtempSync(join(tmpdir(), 'refront-pglite-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The cluster's identifier: initdb draws a new one, a copy of a data directory keeps it. */
async function clusterId(embedded: EmbeddedPostgres): Promise<string> {
  const db = await openDatabase({ schema: 'probe', embedded, logger: silent });
  const { rows } = await db.query<{ id: string }>(
    'select system_identifier::text as id from pg_control_system()',
  );
  await db.close();
  return rows[0]!.id;
}

describe('createEmbeddedPostgres: in memory, from a template of a fresh cluster', () => {
  it('writes the template on the first start and starts the next ones from it', async () => {
    const template = join(dir, 'first', 'template.tar');
    await using first = await createEmbeddedPostgres({ template });
    expect(existsSync(template)).toBe(true);
    const written = statSync(template).mtimeMs;
    await using second = await createEmbeddedPostgres({ template });
    expect(await clusterId(second)).toBe(await clusterId(first));
    expect(statSync(template).mtimeMs).toBe(written);
  });

  it('runs initdb at every start without a template: a new cluster each time', async () => {
    const template = join(dir, 'first', 'template.tar');
    await using from = await createEmbeddedPostgres({ template });
    await using fresh = await createEmbeddedPostgres({ template: false });
    expect(await clusterId(fresh)).not.toBe(await clusterId(from));
  });

  it('gives each engine its own data, migrated and written apart', async () => {
    const template = join(dir, 'apart', 'template.tar');
    await using one = await createEmbeddedPostgres({ template });
    await using two = await createEmbeddedPostgres({ template });
    const migrations = [{ version: 1, name: 'items', sql: 'create table items (n int primary key);' }];
    const a = await openDatabase({ schema: 'svc', embedded: one, migrations, logger: silent });
    const b = await openDatabase({ schema: 'svc', embedded: two, migrations, logger: silent });
    await a.query('insert into items (n) values (1), (2)');
    expect((await b.query('select count(*)::int as n from items')).rows).toEqual([{ n: 0 }]);
    await a.close();
    await b.close();
    // What one wrote never reaches the template: a later start is a fresh cluster again.
    await using three = await createEmbeddedPostgres({ template });
    const c = await openDatabase({ schema: 'svc', embedded: three, migrations, logger: silent });
    expect((await c.query('select count(*)::int as n from items')).rows).toEqual([{ n: 0 }]);
    await c.close();
  });

  it('replaces a template that does not load', async () => {
    const template = join(dir, 'damaged.tar');
    writeFileSync(template, 'not a tar of a data directory');
    await using engine = await createEmbeddedPostgres({ template });
    const id = await clusterId(engine);
    expect(statSync(template).size).toBeGreaterThan(1_000_000);
    await using next = await createEmbeddedPostgres({ template });
    expect(await clusterId(next)).toBe(id);
  });
});
