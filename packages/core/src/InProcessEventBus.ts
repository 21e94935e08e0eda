import type { DeepPartial, MessageType } from './contracts.js';
import { CoreErrors, invalidOption } from './coreErrors.js';
import { createEventDispatcher, type EventDispatcher } from './EventDispatcher.js';
import { encodeEvent } from './envelope.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_RETRY_DELAYS_MS,
  type DeadLetter,
  type EventBinding,
  type EventBus,
  type EventEnvelope,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from './events.js';
import type { Logger } from './logger.js';
import type { MessageValidator } from './MessageValidator.js';
import type { MetricsRegistry } from './metrics.js';

/** Options of {@link createInProcessEventBus}. */
export interface InProcessEventBusOptions {
  /** Name of the publishing service, stamped as `source` on envelopes. */
  readonly service: string;
  /** Logger for consumer outcomes. */
  readonly logger: Logger;
  /** Registry for consumer RED metrics. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /**
   * Checks events against their contracts' rules before their handlers, for every subscription
   * that sets no `validator` of its own (see {@link SubscribeOptions.validator}). @default none
   */
  readonly validator?: MessageValidator | undefined;
}

/** A valid consumer group name: what RabbitMQ accepts as part of a queue name, too. */
export const GROUP_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

interface Delivery {
  readonly envelope: EventEnvelope;
  readonly body: Uint8Array;
  readonly attempt: number;
}

interface Consumer {
  readonly dispatcher: EventDispatcher;
  readonly retryDelaysMs: readonly number[];
  readonly concurrency: number;
  inflight: number;
  closing: boolean;
  idle?: (() => void) | undefined;
}

class Group {
  readonly pending: Delivery[] = [];
  readonly bound = new Set<string>();
  readonly consumers: Consumer[] = [];
  private next = 0;

  constructor(
    readonly name: string,
    private readonly bus: InProcessEventBus,
  ) {}

  pump(): void {
    while (this.pending.length > 0) {
      const consumer = this.pickConsumer();
      if (!consumer) return;
      const delivery = this.pending.shift()!;
      consumer.inflight++;
      void this.deliver(consumer, delivery);
    }
  }

  private pickConsumer(): Consumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const c = this.consumers[(this.next + i) % this.consumers.length]!;
      if (!c.closing && c.inflight < c.concurrency) {
        this.next = (this.next + i + 1) % this.consumers.length;
        return c;
      }
    }
    return undefined;
  }

  private async deliver(consumer: Consumer, d: Delivery): Promise<void> {
    const maxAttempts = consumer.retryDelaysMs.length + 1;
    const outcome = await consumer.dispatcher.dispatch(d.envelope, d.body, d.attempt, maxAttempts);
    if (outcome.kind === 'retry') {
      const delay = consumer.retryDelaysMs[d.attempt - 1] ?? 0;
      this.bus.schedule(delay, () => {
        this.pending.push({ ...d, attempt: d.attempt + 1 });
        this.pump();
      });
    } else if (outcome.kind === 'dead') {
      this.bus.deadLetter({
        group: this.name,
        envelope: d.envelope,
        body: d.body,
        reason: outcome.reason,
        error: outcome.error,
        attempts: d.attempt,
        deadLetteredAt: Date.now(),
      });
    }
    consumer.inflight--;
    if (consumer.closing && consumer.inflight === 0) consumer.idle?.();
    this.pump();
  }
}

/**
 * The embedded event bus: the same semantics as the RabbitMQ transport, with no broker. Each
 * consumer group is a queue that keeps its events while no subscription consumes it; failing
 * handlers are retried after `retryDelaysMs`, then dead-lettered with the reason. Events live
 * in memory: they survive a subscription restart, not a process restart.
 */
