import { randomBytes } from 'node:crypto';
import { createMetricsRegistry, on } from '@refront/core';
import type { EventEnvelope } from '@refront/core/transport';
import { OtherThingHappened, ThingHappened } from '@refront/test-contracts';
import { type Channel, connect, type Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AmqpReason } from './errors.js';
import { HEADERS } from './internal/amqpEnvelope.js';
import { listUnrouted } from './listUnrouted.js';
import { replayUnrouted } from './replayUnrouted.js';
import { createServiceBrokerUser, deleteBrokerUser, servicePermissions } from './serviceBrokerUser.js';
import { AMQP_URL, infraAvailable, suffix, testBus, until } from './testing/broker.js';

const up = await infraAvailable('rabbitmq');
const PKG = 'refront.testing.v1';

interface UserSpec {
  readonly publishes?: string[];
  readonly groups?: string[];
}

/**
 * Broker users for one test, made and deleted all at once (each rabbitmqctl call starts an Erlang
 * VM: seconds on a loaded machine); `url` connects as one.
 */
async function brokerUsers<K extends string>(
  namespace: string,
  specs: Record<K, UserSpec>,
): Promise<Record<K, { user: string; url: string }> & AsyncDisposable> {
  const made = (Object.entries(specs) as [K, UserSpec][]).map(([name, o]) => {
    const password = randomBytes(12).toString('hex');
    const user = `${name}-${suffix()}`;
    const url = new URL(AMQP_URL);
    url.username = user;
    url.password = password;
    const ready = createServiceBrokerUser({
      user,
      password,
      namespace,
      publishes: o.publishes ?? [],
      consumes: [PKG],
      groups: o.groups ?? [],
    });
    return { name, user, url: url.toString(), ready };
  });
  const settled = await Promise.allSettled(made.map((m) => m.ready));
  const dispose = () => Promise.all(made.map((m) => deleteBrokerUser(m.user))).then(() => {});
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    await dispose();
    throw failed.reason;
  }
  const byName = Object.fromEntries(made.map((m) => [m.name, { user: m.user, url: m.url }])) as Record<
    K,
    { user: string; url: string }
  >;
  return Object.assign(byName, { [Symbol.asyncDispose]: dispose });
}

/** A raw amqplib channel, as an outside client would use; resolves the channel's close error, if any. */
async function rawClient(url: string) {
  const conn = await connect(url);
  const ch = await conn.createConfirmChannel();
  const closed = new Promise<{ code?: number } | undefined>((resolve) => {
    ch.on('error', (e: { code?: number }) => resolve(e));
    ch.on('close', () => resolve(undefined));
  });
  ch.on('error', () => {});
  return {
    ch,
    closed,
    async [Symbol.asyncDispose]() {
      await conn.close().catch(() => {});
    },
  };
}

function props(type: string, source: string, extra: Partial<Options.Publish> = {}): Options.Publish {
  return { messageId: `m-${suffix()}`, type, appId: source, contentType: 'application/x-protobuf', ...extra };
}

const thing = Buffer.from(ThingHappened.encode(ThingHappened.fromPartial({ id: 'x', sequence: 1 })).finish());

async function publishAndWait(
  ch: Channel & { waitForConfirms(): Promise<void> },
  ...a: Parameters<Channel['publish']>
) {
  ch.publish(...a);
  await ch.waitForConfirms();
}

