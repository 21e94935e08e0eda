import { createRequestContext, on, runWithContext } from '@refront/core';
import { OtherThingHappened, ThingHappened } from '@refront/test-contracts';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AmqpErrors } from './errors.js';
import { AMQP_URL, infraAvailable, killConnection, logger, testBus, until } from './testing/broker.js';

const up = await infraAvailable('rabbitmq');

describe.skipIf(!up)('AMQP event bus (real RabbitMQ)', () => {
  it('delivers every event to every group bound to it, with the whole envelope', async () => {
    await using bus = testBus();
    const a: number[] = [];
    const seen: unknown[] = [];
    await bus.subscribe('group-a', [on(ThingHappened, async (e) => void a.push(e.sequence))]);
    await bus.subscribe('group-b', [on(ThingHappened, async (_e, ctx) => void seen.push(ctx.envelope))]);
    const ctx = createRequestContext({ service: 'gateway', logger, tenant: 'acme' });
    const sent = await runWithContext(ctx, () =>
      bus.publish(ThingHappened, { id: 'one', sequence: 1 }, { key: 'agg-1', correlationId: 'flow-7' }),
    );
    for (let i = 2; i <= 50; i++) await bus.publish(ThingHappened, { id: `t${i}`, sequence: i });
    await until(() => a.length === 50 && seen.length === 50);
    expect(a.sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const got = seen.find((e) => (e as { id: string }).id === sent.id);
    expect(got).toEqual({ ...sent, traceparent: sent.traceparent, causationId: undefined });
    expect(got).toMatchObject({ tenant: 'acme', key: 'agg-1', correlationId: 'flow-7', source: 'amqp-test' });
  });

  it('retries with growing delays through the retry queues, then dead-letters with reason, attempts and routing key', async () => {
    await using bus = testBus();
    const at: number[] = [];
    await bus.subscribe(
      'poisoned',
      [
        on(ThingHappened, async (_e, ctx) => {
          at.push(Date.now());
          expect(ctx.attempt).toBe(at.length);
          throw new Error('database is on fire');
        }),
      ],
      { retryDelaysMs: [100, 400] },
    );
    const env = await bus.publish(ThingHappened, { id: 'poison', sequence: 1 });
    const dead = await waitForDead(bus, 'poisoned', 1);
    expect(at).toHaveLength(3);
    const gap1 = at[1]! - at[0]!;
    const gap2 = at[2]! - at[1]!;
    expect(gap1).toBeGreaterThanOrEqual(95);
    expect(gap2).toBeGreaterThanOrEqual(395);
    expect(gap2).toBeGreaterThan(gap1);
    expect(dead[0]).toMatchObject({ group: 'poisoned', reason: 'CORE_ATTEMPTS_EXHAUSTED', attempts: 3 });
    expect(dead[0]!.error).toContain('database is on fire');
    expect(dead[0]!.envelope.id).toBe(env.id);
    const raw = await rawDeadLetter(bus.names.deadLetterQueue('poisoned'));
    expect(raw).toMatchObject({
      'x-refront-dead-reason': 'CORE_ATTEMPTS_EXHAUSTED',
      'x-refront-attempts': 3,
      'x-refront-original-routing-key': ThingHappened.$type,
      'x-refront-original-exchange': bus.names.exchange(ThingHappened.$type),
    });
  });

  it('dead-letters a body that does not decode at once, without calling the handler', async () => {
    await using bus = testBus();
    let calls = 0;
    await bus.subscribe('strict', [on(ThingHappened, async () => void calls++)]);
    await bus.publishRaw(
      {
        id: 'garbage-1',
        type: ThingHappened.$type,
        schemaVersion: 1,
        contentType: 'application/x-protobuf',
        timestamp: Date.now(),
        source: 'rogue',
      },
      new Uint8Array([0x0a, 0xff, 0xff]),
    );
    const dead = await waitForDead(bus, 'strict', 1);
    expect(calls).toBe(0);
    expect(dead[0]).toMatchObject({ reason: 'CORE_DECODE_FAILED', attempts: 1 });
    expect(dead[0]!.error).toContain('does not decode');
  });

  it('dead-letters a body with field number 0 or a lone end-group tag, which would decode leniently as a partial event', async () => {
    await using bus = testBus();
    let calls = 0;
    await bus.subscribe('strict-wire', [on(ThingHappened, async () => void calls++)]);
    const bodies = { 'field-0': [0x0a, 0x01, 0x61, 0x00, 0x10, 0x07], 'end-group': [0x0c] };
    for (const [id, body] of Object.entries(bodies)) {
      const envelope = {
        id,
        type: ThingHappened.$type,
        schemaVersion: 1,
        timestamp: Date.now(),
        source: 'rogue',
      };
      await bus.publishRaw({ ...envelope, contentType: 'application/x-protobuf' }, new Uint8Array(body));
    }
    const dead = await waitForDead(bus, 'strict-wire', 2);
    expect(calls).toBe(0);
    expect(dead.map((d) => [d.envelope.id, d.reason, d.attempts]).sort()).toEqual([
      ['end-group', 'CORE_DECODE_FAILED', 1],
      ['field-0', 'CORE_DECODE_FAILED', 1],
    ]);
    expect(dead.find((d) => d.envelope.id === 'field-0')!.error).toContain('field number 0 at offset 3');
  });

  it('dead-letters a type the group does not handle and a delivery without an envelope, never leaving them unacked', async () => {
    await using bus = testBus();
    const sub = await bus.subscribe('narrow', [on(ThingHappened, async () => {})], { concurrency: 1 });
    await bus.send('narrow', OtherThingHappened, { id: 'stray' });
    const conn = await connect(AMQP_URL);
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(bus.names.queue('narrow'), Buffer.from('no envelope'), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    const dead = await waitForDead(bus, 'narrow', 2);
    expect(dead.map((d) => d.reason).sort()).toEqual(['AMQP_INVALID_ENVELOPE', 'CORE_NO_HANDLER']);
    await sub.close();
    expect(await readyCount(bus.names.queue('narrow'))).toBe(0);
  });

  it('reads what the broker dead-lettered itself with a declared reason: AMQP_DELIVERY_LIMIT, else AMQP_BROKER_DEAD_LETTERED', async () => {
    await using bus = testBus({ deliveryLimit: 1 });
    const sub = await bus.subscribe('crashing', [on(ThingHappened, async () => {})]);
    await sub.close();
    const crash = await bus.send('crashing', ThingHappened, { id: 'crash' });
    const conn = await connect(AMQP_URL);
    try {
      // A consumer that crashes with the message unacked, until the delivery limit dead-letters it.
      await until(async () => {
        const ch = await conn.createChannel();
        await ch.get(bus.names.queue('crashing'), { noAck: false });
        await ch.close();
        return (await bus.deadLetters('crashing')).length === 1;
      });
      // An operator's TTL queue dead-lettering into the group's DLQ.
      const ch = await conn.createConfirmChannel();
      const expiring = `${bus.names.namespace}.expiring`;
      await ch.assertQueue(expiring, {
        arguments: {
          'x-message-ttl': 0,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': bus.names.deadLetterQueue('crashing'),
        },
      });
      ch.sendToQueue(expiring, Buffer.from('late'), { messageId: 'expired', type: ThingHappened.$type });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const dead = await waitForDead(bus, 'crashing', 2);
    expect(dead.map((d) => [d.reason, d.envelope.id, d.error]).sort()).toEqual([
      [AmqpErrors.BROKER_DEAD_LETTERED.reason, 'expired', 'dead-lettered by the broker: expired'],
      [AmqpErrors.DELIVERY_LIMIT.reason, crash.id, AmqpErrors.DELIVERY_LIMIT.format()],
    ]);
  });

  it('takes JSON from a raw AMQP publisher and dead-letters a content type it cannot decode', async () => {
    await using bus = testBus();
    const got: string[] = [];
    const sub = await bus.subscribe('polyglot', [
      on(ThingHappened, async (e) => void got.push(`${e.id}#${e.sequence}`)),
    ]);
    const conn = await connect(AMQP_URL);
    const ch = await conn.createConfirmChannel();
    const queue = bus.names.queue('polyglot');
    // What a publisher in another language sends: no Refront headers, a JSON body.
    const props = (messageId: string, contentType: string) => ({
      persistent: true,
      messageId,
      type: ThingHappened.$type,
      contentType,
    });
    ch.sendToQueue(queue, Buffer.from('{"id":"order-7","sequence":7}'), props('json-1', 'application/json'));
    // "hello" decodes as protobuf into an event of defaults: it must go to the DLQ, not to the handler.
    ch.sendToQueue(queue, Buffer.from('hello'), props('text-1', 'text/plain'));
    await ch.waitForConfirms();
    await conn.close();
    const dead = await waitForDead(bus, 'polyglot', 1);
    await until(() => got.length === 1);
    expect(got).toEqual(['order-7#7']);
    expect(dead[0]).toMatchObject({ reason: 'CORE_UNSUPPORTED_CONTENT_TYPE', attempts: 1 });
    expect(dead[0]!.envelope).toMatchObject({ id: 'text-1', contentType: 'text/plain' });
    await sub.close();
    expect(await readyCount(queue)).toBe(0);
  });

  it('sends a command to one group only, and refuses a group that never subscribed', async () => {
    await using bus = testBus();
    const billing: string[] = [];
    const other: string[] = [];
    await bus.subscribe('billing', [on(ThingHappened, async (e) => void billing.push(e.id))]);
    await bus.subscribe('listener', [on(ThingHappened, async (e) => void other.push(e.id))]);
    await bus.send('billing', ThingHappened, { id: 'cmd-1' });
    await until(() => billing.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(other).toEqual([]);
    await expect(bus.send('nobody', ThingHappened, { id: 'x' })).rejects.toMatchObject({
      status: 'NOT_FOUND',
      reason: 'AMQP_UNROUTABLE',
    });
    await expect(bus.send('bad name!', ThingHappened, {})).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
  });

  it('rejects a publish the broker nacks, and confirms the others', async () => {
    await using bus = testBus();
    // A queue that refuses messages beyond one: the broker nacks the second publish.
    const conn = await connect(AMQP_URL);
    const ch = await conn.createChannel();
    const exchange = bus.names.exchange(ThingHappened.$type);
    const full = `${bus.names.queue('full')}`;
    await ch.assertExchange(exchange, 'topic', {
      durable: true,
      alternateExchange: bus.names.unroutedExchange,
    });
    // A classic queue enforces its length exactly (a quorum queue may overshoot briefly).
    await ch.assertQueue(full, {
      durable: true,
      arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
    });
    await ch.bindQueue(full, exchange, ThingHappened.$type);
    await conn.close();
    await bus.publish(ThingHappened, { id: 'fits' });
    await expect(bus.publish(ThingHappened, { id: 'overflows' })).rejects.toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'AMQP_PUBLISH_NACKED',
      retryable: true,
    });
  });

  it('fails a publish it cannot confirm in time with UNAVAILABLE, and is not ready while unreachable', async () => {
    await using bus = testBus({ url: 'amqp://guest:guest@127.0.0.1:1', publishTimeoutMs: 300 });
    expect(bus.isReady()).toBe(false);
    await expect(bus.publish(ThingHappened, { id: 'lost' })).rejects.toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'AMQP_PUBLISH_TIMEOUT',
    });
    expect(bus.connectionState).not.toBe('connected');
  });

  it('reconnects after the broker closes its connection, recovering topology and consumers', async () => {
    await using bus = testBus({ reconnectDelayMs: 50 });
    const states: string[] = [];
    bus.onStateChange((s) => states.push(s));
    const got = new Set<string>();
    await bus.subscribe('survivor', [on(ThingHappened, async (e) => void got.add(e.id))]);
    await bus.publish(ThingHappened, { id: 'before' });
    await until(() => got.has('before'));
    expect(bus.isReady()).toBe(true);
    expect(await killConnection(bus.connectionName)).toBe(true);
    await until(() => states.includes('disconnected'));
    const during = bus.publish(ThingHappened, { id: 'during' });
    await until(() => bus.isReady());
    await during;
    await bus.publish(ThingHappened, { id: 'after' });
    await until(() => got.has('during') && got.has('after'));
    expect(states).toEqual(['connected', 'disconnected', 'connected']);
    // Declaring the same group again (a restart) meets the same arguments: no PRECONDITION_FAILED.
    await using again = testBus({ namespace: bus.names.namespace });
    await expect(again.subscribe('survivor', [on(ThingHappened, async () => {})])).resolves.toBeDefined();
  });

  it('closes gracefully: in-flight handlers finish and are acked', async () => {
    const bus = testBus();
    let finished = 0;
    const sub = await bus.subscribe('slow', [
      on(ThingHappened, async () => {
        await new Promise((r) => setTimeout(r, 200));
        finished++;
      }),
    ]);
    for (let i = 0; i < 5; i++) await bus.publish(ThingHappened, { id: `s${i}` });
    await until(() => bus.isReady());
    await new Promise((r) => setTimeout(r, 50));
    await sub.close();
    expect(finished).toBe(5);
    expect(await readyCount(bus.names.queue('slow'))).toBe(0);
    await bus[Symbol.asyncDispose]();
    await expect(bus.publish(ThingHappened, { id: 'late' })).rejects.toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'CORE_CLOSED',
    });
  });

  it('rejects invalid options with CORE_INVALID_OPTION', async () => {
    await using bus = testBus();
    expect(() => testBus({ url: 'http://x' })).toThrow(/amqp/);
    expect(() => testBus({ maxUnconfirmed: 0 })).toThrow(/maxUnconfirmed/);
    await expect(bus.subscribe('bad name!', [])).rejects.toMatchObject({ reason: 'CORE_INVALID_OPTION' });
    await expect(bus.subscribe('ok', [], { retryDelaysMs: [1.5] })).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
    await expect(bus.subscribe('ok', [], { concurrency: 0 })).rejects.toMatchObject({
      reason: 'CORE_INVALID_OPTION',
    });
  });
});

async function waitForDead(bus: ReturnType<typeof testBus>, group: string, n: number) {
  let dead: Awaited<ReturnType<typeof bus.deadLetters>> = [];
  await until(async () => {
    dead = await bus.deadLetters(group);
    return dead.length >= n;
  });
  return dead;
}

async function rawDeadLetter(queue: string): Promise<Record<string, unknown>> {
  const conn = await connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    const msg = await ch.get(queue, { noAck: false });
    if (!msg) throw new Error(`no message in ${queue}`);
    return msg.properties.headers ?? {};
  } finally {
    await conn.close();
  }
}

async function readyCount(queue: string): Promise<number> {
  const conn = await connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
  }
}
