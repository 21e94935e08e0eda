import type { Socket } from 'node:net';
import type { EventEnvelope } from '@refront/core/transport';
import { type ChannelModel, type ConfirmChannel, connect, type Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AMQP_URL, infraAvailable, suffix } from '../testing/broker.js';
import { toPublishOptions } from './amqpEnvelope.js';
import {
  closedBeforeConfirm,
  confirmSender,
  corkWrites,
  hasChannelInternals,
  muxOf,
} from './amqplibInternals.js';

const up = await infraAvailable('rabbitmq');

// These tests pin down what amqplibInternals.ts assumes about amqplib's private code. When one
// fails after an amqplib upgrade, the optimization it guards silently stopped working (or worse):
// adapt amqplibInternals.ts to the new internals, or drop the optimization (decision 0044).

/** The socket under amqplib's connection (a private field; only these tests read it). */
function socketOf(model: ChannelModel): Socket {
  return (model as unknown as { connection: { stream: Socket } }).connection.stream;
}

/** Counts the socket writes under amqplib's connection (single writes and vectored ones). */
function countWrites(model: ChannelModel): { single: number; vectored: number; chunks: number } {
  const socket = socketOf(model);
  const counts = { single: 0, vectored: 0, chunks: 0 };
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._write = (chunk, encoding, cb) => {
    counts.single++;
    counts.chunks++;
    write(chunk, encoding, cb);
  };
  if (writev)
    socket._writev = (chunks, cb) => {
      counts.vectored++;
      counts.chunks += chunks.length;
      writev(chunks, cb);
    };
  return counts;
}

/** Publishes `n` messages in one turn to a fresh queue and waits for every confirm; returns what the queue holds. */
async function publishBurst(model: ChannelModel, n: number): Promise<number> {
  const ch = await model.createConfirmChannel();
  const queue = `cork-${suffix()}`;
  await ch.assertQueue(queue, { durable: false, autoDelete: false });
  for (let i = 0; i < n; i++) ch.sendToQueue(queue, Buffer.from(`message ${i}`), { messageId: String(i) });
  await ch.waitForConfirms();
  const { messageCount } = await ch.checkQueue(queue);
  await ch.deleteQueue(queue);
  await ch.close();
  return messageCount;
}

async function withConnection<T>(fn: (model: ChannelModel) => Promise<T>): Promise<T> {
  const model = await connect(AMQP_URL);
  model.on('error', () => {});
  try {
    return await fn(model);
  } finally {
    await model.close().catch(() => {});
  }
}

type Sent = { fields: Record<string, unknown>; properties: unknown; content: Buffer };

/** The fields with the headers flattened (amqplib's codec reads them with for…in, inherited or not). */
function normalized(fields: Record<string, unknown>): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  const h = fields.headers as Record<string, unknown>;
  for (const k in h) headers[k] = h[k];
  return { ...fields, headers };
}

const envelope: EventEnvelope = {
  id: '0b8f3c1e-7a8d-4f53-9d62-1a2b3c4d5e6f',
  type: 'refront.testing.v1.ThingHappened',
  schemaVersion: 2,
  contentType: 'application/x-protobuf',
  timestamp: 1_764_000_000_123,
  source: 'tickets',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  causationId: 'c-1',
  correlationId: 'k-1',
  tenant: 't-1',
  key: 'order-1',
};

const cases: [string, Options.Publish][] = [
  ['an event', toPublishOptions(envelope)],
  ['a command', { ...toPublishOptions(envelope), mandatory: true }],
  ['no headers', { persistent: false, messageId: 'm', type: 't' }],
  [
    'deliveryMode and expiration',
    { deliveryMode: 2, expiration: 5000, priority: 3, replyTo: 'r', userId: 'guest' },
  ],
  ['truthy deliveryMode', { deliveryMode: true, contentEncoding: 'gzip', headers: { a: 1, b: 'x' } }],
];

describe.skipIf(!up)('amqplib internals: the connection muxer (corkWrites, real RabbitMQ)', () => {
  it('has a muxer writing to the socket, whose _readIncoming moves the frames', async () => {
    await withConnection(async (model) => {
      const mux = muxOf(model);
      expect(mux, 'model.connection.muxer with _readIncoming and out.cork/uncork').toBeDefined();
      expect(mux!.out).toBe(socketOf(model));
      // Frames reach the socket only through _readIncoming: with it stubbed, nothing is written.
      const read = mux!._readIncoming;
      let loops = 0;
      mux!._readIncoming = function counted(this: typeof mux) {
        loops++;
        read.call(this);
      };
      expect(await publishBurst(model, 10)).toBe(10);
      expect(loops).toBeGreaterThan(0);
    });
  });

  it('writes a burst of frames with a few vectored writes instead of one write per message, losing none', async () => {
    await withConnection(async (model) => {
      expect(corkWrites(model)).toBe(true);
      expect(corkWrites(model)).toBe(true); // idempotent: wrapped once
      const counts = countWrites(model);
      expect(await publishBurst(model, 500)).toBe(500);
      expect(counts.chunks).toBeGreaterThanOrEqual(500);
      expect(counts.vectored).toBeGreaterThan(0);
      // Without corking each of the 500 frames is its own write (see the next test).
      expect(counts.single + counts.vectored).toBeLessThan(100);
    });
  });

  it('leaves a connection it was not asked to cork writing one frame at a time', async () => {
    await withConnection(async (model) => {
      const counts = countWrites(model);
      expect(await publishBurst(model, 500)).toBe(500);
      expect(counts.single).toBeGreaterThanOrEqual(500);
    });
  });

  it('does nothing to an object without amqplib internals', () => {
    expect(corkWrites({} as ChannelModel)).toBe(false);
    expect(corkWrites({ connection: { muxer: {} } } as unknown as ChannelModel)).toBe(false);
  });
});

