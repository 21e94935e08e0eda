import type { DeepPartial, MessageType } from './contracts.js';
import type { Disposable } from './DisposableStore.js';
import type { Logger } from './logger.js';
import type { MessageValidator } from './MessageValidator.js';

/** Content type of every Refront event body. */
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

/** Facts about one event, carried beside its protobuf body (AMQP properties and headers). */
export interface EventEnvelope {
  /** Unique message id; consumers deduplicate on it. */
  readonly id: string;
  /** Fully-qualified protobuf name of the body (`refront.tickets.v1.TicketCreated`). */
  readonly type: string;
  /** Version of the body's schema. @default 1 */
  readonly schemaVersion: number;
  /** `application/x-protobuf` for events published by Refront; consumers also decode JSON (`decodeEventBody`). */
  readonly contentType: string;
  /** When the event was published, in ms since the epoch. */
  readonly timestamp: number;
  /** Name of the publishing service. */
  readonly source: string;
  /** W3C trace context of the publishing span. */
  readonly traceparent?: string | undefined;
  /** Id of the message that caused this one. */
  readonly causationId?: string | undefined;
  /** Id shared by every message of one business flow. */
  readonly correlationId?: string | undefined;
  /** Tenant the event belongs to. */
  readonly tenant?: string | undefined;
  /** Aggregate key (ticket id…): events with one key are published in order. */
  readonly key?: string | undefined;
}

/** What an event handler gets besides the decoded event. */
export interface EventContext {
  /** The envelope as received. */
  readonly envelope: EventEnvelope;
  /** 1 on first delivery, then 2, 3… on retries. */
  readonly attempt: number;
  /** Aborts when the handler timeout passes or when shutdown's grace period ends. */
  readonly signal: AbortSignal;
  /** The consumer service's logger (lines carry the trace id). */
  readonly logger: Logger;
}

/** Handles one event; a throw means retry later (or dead-letter once attempts run out). */
export type EventHandler<T> = (event: T, context: EventContext) => Promise<void>;

/** A handler bound to the event type it handles. */
export interface EventBinding<T> {
  readonly type: MessageType<T>;
  readonly handler: EventHandler<T>;
}

/**
 * Binds a handler to an event type, typed from the contract.
 *
 * @example
 * await bus.subscribe('invoicing', [on(TimeLogged, async (e) => addLine(e))]);
 */
export function on<T>(type: MessageType<T>, handler: EventHandler<T>): EventBinding<T> {
  return { type, handler };
}

/** Options of {@link EventBus.publish}. */
export interface PublishOptions {
  /** Stops waiting for the confirm once aborted (the publish may still have happened). */
  readonly signal?: AbortSignal;
  /** Message id. @default a random UUID */
  readonly id?: string;
  /** Aggregate key for per-aggregate ordering. */
  readonly key?: string;
  /** Id of the message that caused this one. @default the current event's id, when inside a handler */
  readonly causationId?: string;
  /** Flow id. @default the current event's correlation id, when inside a handler */
  readonly correlationId?: string;
  /** Tenant. @default the current request context's tenant */
  readonly tenant?: string;
  /** Schema version of the body. @default 1 */
  readonly schemaVersion?: number;
}

/** Options of {@link EventBus.subscribe}. */
export interface SubscribeOptions {
  /**
   * Delays before each retry, in ms: attempt n+1 waits `retryDelaysMs[n-1]`. Attempts in all
   * are `retryDelaysMs.length + 1`; after the last one the event is dead-lettered.
   * @default DEFAULT_RETRY_DELAYS_MS
   */
  readonly retryDelaysMs?: readonly number[];
  /** Events handled at once by this subscription (the AMQP prefetch). @default 16 */
  readonly concurrency?: number;
  /** Time allowed for one handler run, in ms; then its signal aborts and the attempt fails. @default 30000 */
  readonly handlerTimeoutMs?: number;
  /**
   * Checks each decoded event against its contract's rules before its handler; an event that
   * breaks them is dead-lettered at once (`CORE_INVALID_MESSAGE`, no retry) with each field named
   * in the dead letter's error. @default the bus's `validator`, else none
   */
  readonly validator?: MessageValidator;
}

/** Retry delays used when a subscription sets none: 5 attempts over about 20 s. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [250, 1_000, 4_000, 15_000];
/** Default events handled at once per subscription. */
export const DEFAULT_CONCURRENCY = 16;
/** Default time allowed for one handler run, in ms. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 30_000;

/** A running consumer group subscription. */
export interface Subscription extends Disposable {
  /** The consumer group. */
  readonly group: string;
  /** Stops taking events, lets in-flight handlers finish, then releases; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** An event the bus gave up on, with why. */
export interface DeadLetter {
  /** The consumer group that failed it. */
  readonly group: string;
  /** The envelope as published. */
  readonly envelope: EventEnvelope;
  /** The body as published. */
  readonly body: Uint8Array;
  /** Reason code (`CORE_DECODE_FAILED`, `CORE_NO_HANDLER`, `CORE_ATTEMPTS_EXHAUSTED`, or the handler's). */
  readonly reason: string;
  /** Message of the last error. */
  readonly error: string;
  /** Attempts made. */
  readonly attempts: number;
  /** When it was dead-lettered, ms since the epoch. */
  readonly deadLetteredAt: number;
}

/**
 * Typed publish/subscribe. Every consumer group gets every event it is bound to at least once;
 * a failing handler is retried with backoff, then dead-lettered with the reason. Implemented
 * in-process by core and on RabbitMQ by `@refront/transport-amqp`.
 *
 * @example
 * await bus.publish(TicketCreated, { ticketId, title });
 * const sub = await bus.subscribe('ai', [on(TicketCreated, classify)], { concurrency: 8 });
 */
export interface EventBus {
  /**
   * Publishes an event; resolves once the bus has it durably (confirmed).
   * @throws RefrontError UNAVAILABLE when the bus cannot take it; the event is then not published.
   */
  publish<T>(type: MessageType<T>, event: DeepPartial<T>, options?: PublishOptions): Promise<EventEnvelope>;
  /**
   * Sends a command to one consumer group: it goes to that group's queue only (whatever the
   * group's bindings), waits there while the group is not consuming, and is handled, retried and
   * dead-lettered like an event. A group without a handler for the type dead-letters it
   * (`CORE_NO_HANDLER`). Resolves once the bus has it durably (confirmed).
   * @throws RefrontError INVALID_ARGUMENT for a bad group name; UNAVAILABLE when the bus cannot take it.
   * @example
   * await bus.send('invoicing', CloseBillingPeriod, { period: '2025-01' });
   */
  send<T>(
    group: string,
    type: MessageType<T>,
    message: DeepPartial<T>,
    options?: PublishOptions,
  ): Promise<EventEnvelope>;
  /** Publishes an already-encoded body (replays, relays of an outbox). */
  publishRaw(
    envelope: EventEnvelope,
    body: Uint8Array,
    options?: { readonly signal?: AbortSignal },
  ): Promise<void>;
  /**
   * Starts consuming as `group` (a durable queue: events for it wait while it is stopped).
   * @throws RefrontError INVALID_ARGUMENT for a bad group name or options.
   */
  subscribe(
    group: string,
    // biome-ignore lint/suspicious/noExplicitAny: each binding carries its own event type
    bindings: readonly EventBinding<any>[],
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  /** Stops every subscription (letting in-flight handlers finish) and releases the bus. */
  close(): Promise<void>;
}
