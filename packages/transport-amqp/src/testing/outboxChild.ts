/**
 * Child process of the outbox crash test: commits a state change and its event in one
 * transaction, lets the relay pick the event up, and reports `publishing` just before the relay
 * would hand it to the broker; the parent SIGKILLs it there (between commit and publish).
 * argv: <postgres url> <schema>
 */
import { createOutbox, openDatabase } from '@refront/data';
import { ThingHappened } from '@refront/test-contracts';

const [url, schema] = process.argv.slice(2) as [string, string];
const db = await openDatabase({ schema, url, migrations: ORDERS_MIGRATIONS() });
const outbox = createOutbox({
  db,
  source: 'orders',
  pollIntervalMs: 50,
  publisher: {
    publishRaw: () => {
      process.stdout.write('publishing\n');
      return new Promise<void>(() => {}); // the crash comes first
    },
  },
});
outbox.start();
await db.transaction(async (tx) => {
  await tx.query('insert into orders (id) values ($1)', ['order-1']);
  await outbox.add(tx, ThingHappened, { id: 'order-1', sequence: 1 }, { key: 'order-1', id: 'evt-order-1' });
});
process.stdout.write('committed\n');
setInterval(() => {}, 1_000);

function ORDERS_MIGRATIONS() {
  return [{ version: 1, name: 'orders', sql: 'create table orders (id text primary key)' }];
}
