import type { DeadLetter } from '@refront/core/transport';
import type { ChannelModel, ConfirmChannel, GetMessage, Options } from 'amqplib';
import { AmqpErrors } from './errors.js';
import { deadLetterOf, forwardOptions, HEADERS } from './internal/amqpEnvelope.js';
import { eachDeadLetter, withDeadLetterQueue } from './internal/deadLetterAccess.js';
import { urlUser } from './internal/urlUser.js';
import { topologyNames } from './names.js';
import { DEFAULT_NAMESPACE } from './options.js';

/** Where a consumer group's dead-letter queue (`<ns>.<group>.dlq`) is. */
export interface DeadLetterQueueOptions {
  /** Broker URL; a connection is opened for the call and closed after. Give this or `connection`. */
  readonly url?: string;
  /** An open amqplib connection to use (left open). Give this or `url`. */
  readonly connection?: ChannelModel;
  /** The bus namespace. @default DEFAULT_NAMESPACE ('refront') */
  readonly namespace?: string;
  /** The consumer group. */
  readonly group: string;
  /** Stops between messages once aborted (what was done stays done). */
  readonly signal?: AbortSignal;
}

/** Options of {@link replayDeadLetters} and {@link discardDeadLetters}. */
export interface DeadLetterSelection extends DeadLetterQueueOptions {
  /** Only the messages with these event ids (`message-id`). @default every message the queue holds */
  readonly ids?: readonly string[];
}

/** Options of {@link replayDeadLetters}. */
export interface ReplayDeadLettersOptions extends DeadLetterSelection {
  /**
   * The broker user the connection logged in as. @default the URL's user name, else `guest`
   */
  readonly brokerUser?: string;
  /**
   * The connection's user has RabbitMQ's `impersonator` tag: a replay keeps every dead letter's
   * `user-id` (the group's own broker user), so a consumer with ownership checks on trusts it as
   * it trusted the original. Without it only the dead letters whose `user-id` is the connection's
   * keep it. @default false
   */
  readonly impersonate?: boolean;
}

/** What {@link replayDeadLetters} or {@link discardDeadLetters} did. */
export interface DeadLetterResult {
  /** Event ids replayed (or discarded), in queue order. */
  readonly ids: readonly string[];
  /** Messages the queue held at the start that are still there. */
  readonly left: number;
  /** Ids asked for with `ids` that the queue does not hold. */
  readonly missing: readonly string[];
}

/** The headers a consumer writes when it retries or dead-letters: a replay starts at attempt 1. */
const DEAD_HEADERS: readonly string[] = [
  HEADERS.deadReason,
  HEADERS.deadError,
  HEADERS.deadAttempts,
  HEADERS.deadGroup,
  HEADERS.deadAt,
  HEADERS.attempt,
];

/**
 * Lists up to `limit` dead letters of a consumer group without removing them: they are read
 * unacknowledged and go back, in order, when the reading channel closes. A message someone pushed
 * into the queue by hand (no envelope, a body no contract reads) is listed too, with the broker's
 * reason (`AMQP_BROKER_DEAD_LETTERED`).
 *
 * @throws RefrontError NOT_FOUND `AMQP_NO_DEAD_LETTER_QUEUE`; INVALID_ARGUMENT `CORE_INVALID_OPTION`.
 * @example
 * for (const d of await listDeadLetters({ url: 'amqp://guest:guest@127.0.0.1:5672', group: 'ai' }))
 *   console.log(d.envelope.id, d.reason, d.error);
 */
export function listDeadLetters(
  options: DeadLetterQueueOptions & { readonly limit?: number },
): Promise<DeadLetter[]> {
  return withDeadLetterQueue(options, async (ch, queue, messages) => {
    const out: DeadLetter[] = [];
    for (let i = 0; i < Math.min(messages, options.limit ?? 100); i++) {
      const msg = await ch.get(queue, { noAck: false });
      if (msg === false) break;
      out.push(deadLetterOf(options.group, msg));
    }
    return out;
  });
}

/**
 * Sends dead letters back to their group's queue through the default exchange (the group gets
 * them again, other subscribers do not), each as a first attempt with its id, type, headers and
 * body, and removes each from the dead-letter queue once the broker confirmed the copy. Reads at
 * most what the queue held at the start: one that fails again meanwhile waits for the next replay.
 *
 * With event ownership checks on (decision 0049), replay as the group's own broker user, or as a
 * user with the `impersonator` tag and `impersonate: true`: only then is the publisher the
 * consumer recorded still trusted.
 *
 * @throws RefrontError NOT_FOUND `AMQP_NO_DEAD_LETTER_QUEUE`; UNAVAILABLE `AMQP_PUBLISH_NACKED` (that
 *   message and the ones after it stay); INVALID_ARGUMENT `CORE_INVALID_OPTION`.
 * @example
 * const r = await replayDeadLetters({ url, group: 'ai', ids: ['0b6c…'] });
 */
export function replayDeadLetters(options: ReplayDeadLettersOptions): Promise<DeadLetterResult> {
  const queueOf = topologyNames(options.namespace ?? DEFAULT_NAMESPACE).queue(options.group);
  const self = options.brokerUser ?? (options.url === undefined ? 'guest' : urlUser(options.url));
  return withDeadLetterQueue(options, async (ch, queue, messages) => {
    const r = await eachDeadLetter(
      ch,
      queue,
      messages,
      options.ids,
      (msg) => republish(ch, queueOf, msg, replayOptions(msg, self, options.impersonate ?? false)),
      options.signal,
    );
    return { ids: r.done, left: r.left, missing: r.missing };
  });
}

/**
 * Drops dead letters for good (acknowledges them): the ones with `ids`, or every message the
 * queue held at the start.
 *
 * @throws RefrontError NOT_FOUND `AMQP_NO_DEAD_LETTER_QUEUE`; INVALID_ARGUMENT `CORE_INVALID_OPTION`.
 * @example
 * await discardDeadLetters({ url, group: 'ai', ids: ['0b6c…'] });
 */
export function discardDeadLetters(options: DeadLetterSelection): Promise<DeadLetterResult> {
  return withDeadLetterQueue(options, async (ch, queue, messages) => {
    const r = await eachDeadLetter(ch, queue, messages, options.ids, async () => {}, options.signal);
    return { ids: r.done, left: r.left, missing: r.missing };
  });
}

function replayOptions(msg: GetMessage, self: string, impersonate: boolean): Options.Publish {
  const options = forwardOptions(msg.properties, {});
  const headers = options.headers as Record<string, unknown>;
  for (const h of DEAD_HEADERS) delete headers[h];
  const userId = msg.properties.userId as unknown;
  // The broker refuses a user_id other than the connection's own, unless it is an impersonator.
  if (typeof userId === 'string' && (userId === self || impersonate)) options.userId = userId;
  return options;
}

function republish(
  ch: ConfirmChannel,
  queue: string,
  msg: GetMessage,
  options: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.sendToQueue(queue, msg.content, options, (err: unknown) =>
      err ? reject(AmqpErrors.PUBLISH_NACKED.with({ cause: err })) : resolve(),
    );
  });
}
