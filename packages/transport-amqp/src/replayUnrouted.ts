import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, GetMessage, Options } from 'amqplib';
import { AmqpErrors } from './errors.js';
import { forwardOptions, HEADERS } from './internal/amqpEnvelope.js';
import { unroutedMessageOf, withUnroutedQueue } from './internal/unroutedAccess.js';
import { urlUser } from './internal/urlUser.js';
import type { UnroutedMessage, UnroutedQueueOptions } from './UnroutedMessage.js';

/** Options of {@link replayUnrouted}. */
export interface ReplayUnroutedOptions extends UnroutedQueueOptions {
  /** Replays only the parked events it returns true for; the others stay parked. @default all */
  readonly filter?: (message: UnroutedMessage) => boolean;
  /**
   * The broker user the connection logged in as: replay republishes only what this user (or a
   * publisher that set no `user-id`) published, with the same `user-id`.
   * @default the URL's user name, else `guest` (amqplib's default login; give it with `connection`)
   */
  readonly brokerUser?: string;
}

/** What {@link replayUnrouted} did. */
export interface ReplayUnroutedResult {
  /** Republished, confirmed, and routed to at least one queue this time. */
  readonly replayed: number;
  /** Republished and confirmed, but still without a binding: the broker parked them again. */
  readonly stillUnrouted: number;
  /** Left parked because `filter` returned false. */
  readonly skipped: number;
  /**
   * Left parked because another broker user published them, by that user: only it can replay them
   * (the broker refuses a `user-id` that is not the connection's, and stamping ours would make a
   * consumer take them for ours). Run the replay again logged in as each.
   */
  readonly otherPublishers: Readonly<Record<string, number>>;
}

/**
 * Republishes parked events, one at a time, to the exchange and routing key they were first
 * published to, with their properties, headers and message id (so inboxes drop a copy that was
 * delivered some other way), and acks each parked copy only after the broker confirmed the
 * republish. An event that still has no binding is parked again by the alternate exchange and
 * counted in `stillUnrouted`. Reads at most the messages parked when it starts (and `limit`),
 * so it never loops on what it parks again.
 *
 * Who published stays true (decision 0049): a parked event keeps its validated `user-id`, and
 * replay republishes it with that `user-id`, so only the publisher's own broker user can replay it
 * (with ownership on, that is the owning service's user). Events another user published are left
 * parked and counted by user in `otherPublishers`; events without `user-id` are republished
 * without one (consumers with ownership on refuse them, as they refused the original).
 *
 * @throws RefrontError NOT_FOUND `AMQP_NO_UNROUTED_QUEUE`; UNAVAILABLE `AMQP_PUBLISH_NACKED` when the
 *   broker refuses a republish (that message and the ones after it stay parked); INVALID_ARGUMENT
 *   `CORE_INVALID_OPTION`; the signal's reason when aborted (what was replayed stays replayed).
 * @example
 * const r = await replayUnrouted({ url: 'amqp://guest:guest@127.0.0.1:5672', filter: (m) => m.type === 'refront.tickets.v1.TicketCreated' });
 * console.log(`${r.replayed} replayed, ${r.stillUnrouted} still without a binding`);
 */
export function replayUnrouted(options: ReplayUnroutedOptions): Promise<ReplayUnroutedResult> {
  return withUnroutedQueue(options, async (model, names, messages) => {
    const queue = names.unroutedQueue;
    const run = randomUUID();
    const ch = await model.createConfirmChannel();
    ch.on('error', () => {});
    const self = options.brokerUser ?? (options.url === undefined ? 'guest' : urlUser(options.url));
    const otherPublishers: Record<string, number> = {};
    let republished = 0;
    let skipped = 0;
    try {
      // Skipped messages (and other publishers') stay unacknowledged on this channel until it closes: none is read twice.
      for (let i = 0; i < Math.min(messages, options.limit ?? messages); i++) {
        options.signal?.throwIfAborted();
        const msg = await ch.get(queue, { noAck: false });
        if (msg === false) break;
        const parked = unroutedMessageOf(msg);
        if (options.filter && !options.filter(parked)) {
          skipped++;
          continue;
        }
        const publisher = parked.publisherUser;
        if (publisher !== undefined && publisher !== self) {
          otherPublishers[publisher] = (otherPublishers[publisher] ?? 0) + 1;
          continue;
        }
        const forward = forwardOptions(msg.properties, { [HEADERS.replayRun]: run });
        await republish(ch, msg, publisher === undefined ? forward : { ...forward, userId: publisher });
        ch.ack(msg);
        republished++;
      }
      const stillUnrouted = republished === 0 ? 0 : await countParkedAgain(ch, queue, run);
      return { replayed: republished - stillUnrouted, stillUnrouted, skipped, otherPublishers };
    } finally {
      await ch.close().catch(() => {});
    }
  });
}

function republish(ch: ConfirmChannel, msg: GetMessage, options: Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.publish(msg.fields.exchange, msg.fields.routingKey, msg.content, options, (err: unknown) =>
      err ? reject(AmqpErrors.PUBLISH_NACKED.with({ cause: err })) : resolve(),
    );
  });
}

/**
 * Copies this run parked again. The confirm of a message the alternate exchange routed comes after
 * the parked queue stored it, so every such copy is in the queue now, behind what was there:
 * read what the queue holds (unacknowledged, put back on close) and count this run's header.
 */
async function countParkedAgain(ch: ConfirmChannel, queue: string, run: string): Promise<number> {
  const { messageCount } = await ch.checkQueue(queue);
  let n = 0;
  for (let i = 0; i < messageCount; i++) {
    const msg = await ch.get(queue, { noAck: false });
    if (msg === false) break;
    if (msg.properties.headers?.[HEADERS.replayRun] === run) n++;
  }
  return n;
}
