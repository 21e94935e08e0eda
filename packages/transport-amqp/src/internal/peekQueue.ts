import type { ChannelModel, GetMessage } from 'amqplib';

/**
 * Reads up to `limit` messages of a queue without consuming them: they are fetched unacknowledged
 * on a private channel whose close puts them back.
 */
export async function peekQueue<T>(
  model: ChannelModel,
  queue: string,
  limit: number,
  map: (msg: GetMessage) => T,
): Promise<T[]> {
  const ch = await model.createChannel();
  ch.on('error', () => {});
  const out: T[] = [];
  try {
    while (out.length < limit) {
      const msg = await ch.get(queue, { noAck: false });
      if (msg === false) break;
      out.push(map(msg));
    }
  } finally {
    await ch.close().catch(() => {});
  }
  return out;
}
