import { isRefrontError, on } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpDeadLetters } from './amqpDeadLetters.js';
import { discardDeadLetters, listDeadLetters, replayDeadLetters } from './deadLetterQueue.js';
import { AmqpReason } from './errors.js';
import { AMQP_URL, infraAvailable, testBus, until } from './testing/broker.js';

const up = await infraAvailable('rabbitmq');

/** Pushes a message no Refront bus wrote straight into a dead-letter queue: no type, no envelope, no reason. */
async function forge(queue: string, messageId: string): Promise<void> {
  const conn = await connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(queue, Buffer.from([0xff, 0x00, 0x13, 0x37]), {
      messageId,
      headers: { 'x-refront-attempts': 'lots' },
    });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e: unknown) {
    return isRefrontError(e) ? e.reason : String(e);
  }
}

describe.skipIf(!up)('dead-letter queues (real RabbitMQ)', () => {
  it('lists, replays one, discards one (a forged message too) and replays all, counting deliveries', async () => {
    await using bus = testBus();
    const namespace = bus.names.namespace;
    const handled = new Map<string, number>();
    let poisoned = true;
    // One attempt, no retry: a failing event goes straight to the dead-letter queue.
    await bus.subscribe(
      'billing',
      [
        on(ThingHappened, async (e) => {
          handled.set(e.id, (handled.get(e.id) ?? 0) + 1);
          if (poisoned) throw new Error(`cannot bill ${e.id}`);
        }),
      ],
      { retryDelaysMs: [] },
    );
    const sent = [];
    for (const id of ['a', 'b', 'c']) sent.push(await bus.publish(ThingHappened, { id, sequence: 1 }));
    const at = { url: AMQP_URL, namespace, group: 'billing' };
    await until(async () => (await listDeadLetters(at)).length === 3);
    await forge(bus.names.deadLetterQueue('billing'), 'forged-1');

    const listed = await listDeadLetters(at);
    expect(listed.map((d) => d.envelope.id)).toEqual([...sent.map((s) => s.id), 'forged-1']);
    for (const d of listed.slice(0, 3)) {
      expect(d).toMatchObject({ group: 'billing', attempts: 1, envelope: { type: ThingHappened.$type } });
      expect(d.reason).toMatch(/^[A-Z_]+$/);
      expect(d.error).toContain('cannot bill');
    }
    const forged = listed[3];
    expect(forged?.reason).toBe(AmqpReason.BROKER_DEAD_LETTERED);
    expect(forged?.envelope.type).toBe('');
    expect(forged?.attempts).toBe(1);
    expect([...(forged?.body ?? [])]).toEqual([0xff, 0x00, 0x13, 0x37]);
    // Listing removed nothing.
    expect(await listDeadLetters(at)).toHaveLength(4);

    poisoned = false;
    const source = amqpDeadLetters({ url: AMQP_URL, namespace, groups: ['billing', 'never-subscribed'] });
    const [a, b, c] = sent.map((s) => s.id) as [string, string, string];
    await source.replay('billing', a);
    await until(() => handled.get('a') === 2);
    expect((await source.list()).map((d) => d.envelope.id)).toEqual([b, c, 'forged-1']);

    await source.discard('billing', 'forged-1');
    expect(await reasonOf(source.discard('billing', 'forged-1'))).toBe(AmqpReason.DEAD_LETTER_NOT_FOUND);
    expect(await reasonOf(source.replay('billing', 'nope'))).toBe(AmqpReason.DEAD_LETTER_NOT_FOUND);
    expect((await source.list('billing')).map((d) => d.envelope.id)).toEqual([b, c]);

    expect(await source.replayAll('billing')).toEqual([b, c]);
    await until(() => handled.get('b') === 2 && handled.get('c') === 2);
    expect(await source.list()).toEqual([]);
    expect(Object.fromEntries(handled)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('replays and discards nothing it was not asked for, and says which ids it did not find', async () => {
    await using bus = testBus();
    const namespace = bus.names.namespace;
    await bus.subscribe('ledger', [on(ThingHappened, async () => {})]);
    await forge(bus.names.deadLetterQueue('ledger'), 'x1');
    await forge(bus.names.deadLetterQueue('ledger'), 'x2');
    const at = { url: AMQP_URL, namespace, group: 'ledger' };
    expect(await discardDeadLetters({ ...at, ids: ['x2', 'gone'] })).toEqual({
      ids: ['x2'],
      left: 1,
      missing: ['gone'],
    });
    expect((await listDeadLetters(at)).map((d) => d.envelope.id)).toEqual(['x1']);
    expect(await replayDeadLetters({ ...at, ids: ['gone'] })).toEqual({
      ids: [],
      left: 1,
      missing: ['gone'],
    });
    expect(await discardDeadLetters(at)).toEqual({ ids: ['x1'], left: 0, missing: [] });
  });

  it('refuses a group without a dead-letter queue with AMQP_NO_DEAD_LETTER_QUEUE', async () => {
    const at = { url: AMQP_URL, namespace: 'nobody-here', group: 'ghost' };
    expect(await reasonOf(listDeadLetters(at))).toBe(AmqpReason.NO_DEAD_LETTER_QUEUE);
    expect(await reasonOf(replayDeadLetters(at))).toBe(AmqpReason.NO_DEAD_LETTER_QUEUE);
    expect(
      await reasonOf(amqpDeadLetters({ url: AMQP_URL, namespace: 'nobody-here', groups: [] }).list('ghost')),
    ).toBe(AmqpReason.NO_DEAD_LETTER_QUEUE);
  });
});
