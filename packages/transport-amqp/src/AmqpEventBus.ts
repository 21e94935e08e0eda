import type {
  EventBus,
  MessageType,
  PublishOptions,
  ServiceComponent,
  SubscribeOptions,
} from '@refront/core';
import { CoreErrors } from '@refront/core';
import {
  type DeadLetter,
  type DeepPartial,
  type EventBinding,
  type EventEnvelope,
  encodeEvent,
} from '@refront/core/transport';
import { AmqpErrors } from './errors.js';
import type { AmqpSubscription } from './internal/AmqpSubscription.js';
import { toPublishOptions } from './internal/amqpEnvelope.js';
import { type AmqpConnectionState, BusConnection } from './internal/BusConnection.js';
import { BusPublisher } from './internal/BusPublisher.js';
import { BusSubscriptions, checkGroup } from './internal/BusSubscriptions.js';
import { type TopologyNames, topologyNames } from './names.js';
import { type AmqpEventBusOptions, type ResolvedOptions, resolveOptions } from './options.js';

export type { AmqpConnectionState } from './internal/BusConnection.js';

/**
 * Typed events and commands on RabbitMQ, with the semantics of core's in-process bus: a topic
 * exchange per domain, a durable quorum queue per consumer group, retry queues with growing
 * delays, a dead-letter queue per group; confirms with a bounded window; reconnect with backoff
 * that recovers the topology and every consumer. Events no binding routes are parked in
 * `<ns>.unrouted` (the domain exchanges' alternate exchange), counted and logged; see
 * {@link replayUnrouted}.
 *
 * It is also a core `ServiceComponent` (`service.use(bus)`): `start` waits for the broker,
 * `ready` is {@link isReady}, `drain` stops consuming and lets the work in flight finish,
 * `close` releases the connection.
 */
