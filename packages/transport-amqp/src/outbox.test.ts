import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createMetricsRegistry, on } from '@refront/core';
import { createInbox, createOutbox, type Database, openDatabase } from '@refront/data';
import { ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { AMQP_URL, infraAvailable, PG_URL, suffix, testBus, until } from './testing/broker.js';
import { OUTBOX_TEST_MIGRATIONS } from './testing/outboxSchema.js';

const up = (await infraAvailable('rabbitmq')) && (await infraAvailable('postgres'));
const child = fileURLToPath(new URL('./testing/outboxChild.ts', import.meta.url));
const EVENT_ID = 'evt-order-1';

type KillAt = 'before-publish' | 'after-confirm';

/** Runs the child until it SIGKILLs itself at `killAt`; resolves with what it printed. */
function runChildUntilKilled(schema: string, namespace: string, killAt: KillAt): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--conditions=@refront/source', '--import', 'tsx', child, PG_URL, schema, AMQP_URL, namespace],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REFRONT_TEST_KILL_AT: killAt } },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL' && out.includes('killed')) resolve(out);
      else reject(new Error(`child ended without its kill (${signal}): ${out}${err}`));
    });
  });
}

/** A consumer group on `bus` counting deliveries per id, and effects through an inbox. */
async function shipping(bus: ReturnType<typeof testBus>, db: Database) {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const inbox = createInbox({ db, group: 'shipping', metrics });
  const deliveries = new Map<string, number>();
  let invocations = 0;
  let handled = 0;
  await bus.subscribe('shipping', [
    on(ThingHappened, async (e, ctx) => {
      deliveries.set(ctx.envelope.id, (deliveries.get(ctx.envelope.id) ?? 0) + 1);
      await inbox.handleOnce(ctx.envelope, async (tx) => {
        invocations++;
        await tx.query('insert into shipments (order_id) values ($1)', [e.id]);
      });
      // Counted once the inbox's transaction committed (or dropped the copy): its rows are visible.
      handled++;
    }),
  ]);
  const dropped = async () =>
    (await metrics.getSingleMetric('refront_inbox_duplicates_total')?.get())?.values[0]?.value ?? 0;
  return { deliveries, invocations: () => invocations, handled: () => handled, dropped };
}

async function rows(db: Database, sql: string): Promise<unknown[]> {
  return (await db.query(sql)).rows;
}

describe.skipIf(!up)('transactional outbox over RabbitMQ (real RabbitMQ and PostgreSQL)', () => {
  it('republishes an event confirmed by a relay killed before it deleted the row; the inbox drops the copy', async () => {
    const schema = `amqp_outbox_${suffix()}`;
    const db = await openDatabase({ schema, url: PG_URL, migrations: OUTBOX_TEST_MIGRATIONS });
    try {
      await using bus = testBus();
      const consumer = await shipping(bus, db);
      const output = await runChildUntilKilled(schema, bus.names.namespace, 'after-confirm');
      expect(output).toContain(`killed after the confirm of ${EVENT_ID}`);
      // The broker had it before the crash: the first copy arrives with no relay running.
      await until(() => consumer.deliveries.get(EVENT_ID) === 1);
      await using relay = createOutbox({ db, source: 'orders', publisher: bus, pollIntervalMs: 50 });
      expect(await relay.pending()).toBe(1); // killed before the delete
      relay.start();
      await until(() => consumer.deliveries.get(EVENT_ID) === 2);
      await until(async () => (await consumer.dropped()) === 1); // the copy went through the inbox
      await until(async () => (await relay.pending()) === 0);
      await relay.flush();
      expect(consumer.deliveries).toEqual(new Map([[EVENT_ID, 2]]));
      expect(consumer.invocations()).toBe(1);
      expect(await consumer.dropped()).toBe(1);
      expect(await rows(db, 'select order_id from shipments')).toEqual([{ order_id: 'order-1' }]);
      expect(await rows(db, 'select id from orders')).toEqual([{ id: 'order-1' }]);
    } finally {
      await db.query(`drop schema "${schema}" cascade`);
      await db.close();
    }
  });

  it('publishes an event committed by a relay killed before it published it, once', async () => {
    const schema = `amqp_outbox_${suffix()}`;
    const db = await openDatabase({ schema, url: PG_URL, migrations: OUTBOX_TEST_MIGRATIONS });
    try {
      await using bus = testBus();
      const consumer = await shipping(bus, db);
      const output = await runChildUntilKilled(schema, bus.names.namespace, 'before-publish');
      expect(output).toContain(`killed before publishing ${EVENT_ID}`);
      await using relay = createOutbox({ db, source: 'orders', publisher: bus, pollIntervalMs: 50 });
      expect(await relay.pending()).toBe(1);
      relay.start();
      await until(() => consumer.deliveries.get(EVENT_ID) === 1);
      await until(async () => (await relay.pending()) === 0);
      await relay.flush();
      // A marker published behind it: once handled, a second copy of the event would have arrived first.
      await bus.publish(ThingHappened, { id: 'marker' }, { id: 'marker' });
      await until(() => consumer.handled() === 2);
      expect(consumer.deliveries).toEqual(
        new Map([
          [EVENT_ID, 1],
          ['marker', 1],
        ]),
      );
      expect(consumer.invocations()).toBe(2);
      expect(await rows(db, 'select order_id from shipments order by order_id')).toEqual([
        { order_id: 'marker' },
        { order_id: 'order-1' },
      ]);
    } finally {
      await db.query(`drop schema "${schema}" cascade`);
      await db.close();
    }
  });
});
