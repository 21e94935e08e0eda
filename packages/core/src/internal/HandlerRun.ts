import type { Span } from '@opentelemetry/api';
import type { MutableRequestContext } from '../context.js';
import { CoreErrors } from '../coreErrors.js';
import { DeadlineWheel, type Expirable } from '../DeadlineWheel.js';
import type { DeliveryOutcome } from '../DeliveryOutcome.js';
import type { EventContext, EventEnvelope, EventHandler } from '../events.js';
import type { Logger } from '../logger.js';

/** How late, at most, a handler timeout fires after its deadline, in ms (never early). */
const HANDLER_TIMEOUT_RESOLUTION_MS = 10;

/**
 * One wheel for the handler timeouts of every dispatcher in the process (a `setTimeout` and
 * `clearTimeout` per delivery cost about 0.5 µs). Unref'd: the transport's connection, not a
 * running handler's deadline, is what keeps a consumer process alive.
 */
export const handlerWheel = new DeadlineWheel({ resolutionMs: HANDLER_TIMEOUT_RESOLUTION_MS });

/** @internal The handler timeouts' wheel (tests check it tracks nothing once a delivery is handled). */
export const eventHandlerWheel: Pick<DeadlineWheel, 'size' | 'holdsProcess' | 'armed'> = handlerWheel;

// The executor of every run's promise: a module-level function hands over resolve and reject
// without a closure per delivery.
let nextResolve: (outcome: DeliveryOutcome) => void = () => {};
let nextReject: (e: unknown) => void = () => {};
function capture(resolve: (outcome: DeliveryOutcome) => void, reject: (e: unknown) => void): void {
  nextResolve = resolve;
  nextReject = reject;
}

/** How a run's end becomes its outcome (the dispatcher's, bound once). */
export type Finish = (run: HandlerRun, error: unknown, failed: boolean) => DeliveryOutcome;

/**
 * One handler run, and its one promise: it resolves with the delivery's outcome once the
 * handler settles, or once the timeout (on the wheel) or shutdown comes first, which also aborts
 * the request context with the reason. Whichever comes first wins; the rest is ignored. Runs
 * of one dispatcher form a list that shutdown walks.
 */
export class HandlerRun implements Expirable {
  slot = 0;
  prev: HandlerRun | undefined = undefined;
  next: HandlerRun | undefined = undefined;
  /** The delivery's outcome (rejects only if deciding it threw: a logger failing). */
  readonly outcome: Promise<DeliveryOutcome>;
  private readonly resolve: (outcome: DeliveryOutcome) => void;
  private readonly reject: (e: unknown) => void;
  private settled = false;

  constructor(
    readonly deadline: number,
    readonly ctx: MutableRequestContext,
    readonly span: Span,
    readonly envelope: EventEnvelope,
    readonly attempt: number,
    readonly maxAttempts: number,
    private readonly timeoutMs: number,
    private readonly finish: Finish,
  ) {
    this.outcome = new Promise<DeliveryOutcome>(capture);
    this.resolve = nextResolve;
    this.reject = nextReject;
  }

  /** Whether the outcome is decided. */
  get finished(): boolean {
    return this.settled;
  }

  /** Calls the handler; its settlement decides the outcome unless the timeout or shutdown came first. */
  start(handler: EventHandler<unknown>, event: unknown, context: EventContext): void {
    let pending: Promise<void>;
    try {
      pending = handler(event, context);
    } catch (e: unknown) {
      this.end(e, true);
      return;
    }
    Promise.resolve(pending).then(
      () => this.end(undefined, false),
      (e: unknown) => this.end(e, true),
    );
  }

  /** The wheel: the handler timeout passed. */
  expire(): void {
    this.abort(
      CoreErrors.DEADLINE_EXCEEDED(`before the handler finished (it took over ${this.timeoutMs} ms)`),
    );
  }

  /** Fails the run with `reason` and aborts the handler's signal with it. */
  abort(reason: unknown): void {
    if (this.settled) return;
    this.ctx.abort(reason);
    this.end(reason, true);
  }

  private end(error: unknown, failed: boolean): void {
    if (this.settled) return;
    this.settled = true;
    // Called from the wheel's timer and shutdown's walk too, where a throw would skip other runs.
    try {
      this.resolve(this.finish(this, error, failed));
    } catch (e: unknown) {
      this.reject(e);
    }
  }
}

/**
 * What a handler gets. `signal` is a getter (as on the request context and a resilience
 * attempt), so the AbortController is made only if the handler reads it; a wrapper building a
 * new context passes `signal: context.signal` on (spreading copies no getter). An own accessor
 * instead (object literal or `defineProperty`) costs 0.2–0.8 µs per delivery.
 */
export class HandlerContext implements EventContext {
  constructor(
    readonly envelope: EventEnvelope,
    readonly attempt: number,
    readonly logger: Logger,
    private readonly ctx: MutableRequestContext,
  ) {}

  get signal(): AbortSignal {
    return this.ctx.signal;
  }
}
