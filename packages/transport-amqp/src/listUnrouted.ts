import { peekQueue } from './internal/peekQueue.js';
import { unroutedMessageOf, withUnroutedQueue } from './internal/unroutedAccess.js';
import type { UnroutedMessage, UnroutedQueueOptions } from './UnroutedMessage.js';

/**
 * Lists parked (unrouted) events without removing them: they are read unacknowledged and put
 * back when the reading channel closes.
 *
 * @throws RefrontError NOT_FOUND `AMQP_NO_UNROUTED_QUEUE` when the namespace has no parked queue;
 *   INVALID_ARGUMENT `CORE_INVALID_OPTION` for neither or both of url and connection, or a bad limit.
 * @example
 * for (const m of await listUnrouted({ url: 'amqp://guest:guest@127.0.0.1:5672', limit: 20 }))
 *   console.log(m.exchange, m.routingKey, m.messageId);
 */
export function listUnrouted(options: UnroutedQueueOptions): Promise<UnroutedMessage[]> {
  return withUnroutedQueue(options, (model, names, messages) =>
    peekQueue(model, names.unroutedQueue, Math.min(messages, options.limit ?? messages), unroutedMessageOf),
  );
}
