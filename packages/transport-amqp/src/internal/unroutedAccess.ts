import { invalidOption } from '@refront/core/transport';
import { type ChannelModel, connect, type GetMessage } from 'amqplib';
import { AmqpErrors } from '../errors.js';
import { type TopologyNames, topologyNames } from '../names.js';
import { DEFAULT_NAMESPACE } from '../options.js';
import type { UnroutedMessage, UnroutedQueueOptions } from '../UnroutedMessage.js';

/** A parked message as tools see it. */
export function unroutedMessageOf(msg: GetMessage): UnroutedMessage {
  const p = msg.properties;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    exchange: msg.fields.exchange,
    routingKey: msg.fields.routingKey,
    messageId: str(p.messageId),
    type: str(p.type),
    source: str(p.appId),
    publisherUser: str(p.userId),
    contentType: str(p.contentType),
    headers: { ...(p.headers ?? {}) },
    body: new Uint8Array(msg.content),
  };
}

/** Validates the options and runs `fn` on the caller's connection or on one opened for it. */
export async function withUnroutedQueue<R>(
  options: UnroutedQueueOptions,
  fn: (model: ChannelModel, names: TopologyNames, messages: number) => Promise<R>,
): Promise<R> {
  if ((options.url === undefined) === (options.connection === undefined))
    throw invalidOption('pass either url or connection');
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1))
    throw invalidOption(`limit must be a positive integer, got ${options.limit}`);
  options.signal?.throwIfAborted();
  const names = topologyNames(options.namespace ?? DEFAULT_NAMESPACE);
  const own = options.url === undefined ? undefined : await connect(options.url);
  own?.on('error', () => {});
  const model = (own ?? options.connection)!;
  try {
    return await fn(model, names, await parkedCount(model, names));
  } finally {
    await own?.close().catch(() => {});
  }
}

/** Messages ready in the parked queue now. */
async function parkedCount(model: ChannelModel, names: TopologyNames): Promise<number> {
  // A missing queue closes the channel: a channel of its own.
  const ch = await model.createChannel();
  ch.on('error', () => {});
  try {
    return (await ch.checkQueue(names.unroutedQueue)).messageCount;
  } catch (e: unknown) {
    if ((e as { code?: unknown } | null)?.code !== 404) throw e;
    throw AmqpErrors.NO_UNROUTED_QUEUE.with({ cause: e }, names.unroutedQueue, names.namespace);
  } finally {
    await ch.close().catch(() => {});
  }
}
