import { randomUUID } from 'node:crypto';
import {
  CoreReason,
  type EventBus,
  type Logger,
  type MessageType,
  type MessageValidator,
  type MetricsRegistry,
  type PublishOptions,
  RefrontError,
  type SubscribeOptions,
} from '@refront/core';
import {
  createEventDispatcher,
  DEFAULT_CONCURRENCY,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_RETRY_DELAYS_MS,
  type DeadLetter,
  type DeepPartial,
  type EventBinding,
  type EventEnvelope,
  encodeEvent,
  GROUP_NAME,
  invalidOption,
} from '@refront/core/transport';
import { type ChannelModel, type ConfirmChannel, connect, type RecoveringChannelModel } from 'amqplib';
import { type BrokerUsers, type EventOwners, eventOwnership } from './EventOwners.js';
import { AmqpReason } from './errors.js';
import { AmqpSubscription, type SubscriptionHost } from './internal/AmqpSubscription.js';
import { HEADERS, toPublishOptions } from './internal/amqpEnvelope.js';
import { corkWrites } from './internal/amqplibInternals.js';
import { ConfirmPublisher } from './internal/ConfirmPublisher.js';
import { readDeadLetters } from './internal/deadLetters.js';
import { checkPublisher, publisherOf, refusedCounter } from './internal/publisherCheck.js';
import { type AlternateExchangeMode, declareDomainExchange, topologyError } from './internal/topology.js';
import { UnroutedNotices } from './internal/UnroutedNotices.js';
import { urlUser } from './internal/urlUser.js';
import { isReservedGroup, type TopologyNames, topologyNames } from './names.js';

/** Connection states reported by {@link AmqpEventBus.onStateChange}. */
export type AmqpConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Options of {@link createAmqpEventBus}. */
export interface AmqpEventBusOptions {
  /** Broker URL, `amqp://user:pass@host:5672/vhost` (amqplib's URL options apply: `?heartbeat=10`). */
  readonly url: string;
  /** Name of this service: `source` of published envelopes, prefix of the connection name. */
  readonly service: string;
  /** Logger for connection and consumer events. */
  readonly logger: Logger;
  /** Registry for consumer RED metrics. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /**
   * Checks events against their contracts' rules before their handlers, for every subscription
   * that sets no `validator` of its own: an event that breaks them is dead-lettered at once
   * (`CORE_INVALID_MESSAGE`, no retry). @default none
   */
  readonly validator?: MessageValidator | undefined;
  /** Prefix of every exchange and queue name (see docs/amqp.md). @default DEFAULT_NAMESPACE ('refront') */
  readonly namespace?: string;
  /** Connection name shown by `rabbitmqctl list_connections` (client property `connection_name`). @default `<service>-<random>` */
  readonly connectionName?: string;
  /** Published messages not yet confirmed by the broker, at most; more publishes wait. @default DEFAULT_MAX_UNCONFIRMED (1000) */
  readonly maxUnconfirmed?: number;
  /** Time a publish may wait for its confirm (including a reconnect), in ms. @default DEFAULT_PUBLISH_TIMEOUT_MS (30000) */
  readonly publishTimeoutMs?: number;
  /** Deliveries of one message before the broker dead-letters it, for consumers that crash on it. @default DEFAULT_DELIVERY_LIMIT (20) */
  readonly deliveryLimit?: number;
  /** First reconnect delay, in ms; doubles up to `maxReconnectDelayMs`, with ±20 % jitter. @default 100 */
  readonly reconnectDelayMs?: number;
  /** Longest reconnect delay, in ms. @default 10000 */
  readonly maxReconnectDelayMs?: number;
  /** AMQP heartbeat, in s; a dead peer is noticed within about two of them. @default 10 */
  readonly heartbeatSeconds?: number;
  /**
   * How domain exchanges get `<ns>.unrouted` as their alternate exchange: `'argument'` declares it
   * on every exchange; `'policy'` declares exchanges without it, for an operator who set it by
   * policy instead (exchanges that predate it; see docs/amqp.md and decision 0047). @default 'argument'
   */
  readonly alternateExchange?: AlternateExchangeMode;
  /**
   * The broker user this bus connects as, set as `user_id` on every message it publishes (the
   * broker refuses one that is not the connection's user). Give it when the URL names none (a
   * certificate login). @default the URL's user name, else `guest` (amqplib's default login)
   */
  readonly brokerUser?: string;
  /**
   * Who may publish each event type (docs/amqp.md, "Who may publish what"). When set, a delivery
   * is dead-lettered before any handler unless its validated `user_id` is the broker user of its
   * type's owner (`AMQP_UNTRUSTED_PUBLISHER`) and its `source` is the owner (`AMQP_FORGED_EVENT`).
   * @default none: publishers are not checked (opt-in; the demo turns it on, decisions 0048, 0049)
   */
  readonly owners?: EventOwners;
  /** The broker user each owning service connects as. @default the service's name */
  readonly brokerUsers?: BrokerUsers;
}

