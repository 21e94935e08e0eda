import type { DeadLetter } from '@refront/core/transport';
import type { ChannelModel } from 'amqplib';
import { deadLetterOf } from './amqpEnvelope.js';
import { peekQueue } from './peekQueue.js';

/** Reads up to `limit` messages of a dead-letter queue without consuming them (see peekQueue). */
export function readDeadLetters(
  model: ChannelModel,
  queue: string,
  group: string,
  limit: number,
): Promise<DeadLetter[]> {
  return peekQueue(model, queue, limit, (msg) => deadLetterOf(group, msg));
}
