import { invalidOption } from '@refront/core/transport';
import { type ChannelModel, type ConfirmChannel, connect, type GetMessage } from 'amqplib';
import type { DeadLetterQueueOptions } from '../deadLetterQueue.js';
import { AmqpErrors } from '../errors.js';
import { topologyNames } from '../names.js';
import { DEFAULT_NAMESPACE } from '../options.js';

/** What {@link eachDeadLetter} did. */
export interface Selection {
  /** Event ids acted on, in queue order (an id dead-lettered twice is there twice). */
  readonly done: string[];
  /** Messages the queue held at the start that were not acted on. */
  readonly left: number;
  /** Ids asked for that the queue does not hold. */
  readonly missing: string[];
}

/**
 * Checks the options, opens (or borrows) a connection, and runs `fn` on a confirm channel with the
 * group's dead-letter queue and the messages it holds now.
 * @throws RefrontError NOT_FOUND `AMQP_NO_DEAD_LETTER_QUEUE`; INVALID_ARGUMENT `CORE_INVALID_OPTION`.
 */
export async function withDeadLetterQueue<R>(
  options: DeadLetterQueueOptions,
  fn: (ch: ConfirmChannel, queue: string, messages: number) => Promise<R>,
): Promise<R> {
  if ((options.url === undefined) === (options.connection === undefined))
    throw invalidOption('pass either url or connection');
  options.signal?.throwIfAborted();
  const names = topologyNames(options.namespace ?? DEFAULT_NAMESPACE);
  const queue = names.deadLetterQueue(options.group);
  const own = options.url === undefined ? undefined : await connect(options.url);
  own?.on('error', () => {});
  const model = (own ?? options.connection) as ChannelModel;
  try {
    // A missing queue closes the channel: a channel of its own for the check.
    const check = await model.createChannel();
    check.on('error', () => {});
    let messages: number;
    try {
      messages = (await check.checkQueue(queue)).messageCount;
    } catch (e: unknown) {
      if ((e as { code?: unknown } | null)?.code !== 404) throw e;
      throw AmqpErrors.NO_DEAD_LETTER_QUEUE.with({ cause: e }, queue, options.group, names.namespace);
    } finally {
      await check.close().catch(() => {});
    }
    const ch = await model.createConfirmChannel();
    ch.on('error', () => {});
    try {
      return await fn(ch, queue, messages);
    } finally {
      // Messages read and not acknowledged go back to the queue, in their order.
      await ch.close().catch(() => {});
    }
  } finally {
    await own?.close().catch(() => {});
  }
}

/**
 * Reads at most the `messages` the queue held at the start (so what fails again meanwhile waits
 * for the next call) and runs `act` on each whose event id is in `ids` (every one without `ids`),
 * then acks it; the others go back when the channel closes.
 */
export async function eachDeadLetter(
  ch: ConfirmChannel,
  queue: string,
  messages: number,
  ids: readonly string[] | undefined,
  act: (msg: GetMessage) => Promise<void>,
  signal?: AbortSignal,
): Promise<Selection> {
  const wanted = ids ? new Set(ids) : undefined;
  const found = new Set<string>();
  const done: string[] = [];
  for (let seen = 0; seen < messages; seen++) {
    signal?.throwIfAborted();
    const msg = await ch.get(queue, { noAck: false });
    if (msg === false) break;
    const id = typeof msg.properties.messageId === 'string' ? msg.properties.messageId : '';
    if (wanted && !wanted.has(id)) continue;
    found.add(id);
    await act(msg);
    ch.ack(msg);
    done.push(id);
  }
  const missing = wanted ? [...wanted].filter((id) => !found.has(id)) : [];
  return { done, left: messages - done.length, missing };
}