describe.skipIf(!up)('amqplib internals: confirm channels (confirmSender, real RabbitMQ)', () => {
  it('hands amqplib the fields ConfirmChannel#publish would, in the same calls and order', async () => {
    await withConnection(async (conn) => {
      const ch: ConfirmChannel = await conn.createConfirmChannel();
      expect(hasChannelInternals(ch), 'ConfirmChannel#sendMessage and #pushConfirmCallback').toBe(true);
      const proto = Object.getPrototypeOf(ch) as ConfirmChannel;
      const content = Buffer.from('body');
      for (const [name, options] of cases) {
        // What the public publish passes down, recorded on a stand-in channel.
        const expected: Sent[] = [];
        const expectedCalls: string[] = [];
        const standIn = {
          sendMessage: (fields: Record<string, unknown>, properties: unknown, c: Buffer) => {
            expectedCalls.push('sendMessage');
            expected.push({ fields, properties, content: c });
            return true;
          },
          pushConfirmCallback: () => expectedCalls.push('pushConfirmCallback'),
        };
        const cb = () => {};
        proto.publish.call(standIn, 'ex', 'rk', content, options, cb);

        // What the fast path passes down on the same kind of channel.
        const actual: Sent[] = [];
        const actualCalls: string[] = [];
        const spied = Object.create(ch) as ConfirmChannel & typeof standIn;
        spied.sendMessage = (fields, properties, c) => {
          actualCalls.push('sendMessage');
          actual.push({ fields, properties, content: c });
          return true;
        };
        spied.pushConfirmCallback = () => actualCalls.push('pushConfirmCallback');
        expect(confirmSender(spied)('ex', 'rk', content, options, cb), name).toBe(true);

        expect(actualCalls, name).toEqual(expectedCalls);
        expect(actual[0]!.fields, name).toBe(actual[0]!.properties);
        expect(normalized(actual[0]!.fields), name).toEqual(normalized(expected[0]!.fields));
        expect(actual[0]!.content, name).toBe(content);
        // The fast path, not publish: the headers go down as they are, not as a prototype.
        if (options.headers) expect(actual[0]!.fields.headers, name).toBe(options.headers);
      }
      await ch.close();
    });
  });

  it('uses the public publish for CC/BCC, which amqplib rewrites into headers', async () => {
    await withConnection(async (conn) => {
      const ch: ConfirmChannel = await conn.createConfirmChannel();
      const spied = Object.create(ch) as ConfirmChannel;
      let viaPublish = 0;
      spied.publish = () => {
        viaPublish++;
        return true;
      };
      confirmSender(spied)('ex', 'rk', Buffer.from('x'), { CC: 'other' }, () => {});
      expect(viaPublish).toBe(1);
      await ch.close();
    });
  });

  it('delivers what the fast path sends and calls its confirm callbacks on the acks, in order', async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createConfirmChannel();
      const queue = `internals-${suffix()}`;
      await ch.assertQueue(queue, { durable: false });
      const send = confirmSender(ch);
      const confirmed: [number, unknown][] = [];
      const all = Array.from(
        { length: 20 },
        (_, i) =>
          new Promise<void>((resolve) =>
            send('', queue, Buffer.from(`m${i}`), { messageId: `m${i}`, headers: { n: i } }, (err) => {
              confirmed.push([i, err]);
              resolve();
            }),
          ),
      );
      await Promise.all(all);
      expect(confirmed).toEqual(Array.from({ length: 20 }, (_, i) => [i, null]));
      const got = await ch.get(queue, { noAck: true });
      expect(got && [got.content.toString(), got.properties.messageId, got.properties.headers]).toEqual([
        'm0',
        'm0',
        { n: 0 },
      ]);
      expect((await ch.checkQueue(queue)).messageCount).toBe(19);
      await ch.deleteQueue(queue);
      await ch.close();
    });
  });

  it('fails the confirm callbacks of a channel that closes with the error closedBeforeConfirm recognizes, and a nack with another', async () => {
    await withConnection(async (conn) => {
      // A queue that takes one message: the broker nacks the second.
      const ch = await conn.createConfirmChannel();
      ch.on('error', () => {});
      const queue = `internals-full-${suffix()}`;
      await ch.assertQueue(queue, {
        durable: false,
        arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
      });
      const send = confirmSender(ch);
      const outcome = (exchange: string) =>
        new Promise<unknown>((resolve) => send(exchange, queue, Buffer.from('x'), {}, (err) => resolve(err)));
      expect(await outcome('')).toBeNull();
      const nacked = await outcome('');
      expect(nacked).toBeInstanceOf(Error);
      expect(closedBeforeConfirm(nacked)).toBe(false);
      // A publish to a missing exchange makes the broker close the channel before confirming it.
      const lost = await outcome(`missing-${suffix()}`);
      expect(lost).toBeInstanceOf(Error);
      expect(closedBeforeConfirm(lost), String(lost)).toBe(true);
      const admin = await conn.createChannel();
      await admin.deleteQueue(queue);
      await admin.close();
    });
  });

  it('throws on a send after the channel closed, with neither a RangeError nor a TypeError (requeued, not failed)', async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createConfirmChannel();
      const send = confirmSender(ch);
      await ch.close();
      let thrown: unknown;
      try {
        send('', 'any', Buffer.from('x'), {}, () => {});
      } catch (e: unknown) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).name).toBe('IllegalOperationError');
      expect(thrown instanceof RangeError || thrown instanceof TypeError).toBe(false);
    });
  });
});