describe.skipIf(!up)('events from their owner only (real RabbitMQ, per-service users)', () => {
  it("refuses a service's user writing another service's exchange (403 ACCESS_REFUSED)", async () => {
    await using admin = testBus();
    await using users = await brokerUsers(admin.names.namespace, {
      intruder: { publishes: ['refront.intruder.v1'] },
    });
    const { intruder } = users;
    await admin.publish(ThingHappened, { id: 'declares-the-exchange' });
    await using raw = await rawClient(intruder.url);
    raw.ch.publish(
      admin.names.exchange(ThingHappened.$type),
      ThingHappened.$type,
      thing,
      props(ThingHappened.$type, 'x'),
    );
    const err = await raw.closed;
    expect(err?.code).toBe(403);
  });

  it("handles the owner's events, retried ones included, and dead-letters forged, unsigned and foreign ones unhandled", async () => {
    await using owner0 = testBus();
    const namespace = owner0.names.namespace;
    await using users = await brokerUsers(namespace, {
      things: { publishes: [PKG] },
      watcher: { groups: ['watch'] },
      intruder: { publishes: ['refront.intruder.v1'] },
    });
    const { things, watcher, intruder } = users;
    const metrics = createMetricsRegistry({ processMetrics: false });
    await using consumer = testBus({
      metrics,
      namespace,
      url: watcher.url,
      service: 'watcher',
      owners: { [PKG]: 'things' },
      brokerUsers: { things: things.user },
    });
    await using publisher = testBus({ namespace, url: things.url, service: 'things' });
    const handled: string[] = [];
    let failOnce = true;
    await consumer.subscribe(
      'watch',
      [
        on(ThingHappened, async (e) => {
          if (e.id === 'flaky' && failOnce) {
            failOnce = false;
            throw new Error('once');
          }
          handled.push(e.id);
        }),
      ],
      { retryDelaysMs: [50] },
    );
    const dead: string[] = [];
    consumer.onDeadLetter((d) => dead.push(`${d.envelope.id}:${d.reason}`));

    // The owner's events, and one that goes through the retry queue and comes back.
    await publisher.publish(ThingHappened, { id: 'genuine' });
    await publisher.publish(ThingHappened, { id: 'flaky' });
    // The owner's broker user claiming another source.
    const forgedSource: EventEnvelope = {
      id: 'forged-source',
      type: ThingHappened.$type,
      schemaVersion: 1,
      contentType: 'application/x-protobuf',
      timestamp: Date.now(),
      source: 'billing',
    };
    await publisher.publishRaw(
      forgedSource,
      ThingHappened.encode(ThingHappened.fromPartial({ id: 'forged-source' })).finish(),
    );

    const exchange = consumer.names.exchange(ThingHappened.$type);
    const key = ThingHappened.$type;
    {
      // An administrator's client (guest) without user_id, straight to the domain exchange.
      await using raw = await rawClient(AMQP_URL);
      await publishAndWait(raw.ch, exchange, key, thing, props(key, 'things', { messageId: 'unsigned' }));
    }
    {
      // A client claiming the owner's user: the broker itself refuses it (406) before any queue.
      await using raw = await rawClient(AMQP_URL);
      raw.ch.publish(
        exchange,
        key,
        thing,
        props(key, 'things', { messageId: 'claimed', userId: things.user }),
      );
      expect((await raw.closed)?.code).toBe(406);
    }
    {
      // Another service's user straight into the group queue through the default exchange, with
      // a forged "vouched" header.
      await using raw = await rawClient(intruder.url);
      const h = { [HEADERS.publisherUser]: things.user };
      const p = props(key, 'things', { messageId: 'foreign', userId: intruder.user, headers: h });
      await publishAndWait(raw.ch, '', consumer.names.queue('watch'), thing, p);
    }
    await until(() => handled.length === 2 && dead.length === 3);
    expect(handled.sort()).toEqual(['flaky', 'genuine']);
    expect(dead.sort()).toEqual([
      `foreign:${AmqpReason.UNTRUSTED_PUBLISHER}`,
      `forged-source:${AmqpReason.FORGED_EVENT}`,
      `unsigned:${AmqpReason.UNTRUSTED_PUBLISHER}`,
    ]);
    const inDlq = await consumer.deadLetters('watch');
    expect(inDlq.map((d) => d.envelope.id).sort()).toEqual(['foreign', 'forged-source', 'unsigned']);
    expect(inDlq.find((d) => d.envelope.id === 'foreign')?.error).toContain(`broker user ${intruder.user}`);
    const refused = (await metrics.getSingleMetric('refront_events_refused_total')?.get())?.values ?? [];
    expect(refused.map((v) => `${v.labels.event_type}:${v.labels.reason}:${v.value}`).sort()).toEqual([
      `${key}:${AmqpReason.FORGED_EVENT}:1`,
      `${key}:${AmqpReason.UNTRUSTED_PUBLISHER}:2`,
    ]);
    // Nothing was handled late.
    expect(handled).toHaveLength(2);
  });

  it("replays a parked event only as its publisher's user, keeping its user_id, so the owner's check passes", async () => {
    await using owner0 = testBus();
    const namespace = owner0.names.namespace;
    await using users = await brokerUsers(namespace, {
      things: { publishes: [PKG] },
      watcher: { groups: ['watch'] },
    });
    const { things, watcher } = users;
    await using publisher = testBus({ namespace, url: things.url, service: 'things' });
    const exchange = publisher.names.exchange(ThingHappened.$type);
    const key = ThingHappened.$type;
    // Both parked: no group is bound yet. One from the owner's user, one unsigned from guest.
    const sent = await publisher.publish(ThingHappened, { id: 'early' });
    {
      await using raw = await rawClient(AMQP_URL);
      await publishAndWait(raw.ch, exchange, key, thing, props(key, 'things', { messageId: 'unsigned' }));
    }
    const parked = await listUnrouted({ url: AMQP_URL, namespace });
    expect(parked.map((m) => [m.messageId, m.publisherUser])).toEqual([
      [sent.id, things.user],
      ['unsigned', undefined],
    ]);

    await using consumer = testBus({
      namespace,
      url: watcher.url,
      service: 'watcher',
      owners: { [PKG]: 'things' },
      brokerUsers: { things: things.user },
    });
    const handled: string[] = [];
    await consumer.subscribe('watch', [
      on(ThingHappened, async (_e, ctx) => void handled.push(ctx.envelope.id)),
    ]);
    const dead: string[] = [];
    consumer.onDeadLetter((d) => dead.push(`${d.envelope.id}:${d.reason}`));

    // guest may replay only what carries no user_id; the owner's event waits for the owner.
    expect(await replayUnrouted({ url: AMQP_URL, namespace })).toEqual({
      replayed: 1,
      stillUnrouted: 0,
      skipped: 0,
      otherPublishers: { [things.user]: 1 },
    });
    await until(() => dead.length === 1);
    expect(dead).toEqual([`unsigned:${AmqpReason.UNTRUSTED_PUBLISHER}`]);
    expect((await listUnrouted({ url: AMQP_URL, namespace })).map((m) => m.messageId)).toEqual([sent.id]);

    // The owner's user replays it with its own user_id: the consumer's check lets it through.
    expect(await replayUnrouted({ url: things.url, namespace })).toEqual({
      replayed: 1,
      stillUnrouted: 0,
      skipped: 0,
      otherPublishers: {},
    });
    await until(() => handled.length === 1);
    expect(handled).toEqual([sent.id]);
    expect(dead).toHaveLength(1);
    expect(await listUnrouted({ url: AMQP_URL, namespace })).toEqual([]);
  });

  it('dead-letters a body published under a routing key that is not its type, without a handler run', async () => {
    await using bus = testBus();
    const other: string[] = [];
    await bus.subscribe('both', [
      on(ThingHappened, async () => {}),
      on(OtherThingHappened, async (e) => void other.push(e.id)),
    ]);
    const dead: string[] = [];
    bus.onDeadLetter((d) => dead.push(d.reason));
    await using raw = await rawClient(AMQP_URL);
    const body = Buffer.from(
      OtherThingHappened.encode(OtherThingHappened.fromPartial({ id: 'smuggled' })).finish(),
    );
    const exchange = bus.names.exchange(ThingHappened.$type);
    await publishAndWait(
      raw.ch,
      exchange,
      ThingHappened.$type,
      body,
      props(OtherThingHappened.$type, 'rogue'),
    );
    await until(() => dead.length === 1);
    expect(dead).toEqual([AmqpReason.ROUTING_MISMATCH]);
    expect(other).toEqual([]);
  });

  it('stamps user_id with the URL user, or brokerUser when given', async () => {
    await using bus = testBus();
    const seen: (string | undefined)[] = [];
    const conn = await connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      await bus.publish(ThingHappened, { id: 'bind-first' });
      await ch.bindQueue(q, bus.names.exchange(ThingHappened.$type), '#');
      await ch.consume(q, (m) => m && seen.push(m.properties.userId as string | undefined), { noAck: true });
      await bus.publish(ThingHappened, { id: 'stamped' });
      await until(() => seen.length === 1);
      expect(seen).toEqual([new URL(AMQP_URL).username || 'guest']);
    } finally {
      await conn.close();
    }
    expect(() => testBus({ brokerUser: '' })).toThrow(/brokerUser/);
  });

  it('derives per-service permissions: own exchanges writable, consumed ones bindable only', () => {
    const p = servicePermissions({
      user: 'ai',
      password: 'x',
      namespace: 'rf',
      publishes: ['refront.ai.v1'],
      consumes: ['refront.tickets.v1'],
      groups: ['ai'],
    });
    const w = new RegExp(p.write);
    const r = new RegExp(p.read);
    expect(w.test('rf.refront.ai.v1')).toBe(true);
    expect(w.test('rf.refront.tickets.v1')).toBe(false);
    expect(r.test('rf.refront.tickets.v1')).toBe(true);
    expect(r.test('rf.ai.retry.1000ms') && r.test('rf.ai.dlq') && r.test('rf.ai')).toBe(true);
    expect(r.test('rf.billing') || r.test('rf.billing.dlq')).toBe(false);
    expect(() => servicePermissions({ user: 'a b', password: 'x', publishes: [] })).toThrow(/plain name/);
  });
});

describe.skipIf(!up)('createServiceBrokerUser (real RabbitMQ)', () => {
  it("creates a user whose password starts with '-', which rabbitmqctl would read as an option", async () => {
    const user = `dash-${suffix()}`;
    const password = `-X${randomBytes(12).toString('hex')}`;
    try {
      await createServiceBrokerUser({
        user,
        password,
        namespace: `dash${suffix()}`,
        publishes: [],
        consumes: [],
        groups: [],
      });
      // And again: the existing user's password is changed the same way.
      await createServiceBrokerUser({
        user,
        password,
        namespace: `dash${suffix()}`,
        publishes: [],
        consumes: [],
        groups: [],
      });
      const url = new URL(AMQP_URL);
      url.username = user;
      url.password = password;
      const conn = await connect(url.toString());
      await conn.close();
    } finally {
      await deleteBrokerUser(user);
    }
  });
});
