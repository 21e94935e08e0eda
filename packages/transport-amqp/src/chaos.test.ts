import { createMetricsRegistry, on } from '@refront/core';
import { createInbox, openDatabase } from '@refront/data';
import { ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { infraAvailable, killConnection, PG_URL, suffix, testBus, until } from './testing/broker.js';

const up = (await infraAvailable('rabbitmq')) && (await infraAvailable('postgres'));
const EVENTS = 10_000;
const KILL_AT = [2_000, 6_000];
const CONCURRENCY = 32;

/** Handlers held after their inbox commit and before their ack, until `release`. */
interface Hold {
  readonly ids: string[];
  readonly released: Promise<void>;
  release(): void;
}

function hold(): Hold {
  let release = () => {};
  const released = new Promise<void>((r) => (release = r));
  return { ids: [], released, release };
}

describe.skipIf(!up)('AMQP chaos (real RabbitMQ and PostgreSQL)', () => {
  it('handles 10,000 events once each while both broker connections are force-closed twice under load', async () => {
    const schema = `amqp_chaos_${suffix()}`;
    const db = await openDatabase({
      schema,
      url: PG_URL,
      poolSize: 16,
      // No unique key: a second insert of one event shows as a second row.
      migrations: [
        {
          version: 1,
          name: 'handled',
          sql: 'create table handled (event_id text not null, seq int not null)',
        },
      ],
    });
    try {
      const reconnect = { reconnectDelayMs: 50, maxReconnectDelayMs: 500 };
      await using producer = testBus(reconnect);
      await using consumer = testBus({ namespace: producer.names.namespace, ...reconnect });
      const metrics = createMetricsRegistry({ processMetrics: false });
      const inbox = createInbox({ db, group: 'chaos', metrics });
      /** Handler invocations per envelope id: the first, and each repeat the inbox dropped. */
      const invocations = new Map<string, number>();
      let handled = 0;
      let duplicates = 0;
      let holding: Hold | undefined;
      await consumer.subscribe(
        'chaos',
        [
          on(ThingHappened, async (e, ctx) => {
            const id = ctx.envelope.id;
            invocations.set(id, (invocations.get(id) ?? 0) + 1);
            const r = await inbox.handleOnce(ctx.envelope, async (tx) => {
              await tx.query('insert into handled (event_id, seq) values ($1, $2)', [e.id, e.sequence]);
            });
            if (r.duplicate) duplicates++;
            else handled++;
            const h = holding;
            if (h && !r.duplicate) {
              h.ids.push(id);
              await h.released; // committed, not yet acked: the kill lands here
            }
          }),
        ],
        { concurrency: CONCURRENCY, retryDelaysMs: [50, 200, 1_000, 2_000] },
      );

      let confirmed = 0;
      let rejected = 0;
      const heldAtKills: string[][] = [];
      const unconfirmedAtKills: number[] = [];
      /**
       * Waits until every consumer slot holds a committed, unacked event, then force-closes both
       * connections and releases the handlers once the consumer's loss is seen: their acks have no
       * channel to go to, so the broker must redeliver them.
       */
      const killUnderLoad = async (): Promise<void> => {
        const h = hold();
        holding = h;
        await until(() => h.ids.length >= CONCURRENCY, 20_000);
        // Stop holding the moment the loss is seen: the consumer may be back, consuming on a new
        // channel, before the kill commands return, and what it takes then must not be held.
        const lost = new Promise<void>((resolve) => {
          const off = consumer.onStateChange((s) => {
            if (s !== 'disconnected') return;
            off();
            holding = undefined;
            heldAtKills.push([...h.ids]);
            h.release();
            resolve();
          });
        });
        unconfirmedAtKills.push(producer.unconfirmed);
        const killed = await Promise.all([
          killConnection(producer.connectionName),
          killConnection(consumer.connectionName),
        ]);
        expect(killed).toEqual([true, true]);
        await lost;
      };
      // A publish the bus rejects is retried by the caller with the same id.
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
      let killing: Promise<void> | undefined;
      let killPending = false;
      for (let i = 0; i < EVENTS; i++) {
        all.push(publishOne(i));
        if (KILL_AT.includes(i)) {
          await killing;
          killPending = true;
          killing = killUnderLoad().finally(() => (killPending = false));
        }
        // While a kill is under way, keep traffic flowing at a steady pace so the kill lands on it.
        if (killPending && i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
        if (i % 500 === 499)
          await Promise.race([Promise.all(all.slice(-500)), new Promise((r) => setTimeout(r, 50))]);
      }
      await killing;
      await Promise.all(all);
      await until(async () => (await countRows()) >= EVENTS && handled >= EVENTS, 60_000);
      const held = heldAtKills.flat();
      // Every held event comes back: the kills hit deliveries in flight.
      await until(() => held.every((id) => (invocations.get(id) ?? 0) >= 2), 30_000);
      // Let any other redelivery of a lost ack arrive: the inbox must drop it too.
      await new Promise((r) => setTimeout(r, 500));
      const rows = await db.query<{ n: number; distinct_n: number; min: number; max: number }>(
        'select count(*)::int as n, count(distinct event_id)::int as distinct_n, min(seq) as min, max(seq) as max from handled',
      );
      const dropped = (await metrics.getSingleMetric('refront_inbox_duplicates_total')?.get())?.values[0]
        ?.value;
      const total = [...invocations.values()].reduce((a, b) => a + b, 0);
      console.log(
        `chaos: published=${EVENTS} confirmed=${confirmed} rejected-and-republished=${rejected} ` +
          `handled=${handled} invocations=${total} duplicates dropped by the inbox=${duplicates} ` +
          `held at each kill=${heldAtKills.map((h) => h.length).join(',')} unconfirmed at each kill=${unconfirmedAtKills.join(',')}`,
      );
      expect(confirmed).toBe(EVENTS);
      // Every event reached the handler, and its effect landed exactly once.
      expect(invocations.size).toBe(EVENTS);
      expect(handled).toBe(EVENTS);
      expect(rows.rows[0]).toEqual({ n: EVENTS, distinct_n: EVENTS, min: 0, max: EVENTS - 1 });
      // Each kill caught CONCURRENCY deliveries committed and unacked; the broker redelivered them
      // and the inbox dropped the copies. Every invocation beyond an event's first was such a drop.
      expect(heldAtKills.map((h) => h.length)).toEqual(KILL_AT.map(() => CONCURRENCY));
      expect(duplicates).toBeGreaterThanOrEqual(held.length);
      expect(total).toBe(EVENTS + duplicates);
      expect(dropped).toBe(duplicates);
      expect(await consumer.deadLetters('chaos')).toEqual([]);
    } finally {
      await db.query(`drop schema "${schema}" cascade`);
      await db.close();
    }

    async function countRows(): Promise<number> {
      const r = await db.query<{ n: number }>('select count(*)::int as n from handled');
      return r.rows[0]!.n;
    }
  }, 120_000);
});
