/**
 * Child process of the crash test: commits a state change and an outbox event on PostgreSQL,
 * prints the envelope, then dies by SIGKILL before the relay can publish it.
 * Env: DATABASE_URL, SCHEMA.
 */
import { writeSync } from 'node:fs';
import { createLogger, createRequestContext, runWithContext } from '@refront/core';
import { parseTraceparent } from '@refront/core/transport';
import { createOutbox, openDatabase } from '@refront/data';
import { ThingHappened } from '@refront/test-contracts';

const logger = createLogger({ service: 'writer', level: 'silent' });
const db = await openDatabase({
  schema: process.env.SCHEMA ?? '',
  url: process.env.DATABASE_URL,
  migrations: [{ version: 1, name: 'things', sql: 'create table things (id text primary key);' }],
  logger,
});
const outbox = createOutbox({
  db,
  source: 'writer',
  publisher: {
    publishRaw: async () => {
      writeSync(2, 'the relay published before the crash\n');
      process.exit(3);
    },
  },
});
outbox.start();
const ctx = createRequestContext({
  service: 'writer',
  logger,
  parent: parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'),
});
const envelope = await runWithContext(ctx, () =>
  db.transaction(async (tx) => {
    await tx.query('insert into things (id) values ($1)', ['thing-1']);
    return outbox.add(tx, ThingHappened, { id: 'thing-1', sequence: 1 }, { key: 'thing-1' });
  }),
);
// Committed; the relay has only just been woken. Die the hard way before it publishes.
writeSync(1, `${JSON.stringify(envelope)}\n`);
process.kill(process.pid, 'SIGKILL');
