import { CoreErrors, type RefrontError } from '@refront/core';
import type { EventEnvelope } from '@refront/core/transport';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { AmqpErrors } from '../errors.js';
import { toPublishOptions } from './amqpEnvelope.js';
import { type ConfirmSend, closedBeforeConfirm, confirmSender } from './amqplibInternals.js';
import { Deque } from './Deque.js';
import { Pending, toBuffer, Waiter } from './Pending.js';

// The executor of every publish's promise: a module-level function hands over resolve and
// reject without a closure per publish.
let nextResolve: (value: unknown) => void = () => {};
let nextReject: (e: unknown) => void = () => {};
function capture(resolve: (value: unknown) => void, reject: (e: unknown) => void): void {
  nextResolve = resolve;
  nextReject = reject;
}

/** What the publisher needs from its owner. */
export interface ConfirmPublisherOptions {
  /** Messages sent but not yet confirmed, at most. */
  readonly maxUnconfirmed: number;
  /** Time from publish() to the broker's confirm, at most, in ms. */
  readonly publishTimeoutMs: number;
  /** Whether the bus holds a connection now (for the timeout's message). */
  readonly connected: () => boolean;
  /** The connection's broker user, set as `user_id` on every message (the broker validates it). */
  readonly userId: string;
}

/**
 * Publishes over a confirm channel with a bounded window of unconfirmed messages. A publish
 * resolves on the broker's ack and rejects on its nack; messages sent on a channel that closed
 * before confirming are sent again, in their order, on the next channel (at least once: the
 * consumer's inbox drops the copy). Nothing waits forever: every publish has a deadline.
 */
export class ConfirmPublisher {
  private channel: ConfirmChannel | undefined;
  private send: ConfirmSend | undefined;
  private readonly queue = new Deque<Pending>();
  private orphans: Pending[] = [];
  private unconfirmed = 0;
  private writable = true;
  private closed = false;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly mandatory = new Map<string, Pending>();
  /**
   * Sent on the current channel, oldest first, to fail them at their deadline. Settled ones are
   * dropped from the front as confirms come in (in order, so the deque stays about as long as the
   * window); a settled one behind an unsettled one waits until the front clears.
   */
  private readonly sent = new Deque<Pending>();
  /** Publishes not yet settled. */
  private live = 0;

  constructor(private readonly options: ConfirmPublisherOptions) {}

  /** Messages waiting to be sent plus those sent and not yet confirmed. */
  get pending(): number {
    return this.live;
  }

  /** Whether a confirm channel is attached. */
  get attached(): boolean {
    return this.channel !== undefined;
  }

  /** Starts publishing on a new confirm channel (after connecting or reconnecting). */
  attach(ch: ConfirmChannel): void {
    this.channel = ch;
    this.send = confirmSender(ch);
    this.unconfirmed = 0;
    this.writable = true;
    ch.on('drain', () => {
      if (this.channel !== ch) return;
      this.writable = true;
      this.flush();
    });
    ch.on('return', (msg: Message) => {
      const p = this.mandatory.get(String(msg.properties.messageId));
      if (p) p.returned = true;
    });
    this.flush();
  }

  /** Stops using `ch` (it closed): what it left unconfirmed goes first on the next channel. */
  detach(ch: ConfirmChannel): void {
    if (this.channel !== ch) return;
    this.channel = undefined;
    this.send = undefined;
    this.unconfirmed = 0;
    this.sent.clear();
    const again = this.orphans.filter((p) => !p.done);
    this.orphans = [];
    this.queue.unshift(...again);
  }

  /**
   * Publishes one message; resolves with `value` on the broker's confirm.
   * @throws RefrontError UNAVAILABLE (`AMQP_PUBLISH_NACKED`, `AMQP_PUBLISH_TIMEOUT`, `CORE_CLOSED`), NOT_FOUND (`AMQP_UNROUTABLE`).
   */
  publish<T = void>(
    exchange: string,
    routingKey: string,
    content: Uint8Array,
    options: Options.Publish,
    signal?: AbortSignal,
    value?: T,
  ): Promise<T> {
    // Every message names its publisher; the broker refuses a user_id that is not the connection's.
    options.userId = this.options.userId;
    return this.enqueue(exchange, routingKey, content, options, undefined, signal, value);
  }

  /** Publishes an event with the properties of its envelope (routing key: its type); as {@link publish}. */
  publishEvent<T = void>(
    exchange: string,
    envelope: EventEnvelope,
    body: Uint8Array,
    signal?: AbortSignal,
    value?: T,
  ): Promise<T> {
    return this.enqueue(exchange, envelope.type, body, undefined, envelope, signal, value);
  }

