/**
 * Everything this package assumes about amqplib beyond its public API, in one place: the private
 * fields and methods two publish-path optimizations use (decision 0044), and the behaviours of
 * amqplib's channels the publisher relies on. No other file casts an amqplib object to a private
 * shape. `amqplibInternals.test.ts` checks each assumption on a real connection, so an amqplib
 * release that changes one fails that test instead of silently taking the slow path.
 *
 * Verified against amqplib 0.10 and 2.x (`lib/mux.js`, `lib/channel.js`, `lib/connection.js`).
 */
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';

/** The part of amqplib's muxer (`model.connection.muxer`) {@link corkWrites} relies on. */
interface MuxInternals {
  /** The socket (a Duplex) frames are written to. */
  out: { cork(): void; uncork(): void };
  /** The loop that moves frames from the channels to `out`, one `write` per frame. */
  _readIncoming(): void;
}

/**
 * The two amqplib channel methods `ConfirmChannel#publish` is made of: `sendMessage` writes the
 * frames (swapped for a stub throwing `IllegalOperationError` once the channel closes),
 * `pushConfirmCallback` queues the confirm callback (called in delivery-tag order).
 */
interface ChannelInternals {
  sendMessage(fields: object, properties: object, content: Buffer): boolean;
  pushConfirmCallback(cb: (err: unknown) => void): void;
}

/**
 * The message of the error amqplib hands every confirm callback still waiting when its channel
 * closes (`Channel` constructor, `close` listener); a nack is `'message nacked'`.
 */
const CLOSED_BEFORE_CONFIRM = 'channel closed';

const CORKED = Symbol('refront.amqp.corked');

/** The connection's muxer, if it has the internals {@link corkWrites} needs. */
export function muxOf(model: ChannelModel): MuxInternals | undefined {
  const mux = (model as unknown as { connection?: { muxer?: Partial<MuxInternals> } }).connection?.muxer;
  if (
    typeof mux?._readIncoming !== 'function' ||
    typeof mux.out?.cork !== 'function' ||
    typeof mux.out.uncork !== 'function'
  )
    return undefined;
  return mux as MuxInternals;
}

/**
 * Makes `model`'s connection write each burst of frames with one `writev` instead of one `write`
 * per frame. amqplib's muxer moves frames from the channels to the socket in a loop it runs once
 * per turn (`setImmediate`), writing each frame on its own: one syscall per published message and
 * per ack. Corking the socket for the loop batches them (decision 0044). Flow control is
 * unchanged: the socket's `write` still returns false past its high-water mark, the loop stops,
 * and `drain` resumes it after the uncorked batch is written. Heartbeats and connection methods,
 * written outside the loop, are not delayed.
 *
 * @returns whether the connection is corked (false for an amqplib without these internals).
 */
export function corkWrites(model: ChannelModel): boolean {
  const mux = muxOf(model);
  if (!mux) return false;
  const target = mux as MuxInternals & { [CORKED]?: true };
  if (target[CORKED]) return true;
  const read = mux._readIncoming;
  mux._readIncoming = function readCorked(this: MuxInternals): void {
    const out = this.out;
    out.cork();
    try {
      read.call(this);
    } finally {
      out.uncork();
    }
  };
  target[CORKED] = true;
  return true;
}

/** Sends one message on a confirm channel; returns false when the socket buffer is full (wait for `drain`). */
export type ConfirmSend = (
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Options.Publish,
  onConfirm: (err: unknown) => void,
) => boolean;

/** Whether `ch` has the channel internals {@link confirmSender} uses. */
export function hasChannelInternals(ch: object): ch is ChannelInternals {
  const c = ch as Partial<ChannelInternals>;
  return typeof c.sendMessage === 'function' && typeof c.pushConfirmCallback === 'function';
}

/**
 * A send function for `ch`. `ConfirmChannel#publish` runs the options through `Args.publish`,
 * which makes the headers object the prototype of a fresh one (`Object.create(headers)`); V8 then
 * turns every message's headers into a prototype and the codec's `for…in` over it takes the slow
 * path: about 3 µs per message with one header (decision 0044). When the channel has amqplib's
 * internals, this builds the same fields object with the headers as they are and calls the same
 * two methods `publish` calls, in the same order, so the frames and the confirm bookkeeping are
 * identical; otherwise (or with `CC`/`BCC`, which `Args.publish` rewrites) it calls `publish`.
 * Either way a send on a closed channel throws (amqplib's `IllegalOperationError`).
 */
export function confirmSender(ch: ConfirmChannel): ConfirmSend {
  const publish: ConfirmSend = (exchange, routingKey, content, options, onConfirm) =>
    ch.publish(exchange, routingKey, content, options, onConfirm);
  if (!hasChannelInternals(ch)) return publish;
  return (exchange, routingKey, content, options, onConfirm) => {
    if (options.CC !== undefined || options.BCC !== undefined)
      return publish(exchange, routingKey, content, options, onConfirm);
    const fields = publishFields(exchange, routingKey, options);
    // `sendMessage` is read per call: amqplib swaps it for a throwing stub when the channel closes.
    const result = ch.sendMessage(fields, fields, content);
    ch.pushConfirmCallback(onConfirm);
    return result;
  };
}

/** What `Args.publish` returns for options without CC/BCC, with the headers object used as is. */
export function publishFields(exchange: string, routingKey: string, o: Options.Publish): object {
  let deliveryMode: number | undefined;
  if (o.persistent !== undefined) deliveryMode = o.persistent ? 2 : 1;
  else if (typeof o.deliveryMode === 'number') deliveryMode = o.deliveryMode;
  else if (o.deliveryMode) deliveryMode = 2;
  return {
    exchange,
    routingKey,
    mandatory: !!o.mandatory,
    immediate: false,
    ticket: undefined,
    contentType: o.contentType,
    contentEncoding: o.contentEncoding,
    headers: o.headers ?? {},
    deliveryMode,
    priority: o.priority,
    correlationId: o.correlationId,
    replyTo: o.replyTo,
    expiration: o.expiration === undefined ? undefined : String(o.expiration),
    messageId: o.messageId,
    timestamp: o.timestamp,
    type: o.type,
    userId: o.userId,
    appId: o.appId,
    clusterId: undefined,
  };
}

/**
 * Whether a confirm callback's error says the channel closed before the broker confirmed (the
 * message may or may not be stored: the publisher sends it again on the next channel), as opposed
 * to a nack.
 */
export function closedBeforeConfirm(err: unknown): boolean {
  return err instanceof Error && err.message === CLOSED_BEFORE_CONFIRM;
}
