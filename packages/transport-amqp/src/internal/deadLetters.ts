import type { DeadLetter } from '@refront/core';
import type { ChannelModel } from 'amqplib';
import { deadLetterOf } from './amqpEnvelope.js';

/**
 * Reads up to `limit` messages of a dead-letter queue without consuming them: they are fetched
 * unacknowledged on a private channel whose close puts them back, in order.
 */
export async function readDeadLetters(
  model: ChannelModel,
  queue: string,
  group: string,
  limit: number,
): Promise<DeadLetter[]> {
  const ch = await model.createChannel();
  ch.on('error', () => {});
  const out: DeadLetter[] = [];
  try {
    while (out.length < limit) {
      const msg = await ch.get(queue, { noAck: false });
      if (msg === false) break;
      out.push(deadLetterOf(group, msg));
    }
  } finally {
    await ch.close().catch(() => {});
  }
  return out;
}