  private enqueue<T>(
    exchange: string,
    routingKey: string,
    content: Uint8Array,
    options: Options.Publish | undefined,
    envelope: EventEnvelope | undefined,
    signal: AbortSignal | undefined,
    value: T | undefined,
  ): Promise<T> {
    if (this.closed) return Promise.reject(CoreErrors.CLOSED('the event bus'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const promise = new Promise<unknown>(capture) as Promise<T>;
    const p = new Pending(
      exchange,
      routingKey,
      content,
      options,
      envelope,
      Date.now() + this.options.publishTimeoutMs,
      value,
      nextResolve,
      nextReject,
    );
    if (signal) {
      const onAbort = () => this.settle(p, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      p.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    if (options?.mandatory && options.messageId) this.mandatory.set(options.messageId, p);
    this.live++;
    this.queue.push(p);
    if (!this.sweeper) this.sweep();
    this.flush();
    return promise;
  }

  private flush(): void {
    const ch = this.channel;
    const send = this.send;
    while (
      ch &&
      send &&
      this.writable &&
      this.unconfirmed < this.options.maxUnconfirmed &&
      this.queue.length > 0
    ) {
      const p = this.queue.shift()!;
      if (p.done) continue;
      this.unconfirmed++;
      try {
        // An event's properties stay local: a publish that waited behind the window is likely in
        // the old generation by now, and storing a new object in it costs a write barrier and a
        // remembered-set entry that every scavenge walks.
        const options = p.options ?? toPublishOptions(p.envelope!, this.options.userId);
        this.writable = send(p.exchange, p.routingKey, toBuffer(p.content), options, (err: unknown) =>
          this.confirmed(ch, p, err),
        );
        this.sent.push(p);
      } catch (e: unknown) {
        // The channel closed under us (IllegalOperationError), or the message cannot be encoded.
        this.unconfirmed--;
        if (e instanceof RangeError || e instanceof TypeError) this.settle(p, e);
        else {
          this.queue.unshift(p);
          return;
        }
      }
    }
  }

  private confirmed(ch: ConfirmChannel, p: Pending, err: unknown): void {
    if (closedBeforeConfirm(err)) {
      // Unconfirmed when the channel went away: sent again on the next channel (see detach).
      // It stays in `sent` (detach clears it); a sweep finding it twice settles it once.
      if (this.channel === ch) this.orphans.push(p);
      return;
    }
    if (this.channel === ch) this.unconfirmed--;
    if (err) this.settle(p, AmqpErrors.PUBLISH_NACKED.with({ cause: err }));
    else if (p.returned) this.settle(p, AmqpErrors.UNROUTABLE(p.routingKey));
    else this.settle(p, undefined);
    if (this.channel === ch) {
      const sent = this.sent;
      while (sent.peek()?.done) sent.shift();
    }
    this.flush();
  }

  private settle(p: Pending, error: unknown): void {
    if (p.done) return;
    p.done = true;
    this.live--;
    p.cleanup?.();
    if (p.options?.mandatory && p.options.messageId) this.mandatory.delete(p.options.messageId);
    if (error === undefined) p.resolve(p.value);
    else p.reject(error);
    if (p.waiters) for (const w of p.waiters) if (--w.remaining === 0) w.resolve();
  }

  /** Runs while messages are pending: fails the ones past their deadline. */
  private sweep(): void {
    const period = Math.max(10, Math.min(250, this.options.publishTimeoutMs / 4));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      const expired = (p: Pending) => !p.done && p.deadline <= now;
      const late = [
        ...this.queue.toArray().filter(expired),
        ...this.orphans.filter(expired),
        ...this.sent.toArray().filter(expired),
      ];
      for (const p of late) this.settle(p, this.timedOut());
      if (this.live === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, period);
    this.sweeper.unref();
  }

  /** The error of a publish past its deadline: unconfirmed, so it may or may not have been stored. */
  private timedOut(): RefrontError {
    const why = this.options.connected() ? 'no answer from the broker' : 'the broker is unreachable';
    return AmqpErrors.PUBLISH_TIMEOUT(
      'publish',
      `${why} after ${this.options.publishTimeoutMs} ms; it may or may not have been stored`,
    );
  }

  /** The publishes not yet settled: waiting to be sent, sent, or left unconfirmed by a lost channel. */
  private unsettled(): Set<Pending> {
    const all = [...this.queue.toArray(), ...this.orphans, ...this.sent.toArray()];
    return new Set(all.filter((p) => !p.done));
  }

  /**
   * Resolves once every publish made before this call has settled (confirmed, nacked, timed out),
   * or when `signal` aborts. Publishes made meanwhile are taken and sent as usual, not waited for.
   */
  settled(signal?: AbortSignal): Promise<void> {
    const pending = this.unsettled();
    if (pending.size === 0 || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = new Waiter(() => {
        signal?.removeEventListener('abort', stop);
        resolve();
      });
      const stop = () => {
        for (const p of pending) p.waiters = p.waiters?.filter((w) => w !== waiter);
        resolve();
      };
      waiter.remaining = pending.size;
      for (const p of pending) {
        if (p.waiters) p.waiters.push(waiter);
        else p.waiters = [waiter];
      }
      signal?.addEventListener('abort', stop, { once: true });
    });
  }

  /** Refuses further publishes, waits until nothing is pending (or `signal` aborts), fails what is left. */
  async close(signal?: AbortSignal): Promise<void> {
    this.closed = true;
    await this.settled(signal);
    const err = CoreErrors.CLOSED('the event bus');
    for (const p of this.unsettled()) this.settle(p, err);
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
