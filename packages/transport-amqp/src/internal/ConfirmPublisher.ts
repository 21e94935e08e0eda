import { CoreReason, RefrontError } from '@refront/core';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { AmqpReason, nackedError, publishTimeoutError } from '../errors.js';
import { Deque } from './Deque.js';

interface Pending {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  done: boolean;
  returned: boolean;
  cleanup?: (() => void) | undefined;
}

/** What the publisher needs from its owner. */
export interface ConfirmPublisherOptions {
  /** Messages sent but not yet confirmed, at most. */
  readonly maxUnconfirmed: number;
  /** Time from publish() to the broker's confirm, at most, in ms. */
  readonly publishTimeoutMs: number;
  /** Whether the bus holds a connection now (for the timeout's message). */
  readonly connected: () => boolean;
}

/**
 * Publishes over a confirm channel with a bounded window of unconfirmed messages. A publish
 * resolves on the broker's ack and rejects on its nack; messages sent on a channel that closed
 * before confirming are sent again, in their order, on the next channel (at least once: the
 * consumer's inbox drops the copy). Nothing waits forever: every publish has a deadline.
 */
export class ConfirmPublisher {
  private channel: ConfirmChannel | undefined;
  private readonly queue = new Deque<Pending>();
  private orphans: Pending[] = [];
  private unconfirmed = 0;
  private writable = true;
  private closed = false;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly mandatory = new Map<string, Pending>();
  private idle: (() => void) | undefined;
  /** Sent on the current channel and not yet confirmed (to fail them at their deadline). */
  private readonly sent = new Set<Pending>();
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
    this.unconfirmed = 0;
    this.sent.clear();
    const again = this.orphans.filter((p) => !p.done);
    this.orphans = [];
    this.queue.unshift(...again);
  }

  /**
   * Publishes one message; resolves on the broker's confirm.
   * @throws RefrontError UNAVAILABLE (`AMQP_PUBLISH_NACKED`, `AMQP_PUBLISH_TIMEOUT`, `CORE_CLOSED`), NOT_FOUND (`AMQP_UNROUTABLE`).
   */
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.closed)
      return Promise.reject(new RefrontError('UNAVAILABLE', CoreReason.CLOSED, 'the event bus is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const p: Pending = {
        exchange,
        routingKey,
        content,
        options,
        deadline: Date.now() + this.options.publishTimeoutMs,
        resolve,
        reject,
        done: false,
        returned: false,
      };
      if (signal) {
        const onAbort = () => this.settle(p, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      if (options.mandatory && options.messageId) this.mandatory.set(options.messageId, p);
      this.live++;
      this.queue.push(p);
      this.sweep();
      this.flush();
    });
  }

  private flush(): void {
    const ch = this.channel;
    while (ch && this.writable && this.unconfirmed < this.options.maxUnconfirmed && this.queue.length > 0) {
      const p = this.queue.shift()!;
      if (p.done) continue;
      this.unconfirmed++;
      this.sent.add(p);
      try {
        this.writable = ch.publish(p.exchange, p.routingKey, p.content, p.options, (err: unknown) =>
          this.confirmed(ch, p, err),
        );
      } catch (e: unknown) {
        // The channel closed under us (IllegalOperationError), or the message cannot be encoded.
        this.unconfirmed--;
        this.sent.delete(p);
        if (e instanceof RangeError || e instanceof TypeError) this.settle(p, e);
        else {
          this.queue.unshift(p);
          return;
        }
      }
    }
  }

  private confirmed(ch: ConfirmChannel, p: Pending, err: unknown): void {
    if (err instanceof Error && err.message === 'channel closed') {
      // Unconfirmed when the channel went away: sent again on the next channel (see detach).
      if (this.channel === ch) {
        this.sent.delete(p);
        this.orphans.push(p);
      }
      return;
    }
    if (this.channel === ch) {
      this.unconfirmed--;
      this.sent.delete(p);
    }
    if (err) this.settle(p, nackedError(err));
    else if (p.returned)
      this.settle(
        p,
        new RefrontError('NOT_FOUND', AmqpReason.UNROUTABLE, `no queue ${p.routingKey} to send to`, {
          retryable: false,
        }),
      );
    else this.settle(p, undefined);
    this.flush();
  }

  private settle(p: Pending, error: unknown): void {
    if (p.done) return;
    p.done = true;
    this.live--;
    p.cleanup?.();
    if (p.options.mandatory && p.options.messageId) this.mandatory.delete(p.options.messageId);
    if (error === undefined) p.resolve();
    else p.reject(error);
    if (this.idle && this.live === 0) this.idle();
  }

  /** Runs while messages are pending: fails the ones past their deadline. */
  private sweep(): void {
    if (this.sweeper) return;
    const period = Math.max(10, Math.min(250, this.options.publishTimeoutMs / 4));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      const expired = (p: Pending) => !p.done && p.deadline <= now;
      const late = [...this.queue.toArray().filter(expired), ...this.orphans.filter(expired)];
      for (const p of this.sent) if (expired(p)) late.push(p);
      for (const p of late)
        this.settle(p, publishTimeoutError(this.options.publishTimeoutMs, this.options.connected()));
      if (this.live === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, period);
    this.sweeper.unref();
  }

  /** Waits until nothing is pending (or `signal` aborts), then refuses further publishes. */
  async close(signal?: AbortSignal): Promise<void> {
    this.closed = true;
    if (this.pending > 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    const err = new RefrontError('UNAVAILABLE', CoreReason.CLOSED, 'the event bus closed before the confirm');
    for (const p of [...this.queue.toArray(), ...this.orphans, ...this.sent]) this.settle(p, err);
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
