import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createRequestContext, runWithContext } from './context.js';
import type { MessageType } from './contracts.js';
import { CoreReason, isRefrontError, RefrontError } from './errors.js';
import type { EventBinding, EventEnvelope, EventHandler } from './events.js';
import type { Logger } from './logger.js';
import { type MetricsRegistry, type RedRecorder, redRecorder } from './metrics.js';
import { redHistogramOf } from './RedHistogram.js';
import { parseTraceparent, startSpan, withActiveSpan } from './trace.js';

/** Metadata key under which a handler's context carries the event id (the causation of what it publishes). */
export const METADATA_EVENT_ID = 'x-refront-event-id';
/** Metadata key under which a handler's context carries the correlation id. */
export const METADATA_CORRELATION_ID = 'x-refront-correlation-id';

/** What a transport does with a delivery after the handler ran. */
export type DeliveryOutcome =
  /** Handled: acknowledge it. */
  | { readonly kind: 'ack' }
  /** Failed but may succeed later: redeliver after the next retry delay. */
  | { readonly kind: 'retry'; readonly error: RefrontError }
  /** Give up: move it to the dead-letter queue with the reason. */
  | { readonly kind: 'dead'; readonly reason: string; readonly error: string };

/** Options of {@link createEventDispatcher}. */
export interface EventDispatcherOptions {
  /** The consumer group. */
  readonly group: string;
  /** The consuming service (logs, the request context). */
  readonly service: string;
  /** The consuming service's logger. */
  readonly logger: Logger;
  /** Registry for consumer RED metrics. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** The handlers, by event type. */
  // biome-ignore lint/suspicious/noExplicitAny: each binding carries its own event type
  readonly bindings: readonly EventBinding<any>[];
  /** Time allowed per handler run, in ms. */
  readonly handlerTimeoutMs: number;
  /** Aborts every running handler (shutdown's grace period ended). */
  readonly shutdown?: AbortSignal | undefined;
}

interface Bound {
  readonly type: MessageType<unknown>;
  readonly handler: EventHandler<unknown>;
}

/**
 * The transport-neutral half of every event consumer: decodes a delivery, runs its handler in a
 * request context with a consumer span (child of the producer's) and a timeout, and says whether
 * to ack, retry or dead-letter. The in-process and AMQP buses do only I/O around it, so
 * consumers behave the same on both.
 */
export class EventDispatcher {
  private readonly handlers = new Map<string, Bound>();
  private readonly histogram;
  private readonly recorders = new Map<string, RedRecorder>();

  constructor(private readonly options: EventDispatcherOptions) {
    for (const b of options.bindings) {
      if (this.handlers.has(b.type.$type))
        throw new RefrontError(
          'INVALID_ARGUMENT',
          CoreReason.INVALID_OPTION,
          `two handlers for ${b.type.$type} in group ${options.group}`,
        );
      this.handlers.set(b.type.$type, b as Bound);
    }
    this.histogram = options.metrics
      ? redHistogramOf(
          options.metrics,
          'refront_event_handler_duration_seconds',
          'Duration of event handler runs, by consumer group, event type and outcome (RED).',
          ['group', 'event_type', 'status'],
        )
      : undefined;
  }

  /** The event types this dispatcher handles. */
  get types(): string[] {
    return [...this.handlers.keys()];
  }

  /** Handles one delivery; never throws. */
  async dispatch(
    envelope: EventEnvelope,
    body: Uint8Array,
    attempt: number,
    maxAttempts: number,
  ): Promise<DeliveryOutcome> {
    const bound = this.handlers.get(envelope.type);
    if (!bound) {
      return this.dead(
        envelope,
        CoreReason.NO_HANDLER,
        `group ${this.options.group} has no handler for ${envelope.type}`,
        attempt,
      );
    }
    let event: unknown;
    try {
      event = bound.type.decode(body);
    } catch (e: unknown) {
      return this.dead(
        envelope,
        CoreReason.DECODE_FAILED,
        `body does not decode as ${envelope.type}: ${String(e)}`,
        attempt,
      );
    }
    const start = performance.now();
    const outcome = await this.run(bound, envelope, event, attempt, maxAttempts);
    this.record(envelope.type, outcome.kind, (performance.now() - start) / 1000);
    return outcome;
  }