export class AmqpEventBus implements EventBus, ServiceComponent {
  /** Component name for the service's logs and `/readyz`. */
  readonly name = 'amqp';
  /** The names of this bus's exchanges and queues. */
  readonly names: TopologyNames;
  /** The connection name given to the broker. */
  readonly connectionName: string;
  private readonly o: ResolvedOptions;
  private readonly connection: BusConnection;
  private readonly publisher: BusPublisher;
  private readonly consumers: BusSubscriptions;
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: AmqpEventBusOptions) {
    this.o = resolveOptions(options);
    this.names = topologyNames(this.o.namespace);
    this.connectionName = this.o.connectionName;
    this.connection = new BusConnection({
      ...this.o,
      onConnect: async (model) => {
        await this.publisher.connected(model);
        this.consumers.connected();
      },
      onDisconnect: () => this.publisher.disconnected(),
    });
    this.publisher = new BusPublisher({ ...this.o, names: this.names }, this.connection);
    this.consumers = new BusSubscriptions(this.o, this.names, this.connection, this.publisher);
    this.connection.open();
  }

  /** The connection state now. */
  get connectionState(): AmqpConnectionState {
    return this.connection.connectionState;
  }

  /** Calls `listener` on every connection state change; returns an unsubscribe function. */
  onStateChange(listener: (state: AmqpConnectionState, error?: unknown) => void): () => void {
    return this.connection.onStateChange(listener);
  }

  /** Calls `listener` for every message this process dead-letters; returns an unsubscribe function. */
  onDeadLetter(listener: (d: DeadLetter) => void): () => void {
    return this.consumers.onDeadLetter(listener);
  }

  /**
   * Readiness: connected, able to publish, and every subscription consuming. False while
   * disconnected. Fits `createService`'s `ready()` and the ops server's `/readyz`.
   */
  isReady(): boolean {
    return (
      this.connection.connectionState === 'connected' &&
      this.connection.model() !== undefined &&
      this.publisher.attached &&
      this.consumers.consuming
    );
  }

  /** {@link isReady}, as a `ServiceComponent`. */
  ready(): boolean {
    return this.isReady();
  }

  /**
   * Resolves once connected (the first time, or again after a loss).
   * @throws the signal's reason when it aborts first; RefrontError UNAVAILABLE `CORE_CLOSED` after close().
   */
  waitUntilConnected(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    return this.connection.waitUntilConnected(options);
  }

  /**
   * As a `ServiceComponent`: resolves once connected, waiting at most `publishTimeoutMs`.
   * @throws RefrontError UNAVAILABLE `AMQP_DISCONNECTED` when the broker stays unreachable; `CORE_CLOSED` after close().
   */
  async start(): Promise<void> {
    await this.connection.connected('start', AmqpErrors.DISCONNECTED);
  }

  /** Messages handed to publish() and not yet confirmed or failed. */
  get unconfirmed(): number {
    return this.publisher.unconfirmed;
  }

  publish<T>(type: MessageType<T>, event: DeepPartial<T>, options?: PublishOptions): Promise<EventEnvelope> {
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.closing) return Promise.reject(CoreErrors.CLOSED('the event bus'));
    let encoded: { envelope: EventEnvelope; body: Uint8Array };
    try {
      encoded = encodeEvent(this.o.service, type, event, options);
    } catch (e: unknown) {
      return Promise.reject(e);
    }
    const { envelope, body } = encoded;
    // One promise per publish: the publisher resolves it with the envelope.
    return this.publisher.route(envelope, body, options?.signal, envelope);
  }

  publishRaw(
    envelope: EventEnvelope,
    body: Uint8Array,
    options?: { readonly signal?: AbortSignal },
  ): Promise<void> {
    if (this.closing) return Promise.reject(CoreErrors.CLOSED('the event bus'));
    return this.publisher.route(envelope, body, options?.signal, undefined);
  }

  async send<T>(
    group: string,
    type: MessageType<T>,
    message: DeepPartial<T>,
    options?: PublishOptions,
  ): Promise<EventEnvelope> {
    options?.signal?.throwIfAborted();
    if (this.closing) throw CoreErrors.CLOSED('the event bus');
    checkGroup(group);
    const { envelope, body } = encodeEvent(this.o.service, type, message, options);
    const props = toPublishOptions(envelope);
    props.mandatory = true;
    return this.publisher.toQueue(this.names.queue(group), body, props, options?.signal, envelope);
  }

  /**
   * Starts consuming as `group`; resolves once its queue and bindings exist (events published
   * afterwards are kept for it).
   * @throws RefrontError INVALID_ARGUMENT for a bad group name or options; UNAVAILABLE
   *   `AMQP_DISCONNECTED` (no broker within `publishTimeoutMs`), `CORE_DRAINING`, `CORE_CLOSED`.
   */
  async subscribe(
    group: string,
    // biome-ignore lint/suspicious/noExplicitAny: each binding carries its own event type
    bindings: readonly EventBinding<any>[],
    options: SubscribeOptions = {},
  ): Promise<AmqpSubscription> {
    this.refuseIfStopping();
    const sub = await this.consumers.subscribe(group, bindings, options);
    if (this.draining || this.closing) {
      // The drain began while the queue was being declared: it must not keep consuming.
      await sub.close();
      this.refuseIfStopping();
    }
    return sub;
  }

  private refuseIfStopping(): void {
    if (this.closing) throw CoreErrors.CLOSED('the event bus');
    if (this.draining) throw CoreErrors.DRAINING('the event bus');
  }

  /**
   * Reads up to `limit` messages of a group's dead-letter queue without removing them (they are
   * requeued when the reading channel closes).
   */
  deadLetters(group: string, options: { readonly limit?: number } = {}): Promise<DeadLetter[]> {
    return this.consumers.deadLetters(group, options.limit ?? 100);
  }

  /**
   * Drains, for a graceful shutdown (a `ServiceComponent`'s drain): cancels every consumer, so no
   * delivery starts from now on (one the broker sent before it saw the cancel goes back to the
   * queue unhandled); lets the handlers in flight finish and ack; and resolves once the publishes
   * made before the handlers finished are confirmed. Publishing still works (handlers, an outbox
   * relay and requests in flight elsewhere may publish until {@link close}); new subscriptions
   * are refused (`CORE_DRAINING`). When `signal` aborts, running handlers are aborted and the wait
   * ends. Idempotent.
   */
  drain(signal?: AbortSignal): Promise<void> {
    this.draining ??= (async () => {
      await this.consumers.stop(signal);
      await this.publisher.settled(signal);
    })();
    return this.draining;
  }

  /**
   * Closes gracefully: refuses new publishes and subscriptions (`CORE_CLOSED`), drains (see
   * {@link drain}), waits for every publish in flight to be confirmed, then closes the
   * connection. Passing `signal` bounds the wait: once it aborts, running handlers are aborted
   * and unconfirmed publishes fail with `CORE_CLOSED`.
   */
  close(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.connection.beginClose();
      await this.consumers.stop(options.signal);
      await this.publisher.close(options.signal);
      await this.connection.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates the RabbitMQ event bus. It connects in the background at once (readiness is false
 * until then); publishes and subscribes made before wait for the connection.
 *
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) for a bad URL, namespace or limit.
 * @example
 * const bus = createAmqpEventBus({ url: 'amqp://guest:guest@127.0.0.1:5672', service: 'tickets', logger });
 * await bus.subscribe('ai', [on(TicketCreated, classify)], { retryDelaysMs: [1000, 5000] });
 * await bus.publish(TicketCreated, { ticketId: 't-1' });
 * service.use(bus); // drained and closed with the service
 */
export function createAmqpEventBus(options: AmqpEventBusOptions): AmqpEventBus {
  return new AmqpEventBus(options);
}
