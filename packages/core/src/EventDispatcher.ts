import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createRequestContext, runWithContext } from './context.js';
import type { MessageType } from './contracts.js';
import { CoreErrors, CoreReason, invalidOption } from './coreErrors.js';
import type { DeliveryOutcome } from './DeliveryOutcome.js';
import { decodeEventBody } from './decodeEventBody.js';
import { isRefrontError, type RefrontError } from './errors.js';
import type { EventBinding, EventEnvelope, EventHandler } from './events.js';
import { type Finish, HandlerContext, HandlerRun, handlerWheel } from './internal/HandlerRun.js';
import type { Logger } from './logger.js';
import { invalidMessage, type MessageCheck, type MessageValidator } from './MessageValidator.js';
import { METADATA_IDEMPOTENCY_KEY } from './metadataKeys.js';
import { type MetricsRegistry, type RedRecorder, redRecorder } from './metrics.js';
import { redHistogramOf } from './RedHistogram.js';
import { parseTraceparent, startSpan, withActiveSpan } from './trace.js';

/** Metadata key under which a handler's context carries the event id (the causation of what it publishes). */
export const METADATA_EVENT_ID = 'x-refront-event-id';
/** Metadata key under which a handler's context carries the correlation id. */
export const METADATA_CORRELATION_ID = 'x-refront-correlation-id';

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
  /**
   * Checks every decoded event against its contract's rules before its handler: an event that
   * breaks them is dead-lettered at once (`CORE_INVALID_MESSAGE`, no retry), the dead letter's
   * error naming each field. @default none
   */
  readonly validator?: MessageValidator | undefined;
}

interface Bound {
  readonly type: MessageType<unknown>;
  readonly handler: EventHandler<unknown>;
  readonly check: MessageCheck<unknown> | undefined;
}

const ACK: DeliveryOutcome = Object.freeze({ kind: 'ack' });