export class InProcessEventBus implements EventBus {
  private readonly groups = new Map<string, Group>();
  private readonly dead: DeadLetter[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly deadListeners = new Set<(d: DeadLetter) => void>();
  private closed = false;

  constructor(private readonly options: InProcessEventBusOptions) {}

  /** Publishes as `service` (the monolith gives each service its own view of one bus). */
  as(service: string): EventBus {
    return {
      publish: (type, event, opts) => this.publishAs(service, type, event, opts),
      publishRaw: (envelope, body) => this.publishRaw(envelope, body),
      send: (group, type, message, opts) => this.sendAs(service, group, type, message, opts),
      subscribe: (group, bindings, opts) => this.subscribeAs(service, group, bindings, opts),
      close: () => Promise.resolve(),
    };
  }

  publish<T>(type: MessageType<T>, event: DeepPartial<T>, options?: PublishOptions): Promise<EventEnvelope> {
    return this.publishAs(this.options.service, type, event, options);
  }

  private async publishAs<T>(
    source: string,
    type: MessageType<T>,
    event: DeepPartial<T>,
    options?: PublishOptions,
  ): Promise<EventEnvelope> {
    options?.signal?.throwIfAborted();
    const { envelope, body } = encodeEvent(source, type, event, options);
    await this.publishRaw(envelope, body);
    return envelope;
  }

  send<T>(
    group: string,
    type: MessageType<T>,
    message: DeepPartial<T>,
    options?: PublishOptions,
  ): Promise<EventEnvelope> {
    return this.sendAs(this.options.service, group, type, message, options);
  }

  private async sendAs<T>(
    source: string,
    name: string,
    type: MessageType<T>,
    message: DeepPartial<T>,
    options?: PublishOptions,
  ): Promise<EventEnvelope> {
    options?.signal?.throwIfAborted();
    if (this.closed) throw CoreErrors.CLOSED('the event bus');
    if (!GROUP_NAME.test(name)) throw invalidOption(`invalid consumer group name "${name}"`);
    const { envelope, body } = encodeEvent(source, type, message, options);
    const group = this.groupOf(name);
    group.pending.push({ envelope, body, attempt: 1 });
    queueMicrotask(() => group.pump());
    return envelope;
  }

  private groupOf(name: string): Group {
    let group = this.groups.get(name);
    if (!group) {
      group = new Group(name, this);
      this.groups.set(name, group);
    }
    return group;
  }

  publishRaw(envelope: EventEnvelope, body: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(CoreErrors.CLOSED('the event bus'));
    for (const group of this.groups.values()) {
      if (!group.bound.has(envelope.type)) continue;
      group.pending.push({ envelope, body: new Uint8Array(body), attempt: 1 });
      queueMicrotask(() => group.pump());
    }
    return Promise.resolve();
  }

  subscribe(
    group: string, // biome-ignore lint/suspicious/noExplicitAny: each binding carries its own event type
    bindings: readonly EventBinding<any>[],
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    return this.subscribeAs(this.options.service, group, bindings, options);
  }

  private async subscribeAs(
    service: string,
    name: string,
    // biome-ignore lint/suspicious/noExplicitAny: each binding carries its own event type
    bindings: readonly EventBinding<any>[],
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (this.closed) throw CoreErrors.CLOSED('the event bus');
    if (!GROUP_NAME.test(name)) throw invalidOption(`invalid consumer group name "${name}"`);
    const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    if (retryDelaysMs.some((d) => !(d >= 0)))
      throw invalidOption('retryDelaysMs must hold non-negative numbers');
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!(concurrency >= 1)) throw invalidOption(`concurrency must be >= 1, got ${concurrency}`);
    const handlerTimeoutMs = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    if (!(handlerTimeoutMs > 0)) throw invalidOption(`handlerTimeoutMs must be > 0, got ${handlerTimeoutMs}`);
    const group = this.groupOf(name);
    const dispatcher = createEventDispatcher({
      group: name,
      service,
      logger: this.options.logger,
      metrics: this.options.metrics,
      bindings,
      handlerTimeoutMs,
      validator: options.validator ?? this.options.validator,
    });
    for (const type of dispatcher.types) group.bound.add(type);
    const consumer: Consumer = { dispatcher, retryDelaysMs, concurrency, inflight: 0, closing: false };
    group.consumers.push(consumer);
    const g = group;
    let closing: Promise<void> | undefined;
    const subscription: Subscription = {
      group: name,
      close: () => {
        closing ??= (async () => {
          consumer.closing = true;
          if (consumer.inflight > 0) await new Promise<void>((resolve) => (consumer.idle = resolve));
          g.consumers.splice(g.consumers.indexOf(consumer), 1);
          this.subscriptions.delete(subscription);
          g.pump();
        })();
        return closing;
      },
      dispose: () => subscription.close(),
      [Symbol.asyncDispose]: () => subscription.close(),
    };
    this.subscriptions.add(subscription);
    queueMicrotask(() => g.pump());
    return subscription;
  }

  /**
   * Events of a group not handled yet: waiting in its queue, or in a handler now. A wait for
   * "quiet" (0) that counted only the queue would end while a slow handler still runs. A failed
   * event waiting for its retry delay is not counted until it is queued again.
   */
  pendingCount(group: string): number {
    const g = this.groups.get(group);
    if (!g) return 0;
    let inHandlers = 0;
    for (const c of g.consumers) inHandlers += c.inflight;
    return g.pending.length + inHandlers;
  }

  /** The dead letters, optionally of one group, oldest first. */
  deadLetters(group?: string): readonly DeadLetter[] {
    return group === undefined ? [...this.dead] : this.dead.filter((d) => d.group === group);
  }

  /** Calls `listener` for every event dead-lettered from now on; returns an unsubscribe function. */
  onDeadLetter(listener: (d: DeadLetter) => void): () => void {
    this.deadListeners.add(listener);
    return () => this.deadListeners.delete(listener);
  }

  /**
   * Puts a dead letter back into its group's queue as a first attempt (after a fix).
   * @throws RefrontError NOT_FOUND when no dead letter has that event id in that group.
   */
  replay(group: string, eventId: string): void {
    const i = this.dead.findIndex((d) => d.group === group && d.envelope.id === eventId);
    const g = this.groups.get(group);
    if (i < 0 || !g) throw CoreErrors.DEAD_LETTER_NOT_FOUND(eventId, group);
    const [d] = this.dead.splice(i, 1);
    g.pending.push({ envelope: d!.envelope, body: d!.body, attempt: 1 });
    g.pump();
  }

  /**
   * Drops a dead letter for good (it was handled by hand, or is not worth handling).
   * @throws RefrontError NOT_FOUND when no dead letter has that event id in that group.
   */
  discard(group: string, eventId: string): void {
    const i = this.dead.findIndex((d) => d.group === group && d.envelope.id === eventId);
    if (i < 0) throw CoreErrors.DEAD_LETTER_NOT_FOUND(eventId, group);
    this.dead.splice(i, 1);
  }

  /** @internal */
  deadLetter(d: DeadLetter): void {
    this.dead.push(d);
    for (const l of this.deadListeners) l(d);
  }

  /** @internal */
  schedule(delayMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Closes every subscription (in-flight handlers finish) and refuses further publishes. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/**
 * Creates the embedded event bus, the default of the monolith topology.
 *
 * @example
 * const bus = createInProcessEventBus({ service: 'tickets', logger });
 * await bus.subscribe('ai', [on(TicketCreated, classify)], { retryDelaysMs: [100, 500] });
 * await bus.publish(TicketCreated, { ticketId: 't-1' });
 */
export function createInProcessEventBus(options: InProcessEventBusOptions): InProcessEventBus {
  return new InProcessEventBus(options);
}
