import { getEventListeners } from 'node:events';
import { ThingHappened } from '@refront/test-contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { currentContext } from './context.js';
import { CoreReason } from './coreErrors.js';
import type { DeliveryOutcome } from './DeliveryOutcome.js';
import { createEventDispatcher, eventHandlerWheel } from './EventDispatcher.js';
import { RefrontError } from './errors.js';
import { type EventEnvelope, type EventHandler, on } from './events.js';
import { createLogger } from './logger.js';
import { useInMemoryTracing } from './testing/inMemoryTracing.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const body = ThingHappened.encode(ThingHappened.fromPartial({ id: 'e-1', sequence: 1 })).finish();

function envelope(over: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: 'e-1',
    type: ThingHappened.$type,
    schemaVersion: 1,
    contentType: 'application/x-protobuf',
    timestamp: Date.now(),
    source: 'producer',
    ...over,
  };
}

function dispatcher(handler: EventHandler<unknown>, handlerTimeoutMs = 30_000, shutdown?: AbortSignal) {
  return createEventDispatcher({
    group: 'billing',
    service: 'invoicing',
    logger,
    bindings: [on(ThingHappened, handler)],
    handlerTimeoutMs,
    shutdown,
  });
}

function errorOf(outcome: DeliveryOutcome): RefrontError {
  if (outcome.kind !== 'retry') throw new Error(`expected a retry, got ${outcome.kind}`);
  return outcome.error;
}