  private async run(
    bound: Bound,
    envelope: EventEnvelope,
    event: unknown,
    attempt: number,
    maxAttempts: number,
  ): Promise<DeliveryOutcome> {
    const { logger, service, group, handlerTimeoutMs } = this.options;
    const metadata: Record<string, string> = { [METADATA_EVENT_ID]: envelope.id };
    metadata[METADATA_CORRELATION_ID] = envelope.correlationId ?? envelope.id;
    const ctx = createRequestContext({
      service,
      logger,
      deadline: Date.now() + handlerTimeoutMs,
      caller: envelope.source,
      tenant: envelope.tenant,
      metadata,
      parent: parseTraceparent(envelope.traceparent),
      cancel: this.options.shutdown,
    });
    const span = startSpan(`${group} process`, {
      kind: SpanKind.CONSUMER,
      parent: ctx.parent,
      attributes: {
        'messaging.system': 'refront',
        'messaging.operation': 'process',
        'messaging.consumer.group.name': group,
        'messaging.message.id': envelope.id,
        'refront.event.type': envelope.type,
        'refront.event.attempt': attempt,
      },
    });
    ctx.span = span;
    const timer = setTimeout(
      () =>
        ctx.abort(
          new RefrontError(
            'DEADLINE_EXCEEDED',
            CoreReason.DEADLINE_EXCEEDED,
            `handler took over ${handlerTimeoutMs} ms`,
          ),
        ),
      handlerTimeoutMs,
    );
    try {
      await runWithContext(ctx, () =>
        withActiveSpan(span, () =>
          Promise.race([
            bound.handler(event, { envelope, attempt, signal: ctx.signal, logger }),
            new Promise<never>((_, reject) => {
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
            }),
          ]),
        ),
      );
      span.end();
      return { kind: 'ack' };
    } catch (e: unknown) {
      const err = isRefrontError(e)
        ? e
        : new RefrontError('UNKNOWN', 'CORE_HANDLER_FAILED', e instanceof Error ? e.message : String(e), {
            cause: e,
            retryable: true,
          });
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${err.status} ${err.reason}` });
      span.end();
      if (err.status === 'INVALID_ARGUMENT' && !err.retryable) {
        return runWithContext(ctx, () => this.dead(envelope, err.reason, err.message, attempt));
      }
      if (attempt >= maxAttempts) {
        return runWithContext(ctx, () =>
          this.dead(
            envelope,
            CoreReason.ATTEMPTS_EXHAUSTED,
            `failed ${attempt} time(s); last error: ${err.reason}: ${err.message}`,
            attempt,
          ),
        );
      }
      runWithContext(ctx, () =>
        logger.warn(
          { group, eventId: envelope.id, type: envelope.type, attempt, reason: err.reason, err: e },
          'event handler failed; will retry',
        ),
      );
      return { kind: 'retry', error: err };
    } finally {
      clearTimeout(timer);
      ctx.end();
    }
  }

  private dead(envelope: EventEnvelope, reason: string, error: string, attempt: number): DeliveryOutcome {
    this.options.logger.error(
      { group: this.options.group, eventId: envelope.id, type: envelope.type, attempt, reason, error },
      'event dead-lettered',
    );
    if (reason === CoreReason.NO_HANDLER || reason === CoreReason.DECODE_FAILED)
      this.record(envelope.type, 'dead', 0);
    return { kind: 'dead', reason, error };
  }

  private record(type: string, status: string, seconds: number): void {
    if (!this.histogram) return;
    let rec = this.recorders.get(type);
    if (!rec) {
      rec = redRecorder(this.histogram, { group: this.options.group, event_type: type });
      this.recorders.set(type, rec);
    }
    rec.observe(status, seconds);
  }
}

/**
 * Creates an {@link EventDispatcher} for one consumer group (for event transports).
 *
 * @example
 * const d = createEventDispatcher({ group: 'billing', service: 'invoicing', logger, bindings, handlerTimeoutMs: 30_000 });
 * const outcome = await d.dispatch(envelope, body, attempt, 5);
 */
export function createEventDispatcher(options: EventDispatcherOptions): EventDispatcher {
  return new EventDispatcher(options);
}
