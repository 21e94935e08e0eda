/**
 * Child process of the outbox crash test: commits an order and its event in one transaction and
 * lets the relay publish it, then SIGKILLs itself at the point REFRONT_TEST_KILL_AT names, so the
 * crash lands at the same place on every run:
 * - `before-publish`: when the relay hands the event to the publisher (nothing reaches the broker);
 * - `after-confirm`: once the real broker confirmed it, before the relay deletes the outbox row.
 * argv: <postgres url> <schema> <amqp url> <namespace>
 */
import { writeSync } from 'node:fs';
import { createLogger } from '@refront/core';
import { createOutbox, openDatabase } from '@refront/data';
import { ThingHappened } from '@refront/test-contracts';
import { createAmqpEventBus } from '../AmqpEventBus.js';
import { OUTBOX_TEST_MIGRATIONS } from './outboxSchema.js';

const [pgUrl, schema, amqpUrl, namespace] = process.argv.slice(2) as [string, string, string, string];
const killAt = process.env.REFRONT_TEST_KILL_AT;
if (killAt !== 'before-publish' && killAt !== 'after-confirm')
  throw new Error(`REFRONT_TEST_KILL_AT must be before-publish or after-confirm, got ${killAt}`);
const logger = createLogger({ service: 'orders', level: 'silent' });
const db = await openDatabase({ schema, url: pgUrl, migrations: OUTBOX_TEST_MIGRATIONS, logger });
const bus = createAmqpEventBus({ url: amqpUrl, service: 'orders', logger, namespace });
await bus.waitUntilConnected({ signal: AbortSignal.timeout(10_000) });

const die = (line: string): never => {
  writeSync(1, `${line}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};
const outbox = createOutbox({
  db,
  source: 'orders',
  pollIntervalMs: 50,
  publisher: {
    publishRaw: async (envelope, body, options) => {
      if (killAt === 'before-publish') die(`killed before publishing ${envelope.id}`);
      await bus.publishRaw(envelope, body, options);
      return die(`killed after the confirm of ${envelope.id}`);
    },
  },
});
outbox.start();
await db.transaction(async (tx) => {
  await tx.query('insert into orders (id) values ($1)', ['order-1']);
  await outbox.add(tx, ThingHappened, { id: 'order-1', sequence: 1 }, { key: 'order-1', id: 'evt-order-1' });
});
writeSync(1, 'committed\n');
setInterval(() => {}, 1_000);
