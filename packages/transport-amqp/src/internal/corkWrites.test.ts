import type { Socket } from 'node:net';
import { type ChannelModel, connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AMQP_URL, infraAvailable, suffix } from '../testing/broker.js';
import { corkWrites } from './corkWrites.js';

const up = await infraAvailable('rabbitmq');

/** Counts the socket writes under amqplib's connection (single writes and vectored ones). */
function countWrites(model: ChannelModel): { single: number; vectored: number; chunks: number } {
  const socket = (model as unknown as { connection: { stream: Socket } }).connection.stream;
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

describe.skipIf(!up)('corkWrites (real RabbitMQ)', () => {
  it('writes a burst of frames with a few vectored writes instead of one write per message, losing none', async () => {
    const model = await connect(AMQP_URL);
    try {
      expect(corkWrites(model)).toBe(true);
      expect(corkWrites(model)).toBe(true); // idempotent: wrapped once
      const counts = countWrites(model);
      expect(await publishBurst(model, 500)).toBe(500);
      expect(counts.chunks).toBeGreaterThanOrEqual(500);
      expect(counts.vectored).toBeGreaterThan(0);
      // Without corking each of the 500 frames is its own write (see the next test).
      expect(counts.single + counts.vectored).toBeLessThan(100);
    } finally {
      await model.close();
    }
  });

  it('leaves a connection it was not asked to cork writing one frame at a time', async () => {
    const model = await connect(AMQP_URL);
    try {
      const counts = countWrites(model);
      expect(await publishBurst(model, 500)).toBe(500);
      expect(counts.single).toBeGreaterThanOrEqual(500);
    } finally {
      await model.close();
    }
  });

  it('does nothing to an object without amqplib internals', () => {
    expect(corkWrites({} as ChannelModel)).toBe(false);
    expect(corkWrites({ connection: { muxer: {} } } as unknown as ChannelModel)).toBe(false);
  });
});