/** Counts AbortControllers made while `fn` runs. */
async function controllersMadeBy(fn: () => Promise<unknown>): Promise<number> {
  const Original = globalThis.AbortController;
  let made = 0;
  class Counting extends Original {
    constructor() {
      super();
      made++;
    }
  }
  globalThis.AbortController = Counting;
  try {
    await fn();
  } finally {
    globalThis.AbortController = Original;
  }
  return made;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('event dispatcher', () => {
  it('acks a handled event, run in a request context carrying the event and correlation ids and an idempotency key', async () => {
    let seen: Readonly<Record<string, string>> | undefined;
    const d = dispatcher(async () => {
      seen = currentContext()?.metadata;
    });
    expect(await d.dispatch(envelope({ correlationId: 'flow-1' }), body, 1, 5)).toEqual({ kind: 'ack' });
    expect(seen).toEqual({
      'x-refront-event-id': 'e-1',
      'x-refront-correlation-id': 'flow-1',
      'x-refront-idempotency-key': 'billing:e-1',
    });
  });

  it('times out a handler that ignores its signal, aborting the signal with DEADLINE_EXCEEDED', async () => {
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;
    const d = dispatcher(async (_e, ctx) => {
      signal = ctx.signal;
      await new Promise(() => {}); // never settles, never looks at the signal again
    }, 50);
    const outcome = d.dispatch(envelope(), body, 1, 5);
    await vi.advanceTimersByTimeAsync(100);
    const err = errorOf(await outcome);
    expect(err.status).toBe('DEADLINE_EXCEEDED');
    expect(err.reason).toBe(CoreReason.DEADLINE_EXCEEDED);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(err);
  });

  it('never times out early', async () => {
    vi.useFakeTimers();
    let settled = false;
    const d = dispatcher(() => new Promise(() => {}), 50);
    const outcome = d.dispatch(envelope(), body, 1, 5).then((o) => {
      settled = true;
      return o;
    });
    await vi.advanceTimersByTimeAsync(49);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(errorOf(await outcome).status).toBe('DEADLINE_EXCEEDED');
  });

  it('gives a handler reading its signal late an already aborted one after the timeout', async () => {
    vi.useFakeTimers();
    let late: AbortSignal | undefined;
    let release: () => void = () => {};
    const d = dispatcher(async (_e, ctx) => {
      await new Promise<void>((r) => (release = r));
      late = ctx.signal;
    }, 50);
    const outcome = d.dispatch(envelope(), body, 1, 5);
    await vi.advanceTimersByTimeAsync(100);
    expect(errorOf(await outcome).status).toBe('DEADLINE_EXCEEDED');
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(late?.aborted).toBe(true);
    expect(late?.reason).toMatchObject({ status: 'DEADLINE_EXCEEDED' });
  });

  it('makes no AbortController for a handler that never reads its signal, and one for a handler that does', async () => {
    const ignores = dispatcher(async () => {});
    const reads = dispatcher(async (_e, ctx) => void ctx.signal.aborted);
    const shutdown = new AbortController();
    const withShutdown = dispatcher(async () => {}, 30_000, shutdown.signal);
    expect(await controllersMadeBy(() => ignores.dispatch(envelope(), body, 1, 5))).toBe(0);
    expect(await controllersMadeBy(() => withShutdown.dispatch(envelope(), body, 1, 5))).toBe(0);
    expect(await controllersMadeBy(() => reads.dispatch(envelope(), body, 1, 5))).toBe(1);
  });

  it('aborts every running handler when shutdown aborts, with one listener on the shutdown signal', async () => {
    const shutdown = new AbortController();
    const signals: AbortSignal[] = [];
    const d = dispatcher(
      async (_e, ctx) => {
        if (signals.push(ctx.signal) === 1)
          await new Promise(() => {}); // ignores its signal
        else await new Promise((_, reject) => ctx.signal.addEventListener('abort', reject));
      },
      30_000,
      shutdown.signal,
    );
    const outcomes = [d.dispatch(envelope(), body, 1, 5), d.dispatch(envelope({ id: 'e-2' }), body, 1, 5)];
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    shutdown.abort(new RefrontError('UNAVAILABLE', CoreReason.CLOSED, 'shutting down'));
    for (const o of await Promise.all(outcomes)) expect(errorOf(o).reason).toBe(CoreReason.CLOSED);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it('does not run a handler once shutdown has aborted, and retries the delivery', async () => {
    const shutdown = new AbortController();
    shutdown.abort(new RefrontError('UNAVAILABLE', CoreReason.CLOSED, 'shutting down'));
    const handler = vi.fn(async () => {});
    const d = dispatcher(handler, 30_000, shutdown.signal);
    expect(errorOf(await d.dispatch(envelope(), body, 1, 5)).reason).toBe(CoreReason.CLOSED);
    expect(handler).not.toHaveBeenCalled();
  });

  it('leaves nothing on the timeout wheel nor on the shutdown signal once deliveries are handled', async () => {
    const shutdown = new AbortController();
    let n = 0;
    const d = dispatcher(
      async () => {
        if (++n % 3 === 0) throw new Error('flaky');
      },
      30_000,
      shutdown.signal,
    );
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => d.dispatch(envelope({ id: `e-${i}` }), body, 1, 5)),
    );
    expect(outcomes.filter((o) => o.kind === 'retry')).toHaveLength(10);
    expect(eventHandlerWheel.size).toBe(0);
    expect(eventHandlerWheel.holdsProcess).toBe(false);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it('retries a handler that throws synchronously', async () => {
    const d = dispatcher(() => {
      throw new Error('sync');
    });
    const err = errorOf(await d.dispatch(envelope(), body, 1, 5));
    expect(err.reason).toBe('CORE_HANDLER_FAILED');
    expect(err.message).toBe('sync');
  });

  it('dead-letters a non-retryable INVALID_ARGUMENT at once, and any failure on the last attempt', async () => {
    const invalid = dispatcher(async () => {
      throw new RefrontError('INVALID_ARGUMENT', 'BILLING_BAD_PERIOD', 'no such period');
    });
    expect(await invalid.dispatch(envelope(), body, 1, 5)).toEqual({
      kind: 'dead',
      reason: 'BILLING_BAD_PERIOD',
      error: 'no such period',
    });
    const failing = dispatcher(async () => {
      throw new Error('down');
    });
    const last = await failing.dispatch(envelope(), body, 5, 5);
    expect(last).toMatchObject({ kind: 'dead', reason: CoreReason.ATTEMPTS_EXHAUSTED });
  });
});

describe('event dispatcher: tracing', () => {
  const exporter = useInMemoryTracing();

  it("runs the handler under a consumer span, child of the producer's, marked as failed on a timeout", async () => {
    exporter.reset();
    let traceId = '';
    const d = dispatcher(async () => {
      traceId = currentContext()?.traceId ?? '';
      await new Promise(() => {});
    }, 20);
    const traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const outcome = await d.dispatch(envelope({ traceparent, tenant: 'acme', key: 'ticket-7' }), body, 2, 5);
    expect(errorOf(outcome).status).toBe('DEADLINE_EXCEEDED');
    expect(traceId).toBe('a'.repeat(32));
    const span = exporter.getFinishedSpans().find((s) => s.name === 'billing process');
    expect(span?.parentSpanContext?.spanId).toBe('b'.repeat(16));
    expect(span?.attributes['refront.event.attempt']).toBe(2);
    expect(span?.attributes['refront.tenant']).toBe('acme');
    expect(span?.attributes['refront.event.key']).toBe('ticket-7');
    expect(span?.status.message).toBe('DEADLINE_EXCEEDED CORE_DEADLINE_EXCEEDED');
  });
});
