import { createMetricsRegistry, on } from '@refront/core';
import { createInbox, openDatabase } from '@refront/data';
import { ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { infraAvailable, killConnection, PG_URL, suffix, testBus, until } from './testing/broker.js';

const up = (await infraAvailable('rabbitmq')) && (await infraAvailable('postgres'));
const EVENTS = 10_000;

describe.skipIf(!up)('AMQP chaos (real RabbitMQ and PostgreSQL)', () => {
  it('handles 10,000 events exactly once while the broker connections are force-closed twice', async () => {
    const schema = `amqp_chaos_${suffix()}`;
    const db = await openDatabase({
      schema,
      url: PG_URL,
      poolSize: 16,
      migrations: [
        {
          version: 1,
          name: 'handled',
          sql: 'create table handled (event_id text primary key, seq int not null)',
        },
      ],
    });
    try {
      await using producer = testBus({ reconnectDelayMs: 50, maxReconnectDelayMs: 500 });
      await using consumer = testBus({
        namespace: producer.names.queue('').slice(0, -1),
        reconnectDelayMs: 50,
        maxReconnectDelayMs: 500,
      });
      const metrics = createMetricsRegistry({ processMetrics: false });
      const inbox = createInbox({ db, group: 'chaos', metrics });
      let handled = 0;
      let duplicates = 0;
      await consumer.subscribe(
        'chaos',
        [
          on(ThingHappened, async (e, ctx) => {
            const r = await inbox.handleOnce(ctx.envelope, async (tx) => {
              await tx.query('insert into handled (event_id, seq) values ($1, $2)', [e.id, e.sequence]);
            });
            if (r.duplicate) duplicates++;
            else handled++;
          }),
        ],
        { concurrency: 32, retryDelaysMs: [50, 200, 1_000, 2_000] },
      );

      let published = 0;
      let confirmed = 0;
      let rejected = 0;
      const kills: Promise<boolean>[] = [];
      const killBoth = () =>
        kills.push(
          Promise.all([
            killConnection(producer.connectionName),
            killConnection(consumer.connectionName),
          ]).then(([a, b]) => a && b),
        );
      // Publish in waves; a publish the bus rejects is retried by the caller with the same id.
      const publishOne = async (i: number): Promise<void> => {
        for (;;) {
          try {
            await producer.publish(ThingHappened, { id: `e${i}`, sequence: i }, { id: `chaos-${i}` });
            confirmed++;
            return;
          } catch {
            rejected++;
          }
        }
      };
      const all: Promise<void>[] = [];
      for (let i = 0; i < EVENTS; i++) {
        all.push(publishOne(i));
        published++;
        if (i === 2_000 || i === 6_000) {
          killBoth();
          await new Promise((r) => setTimeout(r, 200));
        }
        if (i % 500 === 499)
          await Promise.race([Promise.all(all.slice(-500)), new Promise((r) => setTimeout(r, 50))]);
      }
      await Promise.all(all);
      expect(await Promise.all(kills)).toEqual([true, true]);
      await until(async () => (await countHandled()) === EVENTS, 60_000);
      // Let redeliveries of messages whose ack was lost arrive: the inbox must suppress them.
      await new Promise((r) => setTimeout(r, 500));
      const rows = await db.query<{ n: number; distinct_n: number; min: number; max: number }>(
        'select count(*)::int as n, count(distinct event_id)::int as distinct_n, min(seq) as min, max(seq) as max from handled',
      );
      console.log(
        `chaos: published=${published} confirmed=${confirmed} rejected-and-republished=${rejected} ` +
          `handled=${handled} duplicates suppressed=${duplicates} connection kills=${kills.length * 2}`,
      );
      expect(confirmed).toBe(EVENTS);
      expect(rows.rows[0]).toEqual({ n: EVENTS, distinct_n: EVENTS, min: 0, max: EVENTS - 1 });
      expect(handled).toBe(EVENTS);
      expect(await consumer.deadLetters('chaos')).toEqual([]);
    } finally {
      await db.query(`drop schema "${schema}" cascade`);
      await db.close();
    }

    async function countHandled(): Promise<number> {
      const r = await db.query<{ n: number }>('select count(*)::int as n from handled');
      return r.rows[0]!.n;
    }
  }, 120_000);
});