/** @internal The handler timeouts' wheel (tests check it tracks nothing once a delivery is handled). */
export { eventHandlerWheel } from './internal/HandlerRun.js';

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
  private readonly spanName: string;
  /** Head of the list of running handlers (only with a shutdown signal). */
  private running: HandlerRun | undefined;

  constructor(private readonly options: EventDispatcherOptions) {
    this.spanName = `${options.group} process`;
    for (const b of options.bindings) {
      if (this.handlers.has(b.type.$type))
        throw invalidOption(`two handlers for ${b.type.$type} in group ${options.group}`);
      this.handlers.set(b.type.$type, {
        type: b.type,
        handler: b.handler,
        check: options.validator?.checkFor(b.type as MessageType<unknown>),
      });
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

  /** Handles one delivery; never throws: whatever the handler does becomes the outcome. */
  dispatch(
    envelope: EventEnvelope,
    body: Uint8Array,
    attempt: number,
    maxAttempts: number,
  ): Promise<DeliveryOutcome> {
    const bound = this.handlers.get(envelope.type);
    if (!bound) {
      const error = `group ${this.options.group} has no handler for ${envelope.type}`;
      return Promise.resolve(this.dead(envelope, CoreReason.NO_HANDLER, error, attempt, true));
    }
    let event: unknown;
    try {
      event = decodeEventBody(bound.type, envelope.contentType, body);
    } catch (e: unknown) {
      const [reason, error] = isRefrontError(e)
        ? [e.reason, e.message]
        : [CoreReason.DECODE_FAILED, String(e)];
      return Promise.resolve(this.dead(envelope, reason, error, attempt, true));
    }
    if (bound.check) {
      const refused = this.refusal(bound, event);
      if (refused)
        return Promise.resolve(this.dead(envelope, refused.reason, refused.message, attempt, true));
    }
    const start = this.histogram ? performance.now() : 0;
    let outcome: Promise<DeliveryOutcome>;
    try {
      outcome = this.run(bound, envelope, event, attempt, maxAttempts);
    } catch (e: unknown) {
      return Promise.reject(e);
    }
    if (!this.histogram) return outcome;
    return outcome.then((o) => {
      this.record(envelope.type, o.kind, (performance.now() - start) / 1000);
      return o;
    });
  }

  /**
   * Why `event` breaks its contract's rules, or undefined when it keeps them. A check that throws
   * fails the same way on every attempt, so it dead-letters the event too (CORE_INTERNAL).
   */
  private refusal(bound: Bound, event: unknown): RefrontError | undefined {
    try {
      const violations = bound.check?.(event) ?? [];
      return violations.length > 0 ? invalidMessage(bound.type, violations) : undefined;
    } catch (e: unknown) {
      const why = e instanceof Error ? e.message : String(e);
      return CoreErrors.INTERNAL.with({ cause: e }, `validating ${bound.type.$type} failed: ${why}`);
    }
  }

  private run(
    bound: Bound,
    envelope: EventEnvelope,
    event: unknown,
    attempt: number,
    maxAttempts: number,
  ): Promise<DeliveryOutcome> {
    const { logger, service, group, handlerTimeoutMs } = this.options;
    const deadline = Date.now() + handlerTimeoutMs;
    // No `cancel` here: the dispatcher aborts its running handlers itself on shutdown (one
    // listener per dispatcher), so a handler that never reads its signal costs no AbortController.
    const ctx = createRequestContext({
      service,
      logger,
      deadline,
      caller: envelope.source,
      tenant: envelope.tenant,
      metadata: {
        [METADATA_EVENT_ID]: envelope.id,
        [METADATA_CORRELATION_ID]: envelope.correlationId ?? envelope.id,
        // Calls the handler makes derive their keys from this one: a redelivered event sends the
        // same keys downstream, so a call its first delivery made is answered from the store.
        [METADATA_IDEMPOTENCY_KEY]: `${group}:${envelope.id}`,
      },
      parent: parseTraceparent(envelope.traceparent),
    });
    const span = startSpan(this.spanName, {
      kind: SpanKind.CONSUMER,
      parent: ctx.parent,
      // The event's producer span is the parent and, as OpenTelemetry's messaging conventions
      // ask of a process span, also its link.
      ...(ctx.parent ? { links: [ctx.parent] } : {}),
      attributes: {
        'messaging.system': 'refront',
        'messaging.operation': 'process',
        'messaging.consumer.group.name': group,
        'messaging.message.id': envelope.id,
        'refront.event.type': envelope.type,
        'refront.event.attempt': attempt,
        // What a trace is searched by: the tenant, and the event's key (the id of what it is about).
        ...(envelope.tenant ? { 'refront.tenant': envelope.tenant } : {}),
        ...(envelope.key ? { 'refront.event.key': envelope.key } : {}),
      },
    });
    ctx.span = span;
    const run = new HandlerRun(
      deadline,
      ctx,
      span,
      envelope,
      attempt,
      maxAttempts,
      handlerTimeoutMs,
      this.finishRun,
    );
    this.track(run);
    if (!run.finished) {
      const context = new HandlerContext(envelope, attempt, logger, ctx);
      runWithContext(ctx, () => withActiveSpan(span, () => run.start(bound.handler, event, context)));
    }
    return run.outcome;
  }

  /** A run ended: release what it held and decide the outcome. */
  private readonly finishRun: Finish = (run, error, failed) => {
    this.untrack(run);
    run.ctx.end();
    if (!failed) {
      run.span.end();
      return ACK;
    }
    return this.failed(run, error);
  };

  private failed(run: HandlerRun, e: unknown): DeliveryOutcome {
    const { ctx, span, envelope, attempt } = run;
    const err = isRefrontError(e)
      ? e
      : CoreErrors.HANDLER_FAILED.with({ cause: e }, e instanceof Error ? e.message : String(e));
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${err.status} ${err.reason}` });
    span.end();
    if (err.status === 'INVALID_ARGUMENT' && !err.retryable) {
      return runWithContext(ctx, () => this.dead(envelope, err.reason, err.message, attempt));
    }
    if (attempt >= run.maxAttempts) {
      return runWithContext(ctx, () =>
        this.dead(
          envelope,
          CoreReason.ATTEMPTS_EXHAUSTED,
          CoreErrors.ATTEMPTS_EXHAUSTED.format(attempt, err),
          attempt,
        ),
      );
    }
    const { logger, group } = this.options;
    runWithContext(ctx, () =>
      logger.warn(
        { group, eventId: envelope.id, type: envelope.type, attempt, reason: err.reason, err: e },
        'event handler failed; will retry',
      ),
    );
    return { kind: 'retry', error: err };
  }

  /** Puts `run` on the timeout wheel and, with a shutdown signal, in the list shutdown aborts. */
  private track(run: HandlerRun): void {
    handlerWheel.add(run);
    const shutdown = this.options.shutdown;
    if (!shutdown) return;
    if (shutdown.aborted) {
      run.abort(shutdown.reason);
      return;
    }
    if (this.running === undefined) shutdown.addEventListener('abort', this.onShutdown, { once: true });
    else this.running.prev = run;
    run.next = this.running;
    this.running = run;
  }

  private untrack(run: HandlerRun): void {
    handlerWheel.remove(run);
    const { prev, next } = run;
    if (prev) prev.next = next;
    else if (this.running === run) this.running = next;
    else return; // never linked (shutdown had already aborted), or unlinked by shutdown
    if (next) next.prev = prev;
    run.prev = run.next = undefined;
    if (this.running === undefined) this.options.shutdown?.removeEventListener('abort', this.onShutdown);
  }

  /** Shutdown's grace period ended: every running handler's signal aborts, and its run fails. */
  private readonly onShutdown = (): void => {
    const reason = this.options.shutdown?.reason;
    let run = this.running;
    this.running = undefined;
    while (run) {
      const next = run.next;
      run.prev = run.next = undefined;
      run.abort(reason);
      run = next;
    }
  };

  /** Dead-letters a delivery; `refused` when no handler ran (a handler's run records its own outcome). */
  private dead(
    envelope: EventEnvelope,
    reason: string,
    error: string,
    attempt: number,
    refused = false,
  ): DeliveryOutcome {
    this.options.logger.error(
      { group: this.options.group, eventId: envelope.id, type: envelope.type, attempt, reason, error },
      'event dead-lettered',
    );
    if (refused) this.record(envelope.type, 'dead', 0);
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
