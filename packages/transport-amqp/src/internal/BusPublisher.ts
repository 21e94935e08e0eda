import type { Logger } from '@refront/core';
import type { EventEnvelope } from '@refront/core/transport';
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { AmqpErrors } from '../errors.js';
import type { TopologyNames } from '../names.js';
import type { BusConnection } from './BusConnection.js';
import { ConfirmPublisher } from './ConfirmPublisher.js';
import { type AlternateExchangeMode, declareDomainExchange, topologyError } from './topology.js';

/** What the publisher needs from the bus's options. */
export interface BusPublisherOptions {
  readonly names: TopologyNames;
  readonly logger: Logger;
  readonly maxUnconfirmed: number;
  readonly publishTimeoutMs: number;
  readonly alternateExchange: AlternateExchangeMode;
  /** The broker user set as `user_id` on every message. */
  readonly brokerUser: string;
}

/**
 * The bus's publishing side: one confirm channel per connection (reopened after a channel-only
 * loss), the domain exchanges declared once per connection, and a {@link ConfirmPublisher} that
 * bounds the unconfirmed window and re-sends what a lost channel left unconfirmed. Events, raw
 * relays (an outbox's), commands and the subscriptions' retry and dead-letter forwards all go
 * through it, in one confirm window.
 */
export class BusPublisher {
  private readonly confirms: ConfirmPublisher;
  private readonly declaredExchanges = new Map<string, Promise<void> | true>();
  /** Exchange name by event type (the name is derived from the type's domain). */
  private readonly exchanges = new Map<string, string>();
  /** Publishes waiting for their exchange to be declared (not yet handed to the confirm window). */
  private readonly declaring = new Set<Promise<unknown>>();

  constructor(
    private readonly o: BusPublisherOptions,
    private readonly connection: BusConnection,
  ) {
    this.confirms = new ConfirmPublisher({
      maxUnconfirmed: o.maxUnconfirmed,
      publishTimeoutMs: o.publishTimeoutMs,
      connected: () => connection.model() !== undefined,
      userId: o.brokerUser,
    });
  }

  /** Whether a confirm channel is attached (publishes go out now). */
  get attached(): boolean {
    return this.confirms.attached;
  }

  /** Messages handed over and not yet confirmed or failed. */
  get unconfirmed(): number {
    return this.confirms.pending;
  }

  /** A new connection: forgets the declarations of the old one and opens the confirm channel. */
  async connected(model: ChannelModel): Promise<void> {
    this.declaredExchanges.clear();
    try {
      await this.openChannel(model);
    } catch (e: unknown) {
      this.o.logger.warn({ err: e }, 'could not open the publisher channel; the connection will be retried');
    }
  }

  /** The connection was lost: its declarations are gone with it. */
  disconnected(): void {
    this.declaredExchanges.clear();
  }

  private async openChannel(model: ChannelModel): Promise<void> {
    if (this.connection.model() !== model || this.connection.isClosing) return;
    const ch: ConfirmChannel = await model.createConfirmChannel();
    ch.on('error', (e: unknown) => this.o.logger.warn({ err: e }, 'publisher channel error'));
    ch.on('close', () => {
      this.confirms.detach(ch);
      // A channel-only loss: reopen on the same connection.
      if (this.connection.model() === model && !this.connection.isClosing)
        setTimeout(() => {
          this.openChannel(model).catch((e: unknown) =>
            this.o.logger.warn({ err: e }, 'could not reopen the publisher channel'),
          );
        }, this.connection.backoffMs(1)).unref();
    });
    this.confirms.attach(ch);
  }

  /** Sends an event to its type's exchange, declaring it first once per connection; resolves with `value`. */
  route<V>(envelope: EventEnvelope, body: Uint8Array, signal: AbortSignal | undefined, value: V): Promise<V> {
    let exchange = this.exchanges.get(envelope.type);
    if (exchange === undefined) {
      exchange = this.o.names.exchange(envelope.type);
      this.exchanges.set(envelope.type, exchange);
    }
    const declared = this.declaredExchanges.get(exchange);
    // The hot path: the exchange is known on this connection, so no extra await.
    if (declared === true) return this.confirms.publishEvent(exchange, envelope, body, signal, value);
    const ready = declared ?? this.declareExchange(exchange, signal);
    const to = exchange;
    const sent = ready.then(() => this.confirms.publishEvent(to, envelope, body, signal, value));
    this.declaring.add(sent);
    const forget = () => this.declaring.delete(sent);
    sent.then(forget, forget);
    return sent;
  }

  /** Sends to a queue through the default exchange (commands, retries, dead letters); resolves with `value`. */
  toQueue<V = void>(
    queue: string,
    content: Uint8Array,
    options: Options.Publish,
    signal?: AbortSignal,
    value?: V,
  ): Promise<V> {
    return this.confirms.publish('', queue, content, options, signal, value);
  }

  private declareExchange(exchange: string, signal?: AbortSignal): Promise<void> {
    const p = (async () => {
      const model = await this.connection.connected(
        `publish to ${exchange}`,
        AmqpErrors.PUBLISH_TIMEOUT,
        signal,
      );
      const ch = await model.createChannel();
      ch.on('error', () => {});
      try {
        await declareDomainExchange(ch, this.o.names, exchange, this.o.alternateExchange);
      } catch (e: unknown) {
        throw topologyError(e, `exchange ${exchange}`, this.o.names);
      } finally {
        await ch.close().catch(() => {});
      }
    })();
    this.declaredExchanges.set(exchange, p);
    p.then(
      () => {
        if (this.declaredExchanges.get(exchange) === p) this.declaredExchanges.set(exchange, true);
      },
      () => {
        if (this.declaredExchanges.get(exchange) === p) this.declaredExchanges.delete(exchange);
      },
    );
    return p;
  }

  /**
   * Resolves once every publish handed over before this call is confirmed or failed (later ones
   * are still taken), or when `signal` aborts.
   */
  async settled(signal?: AbortSignal): Promise<void> {
    const declaring = Promise.allSettled([...this.declaring]);
    const confirming = this.confirms.settled(signal);
    if (signal?.aborted) return;
    let onAbort = () => {};
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    await Promise.race([Promise.all([declaring, confirming]), aborted]);
    signal?.removeEventListener('abort', onAbort);
  }

  /**
   * Waits for what is unconfirmed (or `signal`), then refuses every publish; what is still
   * unconfirmed fails with `CORE_CLOSED`.
   */
  close(signal?: AbortSignal): Promise<void> {
    return this.confirms.close(signal);
  }
}
