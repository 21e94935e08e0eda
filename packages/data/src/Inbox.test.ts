import { randomUUID } from 'node:crypto';
import { createInProcessEventBus, createMetricsRegistry, isRefrontError, on } from '@refront/core';
import { type EventEnvelope, encodeEvent } from '@refront/core/transport';
import { OtherThingHappened, ThingHappened } from '@refront/test-contracts';
import { expect, it } from 'vitest';
import { createInbox } from './Inbox.js';
import { createOutbox } from './Outbox.js';
import { describeEngines, silent } from './testing/engines.js';
import { RecordingPublisher } from './testing/recording.js';

const MIGRATIONS = [{ version: 1, name: 'applied', sql: 'create table applied (n int not null);' }];

function envelope(id = randomUUID()): EventEnvelope {
  return encodeEvent('producer', ThingHappened, { id: 'x' }, { id }).envelope;
}

describeEngines('Inbox', (fx) => {
  it('runs a handler once per message id and counts the duplicates', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const metrics = createMetricsRegistry({ processMetrics: false });
    const inbox = createInbox({ db, group: 'billing', metrics });
    const env = envelope();
    const first = await inbox.handleOnce(env, async (tx) => {
      await tx.query('insert into applied values (1)');
      return 'ran';
    });
    const second = await inbox.handleOnce(env, async () => 'ran again');
    expect(first).toEqual({ duplicate: false, value: 'ran' });
    expect(second).toEqual({ duplicate: true });
    expect((await db.query('select count(*) as n from applied')).rows[0]).toEqual({ n: 1 });
    expect(await metrics.metrics()).toContain('refront_inbox_duplicates_total{group="billing"} 1');
    // Another group processes the same id on its own.
    const other = createInbox({ db, group: 'reporting' });
    expect(await other.handleOnce(env, async () => 'reported')).toEqual({
      duplicate: false,
      value: 'reported',
    });
  });

  it('runs fn once when the same id is handled twice at the same time', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const inbox = createInbox({ db, group: 'billing' });
    const env = envelope();
    let runs = 0;
    const fn = async (tx: { query(text: string): Promise<unknown> }) => {
      runs++;
      await tx.query('insert into applied values (1)');
      await new Promise((r) => setTimeout(r, 50)); // hold the first transaction open
    };
    const outcomes = await Promise.all([inbox.handleOnce(env, fn), inbox.handleOnce(env, fn)]);
    expect(runs).toBe(1);
    expect(outcomes.map((o) => o.duplicate).sort()).toEqual([false, true]);
    expect((await db.query('select count(*) as n from applied')).rows[0]).toEqual({ n: 1 });
  });

  it('forgets the id when fn throws, so a redelivery runs it again', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const inbox = createInbox({ db, group: 'billing' });
    const env = envelope();
    await expect(
      inbox.handleOnce(env, async (tx) => {
        await tx.query('insert into applied values (1)');
        throw new Error('transient');
      }),
    ).rejects.toThrow('transient');
    expect(await inbox.handleOnce(env, async () => 'second try')).toEqual({
      duplicate: false,
      value: 'second try',
    });
    expect((await db.query('select count(*) as n from applied')).rows[0]).toEqual({ n: 0 });
  });

  it('consumes one event and adds another in one transaction, rolling both back on a throw', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const inbox = createInbox({ db, group: 'billing' });
    const publisher = new RecordingPublisher();
    const outbox = createOutbox({ db, source: 'billing', publisher });
    const env = envelope();
    await expect(
      inbox.handleOnce(env, async (tx) => {
        await tx.query('insert into applied values (1)');
        await outbox.add(tx, OtherThingHappened, { id: 'follow-up' });
        throw new Error('crash mid-handler');
      }),
    ).rejects.toThrow('crash mid-handler');
    expect(await outbox.pending()).toBe(0);
    expect((await db.query('select count(*) as n from refront_inbox')).rows[0]).toEqual({ n: 0 });
    // The redelivery commits both.
    await inbox.handleOnce(env, (tx) => outbox.add(tx, OtherThingHappened, { id: 'follow-up' }));
    expect(await outbox.pending()).toBe(1);
    await outbox.flush();
    expect(publisher.published.map((p) => p.envelope.type)).toEqual([OtherThingHappened.$type]);
    await outbox.close();
  });

  it('wraps a bus handler: an event delivered twice is applied once', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const metrics = createMetricsRegistry({ processMetrics: false });
    const inbox = createInbox({ db, group: 'billing', metrics });
    const bus = createInProcessEventBus({ service: 'billing', logger: silent });
    const seen: number[] = [];
    await bus.subscribe('billing', [
      on(
        ThingHappened,
        inbox.handler(async (event, ctx, tx) => {
          expect(ctx.envelope.type).toBe(ThingHappened.$type);
          await tx.query('insert into applied values ($1)', [event.sequence]);
          seen.push(event.sequence);
        }),
      ),
    ]);
    const { envelope: env, body } = encodeEvent('producer', ThingHappened, { id: 'x', sequence: 7 });
    await bus.publishRaw(env, body);
    await bus.publishRaw(env, body);
    await expect
      .poll(() => metrics.metrics(), { timeout: 5_000 })
      .toContain('refront_inbox_duplicates_total{group="billing"} 1');
    expect(seen).toEqual([7]);
    expect((await db.query('select n from applied')).rows).toEqual([{ n: 7 }]);
    await bus.close();
  });

  it('rejects a missing group or message id with INVALID_ARGUMENT', async () => {
    const db = await fx.open();
    expect(() => createInbox({ db, group: ' ' })).toThrow(/group/);
    const inbox = createInbox({ db, group: 'g' });
    const error = await inbox.handleOnce({ ...envelope(), id: '' }, async () => 1).catch((e: unknown) => e);
    expect(isRefrontError(error) && error.status).toBe('INVALID_ARGUMENT');
  });
});
