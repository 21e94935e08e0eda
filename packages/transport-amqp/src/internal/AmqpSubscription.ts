import type { Subscription } from '@refront/core';
import type { DeadLetter, DeliveryOutcome, EventDispatcher, EventEnvelope } from '@refront/core/transport';
import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import { AmqpErrors } from '../errors.js';
import type { TopologyNames } from '../names.js';
import { attemptOf, forwardOptions, fromProperties, HEADERS } from './amqpEnvelope.js';
import { ChannelReopener, type ReopenHost } from './ChannelReopener.js';
import type { Refusal } from './publisherCheck.js';
import { type AlternateExchangeMode, declareGroup } from './topology.js';

/** What a subscription needs from its bus. */
export interface SubscriptionHost extends ReopenHost {
  readonly names: TopologyNames;
  readonly deliveryLimit: number;
  /** How domain exchanges get their alternate exchange. */
  readonly alternateExchange: AlternateExchangeMode;
  /** Publishes to a queue through the default exchange with confirms. */
  forward(queue: string, content: Buffer, options: Options.Publish): Promise<void>;
  /** A message was dead-lettered (for local listeners). */
  deadLettered(d: DeadLetter): void;
  /** The subscription closed. */
  removed(s: AmqpSubscription): void;
  /** Why a delivery must be dead-lettered before any handler (routing, publisher), if it must. */
  refuse(group: string, msg: ConsumeMessage, envelope: EventEnvelope): Refusal | undefined;
  /** Headers recording a delivery's validated publisher across trips through retry queues. */
  publisherHeaders(msg: ConsumeMessage): Record<string, string>;
}

/** Settings of one subscription, resolved and validated by the bus. */
export interface SubscriptionSettings {
  readonly group: string;
  readonly retryDelaysMs: readonly number[];
  readonly concurrency: number;
}

/**
 * One consumer group subscription on its own channel (so its prefetch and its failures are its
 * own). Reopens itself after a channel or connection loss; acks only on the channel a message
 * came on, so nothing is acked on a replaced channel (the broker redelivers instead).
 */
export class AmqpSubscription implements Subscription {
  readonly group: string;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private inflight = 0;
  private idle: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly maxAttempts: number;
  private readonly reopener: ChannelReopener;

  constructor(
    private readonly host: SubscriptionHost,
    private readonly dispatcher: EventDispatcher,
    private readonly settings: SubscriptionSettings,
    private readonly shutdown: AbortController,
  ) {
    this.group = settings.group;
    this.maxAttempts = settings.retryDelaysMs.length + 1;
    this.reopener = new ChannelReopener(host, {
      open: (model) => this.open(model),
      isOpen: () => this.channel !== undefined,
      label: { fields: { group: this.group }, failed: 'consumer could not (re)open; will retry' },
    });
  }

  /** Whether it is consuming now. */
  get consuming(): boolean {
    return this.channel !== undefined;
  }

  /** Opens on `model` now, letting a declaration error reach the caller (subscribe). */
  start(model: ChannelModel): Promise<void> {
    return this.reopener.start(model);
  }

  /** Opens (again) if not consuming; failures are retried with backoff. */
  ensureOpen(): void {
    this.reopener.ensureOpen();
  }

