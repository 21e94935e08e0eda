import type { SubscribeOptions } from '@refront/core';
import {
  createEventDispatcher,
  DEFAULT_CONCURRENCY,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_RETRY_DELAYS_MS,
  type DeadLetter,
  type EventBinding,
  GROUP_NAME,
  invalidOption,
} from '@refront/core/transport';
import { eventOwnership } from '../EventOwners.js';
import { AmqpErrors } from '../errors.js';
import { isReservedGroup, type TopologyNames } from '../names.js';
import type { ResolvedOptions } from '../options.js';
import { AmqpSubscription, type SubscriptionHost } from './AmqpSubscription.js';
import { HEADERS } from './amqpEnvelope.js';
import type { BusConnection } from './BusConnection.js';
import type { BusPublisher } from './BusPublisher.js';
import { readDeadLetters } from './deadLetters.js';
import { checkPublisher, publisherOf, refusedCounter } from './publisherCheck.js';
import { topologyError } from './topology.js';
import { UnroutedNotices } from './UnroutedNotices.js';

/**
 * The bus's consuming side: one {@link AmqpSubscription} per consumer group (consume, ack and
 * nack, retries, dead letters; each on its own channel), the unrouted notices consumer, the
 * publisher check of deliveries, and local dead-letter listeners. Reopens every consumer on a
 * new connection; stops them all on drain.
 */
export class BusSubscriptions {
  private readonly subscriptions = new Set<AmqpSubscription>();
  private readonly deadListeners = new Set<(d: DeadLetter) => void>();
  /** Types each group handles: the only `event_type` labels of refused deliveries (bounded). */
  private readonly groupTypes = new Map<string, ReadonlySet<string>>();
  private readonly host: SubscriptionHost;
  private readonly notices: UnroutedNotices;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly names: TopologyNames,
    private readonly connection: BusConnection,
    publisher: BusPublisher,
  ) {
    const check = {
      names,
      selfUser: o.brokerUser,
      ownership: o.owners ? eventOwnership(o.owners, o.brokerUsers) : undefined,
    };
    const refused = o.metrics ? refusedCounter(o.metrics) : undefined;
    const reopen = {
      logger: o.logger,
      model: () => connection.model(),
      backoffMs: (n: number) => connection.backoffMs(n),
    };
    this.host = {
      ...reopen,
      names,
      deliveryLimit: o.deliveryLimit,
      alternateExchange: o.alternateExchange,
      forward: (queue, content, opts) => publisher.toQueue(queue, content, opts),
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
          o.logger.warn({ group, eventId: envelope.id, type: envelope.type, ...r }, 'event refused');
        }
        return r;
      },
      publisherHeaders: (msg): Record<string, string> => {
        const user = publisherOf(msg, o.brokerUser);
        return user === undefined ? {} : { [HEADERS.publisherUser]: user };
      },
    };
    this.notices = new UnroutedNotices({ ...reopen, names, metrics: o.metrics });
  }

  /** Whether every subscription is consuming now. */
  get consuming(): boolean {
    for (const s of this.subscriptions) if (!s.consuming) return false;
    return true;
  }

  /** A new connection: reopens every consumer on it. */
  connected(): void {
    for (const s of this.subscriptions) s.ensureOpen();
    this.notices.ensureOpen();
  }

  /** Calls `listener` for every message this process dead-letters; returns an unsubscribe function. */
  onDeadLetter(listener: (d: DeadLetter) => void): () => void {
    this.deadListeners.add(listener);
    return () => this.deadListeners.delete(listener);
  }

  /** Starts consuming as `group` once its queue and bindings exist (see `AmqpEventBus.subscribe`). */
  async subscribe(
    group: string,
    // biome-ignore lint/suspicious/noExplicitAny: each binding carries its own event type
    bindings: readonly EventBinding<any>[],
    options: SubscribeOptions,
  ): Promise<AmqpSubscription> {
    checkGroup(group);
    const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    if (retryDelaysMs.some((d) => !Number.isInteger(d) || d < 0))
      throw invalidOption('retryDelaysMs must hold non-negative integers (ms)');
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 65_535)
      throw invalidOption(`concurrency must be an integer in 1..65535, got ${concurrency}`);
    const handlerTimeoutMs = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    if (!(handlerTimeoutMs > 0)) throw invalidOption(`handlerTimeoutMs must be > 0, got ${handlerTimeoutMs}`);
    // Aborts the running handlers when a drain or close runs out of time; the dispatcher holds one listener on it.
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
    const model = await this.connection.connected(`subscribe ${group}`, AmqpErrors.DISCONNECTED);
    try {
      await sub.start(model);
    } catch (e: unknown) {
      throw topologyError(e, `consumer group ${group}`, this.names);
    }
    this.subscriptions.add(sub);
    sub.ensureOpen();
    return sub;
  }

  /** Reads up to `limit` messages of a group's dead-letter queue without removing them. */
  async deadLetters(group: string, limit: number): Promise<DeadLetter[]> {
    await this.connection.waitUntilConnected({ signal: AbortSignal.timeout(this.o.publishTimeoutMs) });
    return readDeadLetters(this.connection.model()!, this.names.deadLetterQueue(group), group, limit);
  }

  /**
   * Stops every consumer: cancels them, lets in-flight handlers finish and ack (aborted when
   * `signal` aborts), closes their channels; the unrouted notices pass to another bus.
   */
  async stop(signal?: AbortSignal): Promise<void> {
    const options = signal ? { signal } : {};
    await Promise.all([...[...this.subscriptions].map((s) => s.close(options)), this.notices.close()]);
  }
}

/**
 * Checks a consumer group name (subscribe, send).
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) for a malformed or reserved name.
 */
export function checkGroup(group: string): void {
  if (!GROUP_NAME.test(group)) throw invalidOption(`invalid consumer group name "${group}"`);
  if (isReservedGroup(group))
    throw invalidOption(`consumer group name "${group}" is reserved for the unrouted events queues`);
}