/** Default prefix of exchange and queue names. */
export const DEFAULT_NAMESPACE = 'refront';
/** Default bound on unconfirmed publishes. */
export const DEFAULT_MAX_UNCONFIRMED = 1_000;
/** Default time a publish may wait for its confirm, in ms. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000;
/** Default delivery limit of group queues. */
export const DEFAULT_DELIVERY_LIMIT = 20;
/** Default first reconnect delay, in ms. */
export const DEFAULT_RECONNECT_DELAY_MS = 100;
/** Default longest reconnect delay, in ms. */
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 10_000;
/** Default AMQP heartbeat, in s. */
export const DEFAULT_HEARTBEAT_SECONDS = 10;

const NAMESPACE = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw invalidOption(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Typed events and commands on RabbitMQ, with the semantics of core's in-process bus: a topic
 * exchange per domain, a durable quorum queue per consumer group, retry queues with growing
 * delays, a dead-letter queue per group; confirms with a bounded window; reconnect with backoff
 * that recovers the topology and every consumer. Events no binding routes are parked in
 * `<ns>.unrouted` (the domain exchanges' alternate exchange), counted and logged; see
 * {@link replayUnrouted}.
 */
export class AmqpEventBus implements EventBus {
  /** The names of this bus's exchanges and queues. */
  readonly names: TopologyNames;
  /** The connection name given to the broker. */
  readonly connectionName: string;
  private readonly conn: Promise<RecoveringChannelModel | undefined>;
  private current: ChannelModel | undefined;
  private readonly publisher: ConfirmPublisher;
  private readonly subscriptions = new Set<AmqpSubscription>();
  private readonly declaredExchanges = new Map<string, Promise<void> | true>();
  /** Exchange name by event type (the name is derived from the type's domain). */
  private readonly exchanges = new Map<string, string>();
  private readonly stateListeners = new Set<(s: AmqpConnectionState, error?: unknown) => void>();
  private readonly deadListeners = new Set<(d: DeadLetter) => void>();
  /** Types each group handles: the only `event_type` labels of refused deliveries (bounded). */
  private readonly groupTypes = new Map<string, ReadonlySet<string>>();
  private readonly waiters = new Set<() => void>();
  private state: AmqpConnectionState = 'connecting';
  private closing: Promise<void> | undefined;
  private warnedUncorked = false;
  private readonly o: Required<
    Omit<AmqpEventBusOptions, 'metrics' | 'owners' | 'brokerUsers' | 'validator'>
  > &
    Pick<AmqpEventBusOptions, 'metrics' | 'owners' | 'brokerUsers' | 'validator'>;
  private readonly host: SubscriptionHost;
  private readonly notices: UnroutedNotices;

  constructor(options: AmqpEventBusOptions) {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE;
    if (!NAMESPACE.test(namespace)) throw invalidOption(`invalid namespace "${namespace}"`);
    if (typeof options.url !== 'string' || !/^amqps?:\/\//.test(options.url))
      throw invalidOption('url must be an amqp:// or amqps:// URL');
    this.o = {
      ...options,
      namespace,
      connectionName: options.connectionName ?? `${options.service}-${randomUUID().slice(0, 8)}`,
      maxUnconfirmed: positiveInt('maxUnconfirmed', options.maxUnconfirmed ?? DEFAULT_MAX_UNCONFIRMED),
      publishTimeoutMs: positiveInt(
        'publishTimeoutMs',
        options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
      ),
      deliveryLimit: positiveInt('deliveryLimit', options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT),
      reconnectDelayMs: positiveInt(
        'reconnectDelayMs',
        options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS,
      ),
      maxReconnectDelayMs: positiveInt(
        'maxReconnectDelayMs',
        options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS,
      ),
      heartbeatSeconds: positiveInt(
        'heartbeatSeconds',
        options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
      ),
      alternateExchange: options.alternateExchange ?? 'argument',
      brokerUser: options.brokerUser ?? urlUser(options.url),
    };
    if (!this.o.brokerUser) throw invalidOption('brokerUser must not be empty');
    if (this.o.alternateExchange !== 'argument' && this.o.alternateExchange !== 'policy')
      throw invalidOption(
        `alternateExchange must be 'argument' or 'policy', got ${this.o.alternateExchange}`,
      );
    this.names = topologyNames(namespace);
    this.connectionName = this.o.connectionName;
    this.publisher = new ConfirmPublisher({
      maxUnconfirmed: this.o.maxUnconfirmed,
      publishTimeoutMs: this.o.publishTimeoutMs,
      connected: () => this.current !== undefined,
      userId: this.o.brokerUser,
    });
    const check = {
      names: this.names,
      selfUser: this.o.brokerUser,
      ownership: options.owners ? eventOwnership(options.owners, options.brokerUsers) : undefined,
    };
    const refused = this.o.metrics ? refusedCounter(this.o.metrics) : undefined;
    this.host = {
      names: this.names,
      logger: this.o.logger,
      deliveryLimit: this.o.deliveryLimit,
      alternateExchange: this.o.alternateExchange,
      model: () => this.current,
      forward: (queue, content, opts) => this.publisher.publish('', queue, content, opts),
      backoffMs: (n) => this.backoffMs(n),
      deadLettered: (d) => {
        for (const l of this.deadListeners) l(d);
      },
      removed: (s) => this.subscriptions.delete(s),
      refuse: (group, msg, envelope) => {
        const r = checkPublisher(check, msg, envelope);
        if (r) {
          // Anyone can push any type into a queue through the default exchange: label only known ones.
          const known = this.groupTypes.get(group)?.has(envelope.type);
          refused?.inc({ group, event_type: known ? envelope.type : 'other', reason: r.reason });
          this.o.logger.warn({ group, eventId: envelope.id, type: envelope.type, ...r }, 'event refused');
        }
        return r;
      },
      publisherHeaders: (msg): Record<string, string> => {
        const user = publisherOf(msg, this.o.brokerUser);
        return user === undefined ? {} : { [HEADERS.publisherUser]: user };
      },
    };
    this.notices = new UnroutedNotices({
      names: this.names,
      logger: this.o.logger,
      metrics: this.o.metrics,
      model: () => this.current,
      backoffMs: (n) => this.backoffMs(n),
    });
    this.conn = this.openConnection();
  }

  private openConnection(): Promise<RecoveringChannelModel | undefined> {
    const url = new URL(this.o.url);
    if (!url.searchParams.has('heartbeat'))
      url.searchParams.set('heartbeat', String(this.o.heartbeatSeconds));
    // With waitForConnect false amqplib resolves at once and makes its first attempt on the next
    // turn, so the listeners below see every connect.
    return connect(url.toString(), {
      clientProperties: { connection_name: this.connectionName, service: this.o.service },
      recovery: { waitForConnect: false, calculateDelay: (attempt: number) => this.backoffMs(attempt) },
    }).then(
      (conn) => {
        conn.on('connect', (model: ChannelModel) => void this.onConnect(model));
        conn.on('disconnect', (e: Error) => this.onDisconnect(e));
        conn.on('connect-failed', (e: Error) => this.setState('disconnected', e));
        conn.on('error', (e: Error) => this.o.logger.warn({ err: e }, 'amqp connection error'));
        return conn;
      },
      (e: unknown) => {
        this.o.logger.error({ err: e }, 'amqp connection setup failed');
        return undefined;
      },
    );
  }

  private async onConnect(model: ChannelModel): Promise<void> {
    model.on('error', (e: unknown) => this.o.logger.warn({ err: e }, 'amqp connection error'));
    if (!corkWrites(model) && !this.warnedUncorked) {
      this.warnedUncorked = true;
      this.o.logger.warn(
        'amqplib internals not found: frames are written one at a time (see amqplibInternals.ts)',
      );
    }
    this.declaredExchanges.clear();
    this.current = model;
    try {
      await this.openPublisher(model);
    } catch (e: unknown) {
      this.o.logger.warn({ err: e }, 'could not open the publisher channel; the connection will be retried');
    }
    for (const s of this.subscriptions) s.ensureOpen();
    this.notices.ensureOpen();
    this.setState('connected');
    for (const w of this.waiters) w();
  }

  private async openPublisher(model: ChannelModel): Promise<void> {
    if (this.current !== model || this.closing) return;
    const ch: ConfirmChannel = await model.createConfirmChannel();
    ch.on('error', (e: unknown) => this.o.logger.warn({ err: e }, 'publisher channel error'));
    ch.on('close', () => {
      this.publisher.detach(ch);
      // A channel-only loss: reopen on the same connection.
      if (this.current === model && !this.closing)
        setTimeout(() => {
          this.openPublisher(model).catch((e: unknown) =>
            this.o.logger.warn({ err: e }, 'could not reopen the publisher channel'),
          );
        }, this.backoffMs(1)).unref();
    });
    this.publisher.attach(ch);
  }

  private onDisconnect(error: unknown): void {
    this.current = undefined;
    this.declaredExchanges.clear();
    if (this.state !== 'closed') this.setState('disconnected', error);
  }

  private setState(state: AmqpConnectionState, error?: unknown): void {
    if (this.state === state) return;
    this.state = state;
    const log = { state, connection: this.connectionName, err: error };
    if (state === 'disconnected') this.o.logger.warn(log, 'amqp connection lost; reconnecting');
    else this.o.logger.info(log, `amqp ${state}`);
    for (const l of this.stateListeners) l(state, error);
  }

  private backoffMs(attempt: number): number {
    const base = Math.min(
      this.o.maxReconnectDelayMs,
      this.o.reconnectDelayMs * 2 ** Math.max(0, attempt - 1),
    );
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** The connection state now. */
  get connectionState(): AmqpConnectionState {
    return this.state;
  }

  /** Calls `listener` on every connection state change; returns an unsubscribe function. */
  onStateChange(listener: (state: AmqpConnectionState, error?: unknown) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Calls `listener` for every message this process dead-letters; returns an unsubscribe function. */
  onDeadLetter(listener: (d: DeadLetter) => void): () => void {
    this.deadListeners.add(listener);
    return () => this.deadListeners.delete(listener);
  }

  /**
   * Readiness: connected, able to publish, and every subscription consuming. False while
   * disconnected. Fits `createService`'s `ready()` and the ops server's `/readyz`.
   */
  isReady(): boolean {
    if (this.state !== 'connected' || !this.current || !this.publisher.attached) return false;
    for (const s of this.subscriptions) if (!s.consuming) return false;
    return true;
  }

  /**
   * Resolves once connected (the first time, or again after a loss).
   * @throws the signal's reason when it aborts first; RefrontError UNAVAILABLE `CORE_CLOSED` after close().
   */
  waitUntilConnected(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    if (this.current) return Promise.resolve();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiters.delete(done);
        reject(signal?.reason);
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Messages handed to publish() and not yet confirmed or failed. */
  get unconfirmed(): number {
    return this.publisher.pending;
  }

  publish<T>(type: MessageType<T>, event: DeepPartial<T>, options?: PublishOptions): Promise<EventEnvelope> {
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
    let encoded: { envelope: EventEnvelope; body: Uint8Array };
    try {
      encoded = encodeEvent(this.o.service, type, event, options);
    } catch (e: unknown) {
      return Promise.reject(e);
    }
    const { envelope, body } = encoded;
    // One promise per publish: the publisher resolves it with the envelope.
    return this.route(envelope, body, options?.signal, envelope);
  }

  publishRaw(
    envelope: EventEnvelope,
    body: Uint8Array,
    options?: { readonly signal?: AbortSignal },
  ): Promise<void> {
    return this.route(envelope, body, options?.signal, undefined);
  }

  /** Sends to the type's exchange, declaring it first once per connection; resolves with `value`. */
  private route<V>(
    envelope: EventEnvelope,
    body: Uint8Array,
    signal: AbortSignal | undefined,
    value: V,
  ): Promise<V> {
    if (this.closing) return Promise.reject(closedError());
    let exchange = this.exchanges.get(envelope.type);
    if (exchange === undefined) {
      exchange = this.names.exchange(envelope.type);
      this.exchanges.set(envelope.type, exchange);
    }
    const declared = this.declaredExchanges.get(exchange);
    // The hot path: the exchange is known on this connection, so no extra await.
    if (declared === true) return this.sendTo(exchange, envelope, body, signal, value);
    const ready = declared ?? this.declareExchange(exchange, signal);
    const to = exchange;
    return ready.then(() => this.sendTo(to, envelope, body, signal, value));
  }

  private sendTo<V>(
    exchange: string,
    envelope: EventEnvelope,
    body: Uint8Array,
    signal: AbortSignal | undefined,
    value: V,
  ): Promise<V> {
    return this.publisher.publishEvent(exchange, envelope, body, signal, value);
  }

  async send<T>(
    group: string,
    type: MessageType<T>,
    message: DeepPartial<T>,
    options?: PublishOptions,
  ): Promise<EventEnvelope> {
    options?.signal?.throwIfAborted();
    if (this.closing) throw closedError();
    checkGroup(group);
    const { envelope, body } = encodeEvent(this.o.service, type, message, options);
    const props = toPublishOptions(envelope);
    props.mandatory = true;
    return this.publisher.publish('', this.names.queue(group), body, props, options?.signal, envelope);
  }

  private declareExchange(exchange: string, signal?: AbortSignal): Promise<void> {
    const p = (async () => {
      await this.connected(`publish to ${exchange}`, AmqpReason.PUBLISH_TIMEOUT, signal);
      const model = this.current!;
      const ch = await model.createChannel();
      ch.on('error', () => {});
      try {
        await declareDomainExchange(ch, this.names, exchange, this.o.alternateExchange);
      } catch (e: unknown) {
        throw topologyError(e, `exchange ${exchange}`, this.names);
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

  /** Waits for a connection up to `publishTimeoutMs` (or `signal`). */
  private async connected(what: string, reason: string, signal?: AbortSignal): Promise<void> {
    if (this.current) return;
    const deadline = AbortSignal.timeout(this.o.publishTimeoutMs);
    try {
      await this.waitUntilConnected({ signal: signal ? AbortSignal.any([signal, deadline]) : deadline });
    } catch (e: unknown) {
      if (signal?.aborted) throw signal.reason;
      if (this.closing) throw e;
      throw new RefrontError(
        'UNAVAILABLE',
        reason,
        `cannot ${what}: the broker has been unreachable for ${this.o.publishTimeoutMs} ms`,
        { cause: e },
      );
    }
  }

  async subscribe(
    group: string,
    // biome-ignore lint/suspicious/noExplicitAny: each binding carries its own event type
    bindings: readonly EventBinding<any>[],
    options: SubscribeOptions = {},
  ): Promise<AmqpSubscription> {
    if (this.closing) throw closedError();
    checkGroup(group);
    const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    if (retryDelaysMs.some((d) => !Number.isInteger(d) || d < 0))
      throw invalidOption('retryDelaysMs must hold non-negative integers (ms)');
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 65_535)
      throw invalidOption(`concurrency must be an integer in 1..65535, got ${concurrency}`);
    const handlerTimeoutMs = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    if (!(handlerTimeoutMs > 0)) throw invalidOption(`handlerTimeoutMs must be > 0, got ${handlerTimeoutMs}`);
    // Aborts the running handlers when close() is forced; the dispatcher holds one listener on it.
    const shutdown = new AbortController();
    const dispatcher = createEventDispatcher({
      group,
      service: this.o.service,
      logger: this.o.logger,
      metrics: this.o.metrics,
      bindings,
      handlerTimeoutMs,
      shutdown: shutdown.signal,
      validator: options.validator ?? this.o.validator,
    });
    this.groupTypes.set(group, new Set(dispatcher.types));
    const sub = new AmqpSubscription(this.host, dispatcher, { group, retryDelaysMs, concurrency }, shutdown);
    // Resolve only once the queue and its bindings exist: events published afterwards are kept.
    await this.connected(`subscribe ${group}`, AmqpReason.DISCONNECTED);
    try {
      await sub.start(this.current!);
    } catch (e: unknown) {
      throw topologyError(e, `consumer group ${group}`, this.names);
    }
    this.subscriptions.add(sub);
    sub.ensureOpen();
    return sub;
  }

  /**
   * Reads up to `limit` messages of a group's dead-letter queue without removing them (they are
   * requeued when the reading channel closes).
   */
  async deadLetters(group: string, options: { readonly limit?: number } = {}): Promise<DeadLetter[]> {
    await this.waitUntilConnected({ signal: AbortSignal.timeout(this.o.publishTimeoutMs) });
    return readDeadLetters(this.current!, this.names.deadLetterQueue(group), group, options.limit ?? 100);
  }

  /**
   * Closes gracefully: stops every subscription (in-flight handlers finish and ack), waits for
   * the publishes in flight to be confirmed, then closes the connection. Passing `signal` bounds
   * the wait: once it aborts, running handlers are aborted and unconfirmed publishes fail.
   */
  close(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close(options)));
      await this.publisher.close(options.signal);
      await this.notices.close();
      this.setState('closed');
      const conn = await this.conn;
      await conn?.close().catch(() => {});
      this.current = undefined;
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The user name of an AMQP URL, or `guest`, which amqplib logs in as when the URL names none. */
function checkGroup(group: string): void {
  if (!GROUP_NAME.test(group)) throw invalidOption(`invalid consumer group name "${group}"`);
  if (isReservedGroup(group))
    throw invalidOption(`consumer group name "${group}" is reserved for the unrouted events queues`);
}

function closedError(): RefrontError {
  return new RefrontError('UNAVAILABLE', CoreReason.CLOSED, 'the event bus is closed');
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
 */
export function createAmqpEventBus(options: AmqpEventBusOptions): AmqpEventBus {
  return new AmqpEventBus(options);
}