  private async open(model: ChannelModel): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', (e: unknown) =>
      this.host.logger.warn({ group: this.group, err: e }, 'consumer channel error'),
    );
    ch.on('close', () => this.channelClosed(ch));
    try {
      const types = this.dispatcher.types;
      await declareGroup(ch, this.host.names, {
        group: this.group,
        types,
        retryDelaysMs: [...new Set(this.settings.retryDelaysMs)],
        deliveryLimit: this.host.deliveryLimit,
        alternateExchange: this.host.alternateExchange,
      });
      await ch.prefetch(this.settings.concurrency);
      const ok = await ch.consume(this.host.names.queue(this.group), (m) => this.onMessage(ch, m), {
        noAck: false,
      });
      this.channel = ch;
      this.consumerTag = ok.consumerTag;
      if (this.closing) await this.stopConsuming();
    } catch (e: unknown) {
      await ch.close().catch(() => {});
      throw e;
    }
  }

  private channelClosed(ch: Channel): void {
    if (this.channel !== ch) return;
    this.channel = undefined;
    this.consumerTag = undefined;
    // A channel-only loss (the connection lives on) is reopened here; after a connection loss the
    // bus calls ensureOpen once it has reconnected.
    this.reopener.lost();
  }

  private onMessage(ch: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // Cancelled by the broker (queue deleted or moved): drop the channel, reopen re-declares.
      this.host.logger.warn({ group: this.group }, 'consumer cancelled by the broker; reopening');
      ch.close().catch(() => {});
      return;
    }
    if (this.closing) {
      // Sent by the broker before it saw the cancel: back to the queue for another consumer.
      this.settle(ch, msg, false);
      return;
    }
    void this.handle(ch, msg);
  }

  private async handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    this.inflight++;
    try {
      const props = msg.properties;
      const attempt = attemptOf(props);
      const envelope = fromProperties(props);
      const refused = envelope ? this.host.refuse(this.group, msg, envelope) : undefined;
      const outcome: DeliveryOutcome = refused
        ? { kind: 'dead', ...refused }
        : envelope
          ? await this.dispatcher.dispatch(envelope, msg.content, attempt, this.maxAttempts)
          : {
              kind: 'dead',
              reason: AmqpErrors.INVALID_ENVELOPE.reason,
              error: AmqpErrors.INVALID_ENVELOPE.format(),
            };
      if (outcome.kind === 'retry') {
        const delay = this.settings.retryDelaysMs[attempt - 1] ?? 0;
        await this.host.forward(
          this.host.names.retryQueue(this.group, delay),
          msg.content,
          forwardOptions(props, {
            ...origin(msg),
            ...this.host.publisherHeaders(msg),
            [HEADERS.attempt]: attempt + 1,
          }),
        );
      } else if (outcome.kind === 'dead') {
        await this.deadLetter(msg, attempt, outcome.reason, outcome.error);
      }
      this.settle(ch, msg, true);
    } catch (e: unknown) {
      // Could not move it to a retry queue or the DLQ: leave it to the broker (redelivered).
      this.host.logger.warn({ group: this.group, err: e }, 'could not forward a failed message; requeued');
      this.settle(ch, msg, false);
    } finally {
      this.inflight--;
      if (this.inflight === 0) this.idle?.();
    }
  }

  private async deadLetter(
    msg: ConsumeMessage,
    attempt: number,
    reason: string,
    error: string,
  ): Promise<void> {
    const at = Date.now();
    await this.host.forward(
      this.host.names.deadLetterQueue(this.group),
      msg.content,
      forwardOptions(msg.properties, {
        [HEADERS.deadReason]: reason,
        [HEADERS.deadError]: error.slice(0, 4_000),
        [HEADERS.deadAttempts]: attempt,
        [HEADERS.deadGroup]: this.group,
        [HEADERS.deadAt]: at,
        ...origin(msg),
        ...this.host.publisherHeaders(msg),
      }),
    );
    const envelope = fromProperties(msg.properties);
    if (envelope)
      this.host.deadLettered({
        group: this.group,
        envelope,
        body: new Uint8Array(msg.content),
        reason,
        error,
        attempts: attempt,
        deadLetteredAt: at,
      });
  }

  /** Acks or requeues on the channel the message came on, unless that channel is gone. */
  private settle(ch: Channel, msg: ConsumeMessage, ack: boolean): void {
    if (this.channel !== ch) return;
    try {
      if (ack) ch.ack(msg);
      else ch.nack(msg, false, true);
    } catch {
      // Closed between the check and the call: the broker redelivers it.
    }
  }

  private async stopConsuming(): Promise<void> {
    const ch = this.channel;
    const tag = this.consumerTag;
    if (ch && tag) await ch.cancel(tag).catch(() => {});
  }

  /**
   * Stops taking messages (cancels the consumer; a delivery the broker sent before it saw the
   * cancel goes back to the queue unhandled), lets in-flight handlers finish and ack, then closes
   * the channel. When `signal` aborts, the running handlers are aborted.
   */
  close(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    this.closing ??= (async () => {
      await this.reopener.stop();
      await this.stopConsuming();
      const { signal } = options;
      const onAbort = () => this.shutdown.abort(signal?.reason);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      if (this.inflight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      signal?.removeEventListener('abort', onAbort);
      const ch = this.channel;
      this.channel = undefined;
      await ch?.close().catch(() => {});
      this.host.removed(this);
    })();
    return this.closing;
  }

  dispose(): Promise<void> {
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Where a message was first published to: kept in headers across trips through retry queues. */
function origin(msg: ConsumeMessage): Record<string, string> {
  const h = msg.properties.headers ?? {};
  const exchange = h[HEADERS.originalExchange];
  const routingKey = h[HEADERS.originalRoutingKey];
  return {
    [HEADERS.originalExchange]: typeof exchange === 'string' ? exchange : msg.fields.exchange,
    [HEADERS.originalRoutingKey]: typeof routingKey === 'string' ? routingKey : msg.fields.routingKey,
  };
}
