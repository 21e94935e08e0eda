import {
  createInProcessEventBus,
  createLogger,
  createMetricsRegistry,
  createRequestContext,
  isRefrontError,
  on,
  runWithContext,
} from '@refront/core';
import { type EventEnvelope, parseTraceparent } from '@refront/core/transport';
import { ThingHappened } from '@refront/test-contracts';
import { expect, it } from 'vitest';
import { createOutbox } from './Outbox.js';
import { describeEngines, silent } from './testing/engines.js';
import { logSink, RecordingPublisher } from './testing/recording.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const MIGRATIONS = [{ version: 1, name: 'things', sql: 'create table things (id text primary key);' }];

describeEngines('Outbox', (fx) => {
  it('publishes an event to an in-process bus after COMMIT, with the trace of the writer', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const bus = createInProcessEventBus({ service: 'things', logger: silent });
    const received: { id: string; envelope: EventEnvelope }[] = [];
    await bus.subscribe('watchers', [
      on(ThingHappened, async (e, ctx) => void received.push({ id: e.id, envelope: ctx.envelope })),
    ]);
    await using outbox = createOutbox({ db, source: 'things', publisher: bus, pollIntervalMs: 60_000 });
    outbox.start();
    const ctx = createRequestContext({
      service: 'things',
      logger: silent,
      parent: parseTraceparent(TRACEPARENT),
      tenant: 'acme',
    });
    const envelope = await runWithContext(ctx, () =>
      db.transaction(async (tx) => {
        await tx.query('insert into things (id) values ($1)', ['t1']);
        return outbox.add(tx, ThingHappened, { id: 't1', sequence: 1 }, { key: 't1' });
      }),
    );
    expect(envelope).toMatchObject({
      source: 'things',
      type: ThingHappened.$type,
      traceparent: TRACEPARENT,
      tenant: 'acme',
      key: 't1',
    });
    // Woken by the commit: polling is once a minute here.
    await expect.poll(() => received, { timeout: 5_000 }).toHaveLength(1);
    expect(received[0]).toEqual({ id: 't1', envelope });
    // The consumer can see the event before the relay's transaction deletes its row: flush waits
    // for that batch (it holds the relay lock) and sends whatever would be left.
    await outbox.flush();
    expect(await outbox.pending()).toBe(0);
    expect(received).toHaveLength(1);
    await bus.close();
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    const db = await fx.open();
    const publisher = new RecordingPublisher();
    await using outbox = createOutbox({ db, source: 'things', publisher });
    await expect(
      db.transaction(async (tx) => {
        await outbox.add(tx, ThingHappened, { id: 'gone' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await outbox.flush();
    expect(await outbox.pending()).toBe(0);
    expect(publisher.attempts).toBe(0);
  });

  it('relays in insertion order, so per-key order holds', async () => {
    const db = await fx.open();
    const publisher = new RecordingPublisher();
    await using outbox = createOutbox({ db, source: 'things', publisher, batchSize: 7 });
    for (let i = 1; i <= 30; i++) {
      await db.transaction((tx) =>
        outbox.add(tx, ThingHappened, { id: `k${i % 3}`, sequence: i }, { key: `k${i % 3}` }),
      );
    }
    expect(await outbox.pending()).toBe(30);
    outbox.start();
    await expect.poll(() => publisher.published.length, { timeout: 10_000 }).toBe(30);
    const sequences = publisher.published.map((p) => ThingHappened.decode(p.body).sequence);
    expect(sequences).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(await outbox.pending()).toBe(0);
  });

  it('keeps rows pending while publishing fails, logs, backs off, then sends each once', async () => {
    const db = await fx.open();
    const publisher = new RecordingPublisher();
    publisher.failNext = 3;
    const sink = logSink();
    const logger = createLogger({ service: 'things', level: 'warn', destination: sink.stream });
    const metrics = createMetricsRegistry({ processMetrics: false });
    await using outbox = createOutbox({
      db,
      source: 'things',
      publisher,
      logger,
      metrics,
      minBackoffMs: 20,
      pollIntervalMs: 60_000,
    });
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const env = await db.transaction((tx) =>
        outbox.add(tx, ThingHappened, { id: 'x', sequence: i }, { key: 'x' }),
      );
      ids.push(env.id);
    }
    await expect(outbox.flush()).rejects.toThrow('broker unavailable');
    expect(await outbox.pending()).toBe(4);
    outbox.start();
    await expect.poll(() => publisher.published.length, { timeout: 10_000 }).toBe(4);
    expect(publisher.published.map((p) => p.envelope.id)).toEqual(ids);
    expect(await outbox.pending()).toBe(0);
    expect(sink.lines.some((l) => l.msg === 'outbox relay could not publish; will retry')).toBe(true);
    const text = await metrics.metrics();
    expect(text).toContain(`refront_outbox_published_total{schema="${db.schema}"} 4`);
    expect(text).toMatch(new RegExp(`refront_outbox_publish_failures_total\\{schema="${db.schema}"\\} [12]`));
    expect(text).toContain(`refront_outbox_pending{schema="${db.schema}"} 0`);
  });

  it('refuses a transaction of another schema', async () => {
    const db = await fx.open();
    const other = await fx.open();
    const outbox = createOutbox({ db, source: 'things', publisher: new RecordingPublisher() });
    const error = await other
      .transaction((tx) => outbox.add(tx, ThingHappened, { id: 'x' }))
      .catch((e: unknown) => e);
    expect(isRefrontError(error) && error.status).toBe('INVALID_ARGUMENT');
    await outbox.close();
    await outbox.close();
  });

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    const db = await fx.open();
    const publisher = new RecordingPublisher();
    for (const bad of [
      { source: '' },
      { batchSize: 0 },
      { pollIntervalMs: -1 },
      { minBackoffMs: 50, maxBackoffMs: 10 },
    ]) {
      expect(() => createOutbox({ db, source: 'things', publisher, ...bad })).toThrow(/must/);
    }
  });

  if (fx.engine === 'postgres')
    it('lets one instance relay at a time: two relays publish each event once, in order', async () => {
      const first = await fx.open();
      const second = await fx.open({ schema: first.schema });
      const publisher = new RecordingPublisher();
      await using a = createOutbox({
        db: first,
        source: 'things',
        publisher,
        batchSize: 5,
        pollIntervalMs: 10,
      });
      await using b = createOutbox({
        db: second,
        source: 'things',
        publisher,
        batchSize: 5,
        pollIntervalMs: 10,
      });
      a.start();
      b.start();
      for (let i = 1; i <= 40; i++) {
        const db = i % 2 ? first : second;
        const outbox = i % 2 ? a : b;
        await db.transaction((tx) => outbox.add(tx, ThingHappened, { id: 'k', sequence: i }, { key: 'k' }));
      }
      await expect.poll(() => publisher.published.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(40);
      await a.flush();
      const sequences = publisher.published.map((p) => ThingHappened.decode(p.body).sequence);
      expect(sequences).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });
});
