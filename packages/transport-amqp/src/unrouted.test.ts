import { createLogger, createMetricsRegistry, type MetricsRegistry, on } from '@refront/core';
import { OtherThingHappened, ThingHappened } from '@refront/test-contracts';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { listUnrouted } from './listUnrouted.js';
import { replayUnrouted } from './replayUnrouted.js';
import { AMQP_URL, infraAvailable, testBus, until } from './testing/broker.js';

const up = await infraAvailable('rabbitmq');

/** `refront_events_unrouted_total` by `exchange|type`. */
async function unrouted(metrics: MetricsRegistry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const metric = metrics.getSingleMetric('refront_events_unrouted_total');
  for (const v of (await metric?.get())?.values ?? []) out[`${v.labels.exchange}|${v.labels.type}`] = v.value;
  return out;
}

/** A logger whose lines land in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'amqp-test',
    level: 'warn',
    destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  });
  return { logger, lines };
}

describe.skipIf(!up)('unrouted events (real RabbitMQ)', () => {
  it('parks and counts an event published before its consumer group exists, and replays it to the group once', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    const { logger, lines } = capturingLogger();
    await using bus = testBus({ metrics, logger });
    const namespace = bus.names.namespace;
    const exchange = bus.names.exchange(ThingHappened.$type);

    const sent = await bus.publish(ThingHappened, { id: 'early', sequence: 1 }); // confirmed
    await until(async () => Object.keys(await unrouted(metrics)).length > 0);
    const parked = await listUnrouted({ url: AMQP_URL, namespace });
    expect(parked.map((m) => [m.exchange, m.routingKey, m.messageId, m.type, m.source])).toEqual([
      [exchange, ThingHappened.$type, sent.id, ThingHappened.$type, 'amqp-test'],
    ]);
    expect(await unrouted(metrics)).toEqual({ [`${exchange}|${ThingHappened.$type}`]: 1 });
    const warnings = lines.filter((l) => l.messageId === sent.id);
    expect(warnings).toMatchObject([
      { level: 'warn', exchange, routingKey: ThingHappened.$type, type: ThingHappened.$type },
    ]);

    const handled = new Map<string, number>();
    await bus.subscribe('late', [
      on(ThingHappened, async (_e, ctx) => {
        handled.set(ctx.envelope.id, (handled.get(ctx.envelope.id) ?? 0) + 1);
      }),
    ]);
    expect(await replayUnrouted({ url: AMQP_URL, namespace })).toEqual({
      replayed: 1,
      stillUnrouted: 0,
      skipped: 0,
      otherPublishers: {},
    });
    await until(() => handled.size === 1);
    expect(await replayUnrouted({ url: AMQP_URL, namespace })).toEqual({
      replayed: 0,
      stillUnrouted: 0,
      skipped: 0,
      otherPublishers: {},
    });
    // A published marker behind the replayed event: once it is handled, the event had its chance to repeat.
    await bus.publish(ThingHappened, { id: 'marker' });
    await until(() => handled.size === 2);
    expect(handled.get(sent.id)).toBe(1);
    expect(await listUnrouted({ url: AMQP_URL, namespace })).toEqual([]);
    expect(await unrouted(metrics)).toEqual({ [`${exchange}|${ThingHappened.$type}`]: 1 });
  });

  it('counts an event a raw amqplib client publishes to a domain exchange under an unbound key', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    await using bus = testBus({ metrics });
    await bus.subscribe('bound', [on(ThingHappened, async () => {})]); // declares the exchange
    const exchange = bus.names.exchange(ThingHappened.$type);
    const conn = await connect(AMQP_URL);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish(exchange, 'refront.test.v1.ThingHapened', Buffer.from([]), {
        messageId: 'raw-1',
        type: 'refront.test.v1.ThingHapened',
        persistent: true,
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    await until(async () => Object.keys(await unrouted(metrics)).length > 0);
    expect(await unrouted(metrics)).toEqual({ [`${exchange}|refront.test.v1.ThingHapened`]: 1 });
    const parked = await listUnrouted({ url: AMQP_URL, namespace: bus.names.namespace });
    expect(parked.map((m) => [m.routingKey, m.messageId])).toEqual([
      ['refront.test.v1.ThingHapened', 'raw-1'],
    ]);
  });

  it('parks again what still has no binding, counts it again, and does not loop on it', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    await using bus = testBus({ metrics });
    const namespace = bus.names.namespace;
    await bus.publish(ThingHappened, { id: 'a' });
    await bus.publish(OtherThingHappened, { id: 'b' });
    await bus.publish(ThingHappened, { id: 'c' });
    const total = async () => Object.values(await unrouted(metrics)).reduce((a, b) => a + b, 0);
    await until(async () => (await total()) === 3);
    const other = (m: { type: string | undefined }) => m.type === OtherThingHappened.$type;
    expect(await replayUnrouted({ url: AMQP_URL, namespace, filter: other })).toEqual({
      replayed: 0,
      stillUnrouted: 1,
      skipped: 2,
      otherPublishers: {},
    });
    expect(await replayUnrouted({ url: AMQP_URL, namespace, limit: 2 })).toEqual({
      replayed: 0,
      stillUnrouted: 2,
      skipped: 0,
      otherPublishers: {},
    });
    await until(async () => (await total()) === 6);
    const parked = await listUnrouted({ url: AMQP_URL, namespace });
    expect(parked.map((m) => m.type).sort()).toEqual(
      [ThingHappened.$type, ThingHappened.$type, OtherThingHappened.$type].sort(),
    );
  });

  it('refuses consumer group names that would collide with the unrouted queues', async () => {
    await using bus = testBus();
    await expect(bus.subscribe('unrouted', [on(ThingHappened, async () => {})])).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
    await expect(bus.send('unrouted.notices', ThingHappened, {})).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
  });
});
