import { DeadlineWheel, type Expirable } from '@refront/core/transport';
import { ResilienceErrors, targetDetails } from './errors.js';
import {
  type AttemptFn,
  defineLayer,
  type Execution,
  LazyAbort,
  type Sink,
  type Step,
} from './internal/Execution.js';
import { requireNumber } from './internal/validate.js';
import type { PolicyLayer } from './PolicyLayer.js';
import { ResilienceEvents } from './ResilienceEvents.js';

/** The default local timeout of one execution, retries and backoff included: 10 s. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Longest delay a Node timer can hold; a deadline further away is treated as none. */
const MAX_TIMER_MS = 2_147_483_647;

/** Options of {@link createTimeout}. */
export interface TimeoutOptions {
  /**
   * Time one execution may take, in ms, retries and backoff included. A shorter deadline from the
   * call or the request context always wins. `Infinity` enforces only those deadlines.
   * @default 10_000
   */
  readonly timeoutMs?: number;
}

/** The timeout layer of a policy. */
export interface TimeoutLayer extends PolicyLayer {
  readonly kind: 'timeout';
  /** The resolved local timeout, in ms. */
  readonly timeoutMs: number;
}

/**
 * Creates the timeout layer: the execution gets an AbortSignal that aborts at the effective
 * deadline, the earliest of the local timeout, the call's deadline and the request context's
 * (made when an attempt first reads it; see `cancelSignalOf` for transports that never need to).
 * When it fires, the execution rejects at once (even if the operation ignores its signal) with
 * DEADLINE_EXCEEDED `RESILIENCE_TIMEOUT`; when the caller aborts, with the caller's reason unchanged.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` when `timeoutMs` is not a positive number.
 * @example
 * const p = policy(createTimeout({ timeoutMs: 2_000 }), createRetry());
 * await p.execute(({ signal }) => fetch(url, { signal }));
 */
export function createTimeout(options: TimeoutOptions = {}): TimeoutLayer {
  const timeoutMs = requireNumber('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1, true);
  const events = new ResilienceEvents();
  const layer: TimeoutLayer = { kind: 'timeout', timeoutMs, events, close: () => Promise.resolve() };
  return defineLayer(layer, (inner) => bindTimeout(inner, timeoutMs, events));
}

/** How late, at most, the timeout layer fires after the deadline, in ms (never early). */
export const TIMEOUT_RESOLUTION_MS = 1;

/**
 * One wheel for every timeout layer in the process: a policy runs on every call a service makes,
 * and a timer per call (`setTimeout` with `clearTimeout`) costs about 0.5 µs. Deadlines fire at
 * most {@link TIMEOUT_RESOLUTION_MS} late, never early. The wheel's timer keeps the process alive
 * while executions are pending, as a timer per execution did.
 */
const wheel = new DeadlineWheel({ resolutionMs: TIMEOUT_RESOLUTION_MS, ref: true });

/** @internal The process-wide wheel of the timeout layer (tests check it tracks nothing after a call). */
export const timeoutWheel: Pick<DeadlineWheel, 'size' | 'holdsProcess' | 'armed'> = wheel;

/**
 * One guarded execution: expires on the wheel, listens to the caller's signal as an EventListener
 * object, and is the sink of the layers inside (no closures or promises per execution).
 */
class Race<T> implements Expirable, Sink<T> {
  slot = 0;
  private done = false;

  constructor(
    readonly deadline: number,
    private readonly budgetMs: number,
    private readonly x: Execution,
    private readonly scope: LazyAbort,
    private readonly events: ResilienceEvents,
    private readonly sink: Sink<T>,
  ) {}

  /** The wheel: the deadline passed first. */
  expire(): void {
    if (this.done) return;
    this.done = true;
    this.x.outer?.removeEventListener('abort', this);
    const error = ResilienceErrors.TIMEOUT.with(
      { details: targetDetails(this.x.target) },
      this.x.target,
      this.budgetMs,
    );
    this.events.emit({ type: 'timeout', target: this.x.target, budgetMs: this.budgetMs });
    this.scope.abort(error);
    this.sink.fail(error);
  }

  /** The caller's signal aborted first. */
  handleEvent(): void {
    if (this.done) return;
    this.done = true;
    wheel.remove(this);
    const reason = this.x.outer?.reason;
    this.scope.abort(reason);
    this.sink.fail(reason);
  }

  /** The operation succeeded first. */
  ok(value: T): void {
    if (this.done) return;
    this.finish();
    this.sink.ok(value);
  }

  /** The operation failed first. */
  fail(e: unknown): void {
    if (this.done) return;
    this.finish();
    this.sink.fail(this.scope.aborted ? this.scope.abortReason : e);
  }

  private finish(): void {
    this.done = true;
    wheel.remove(this);
    this.x.outer?.removeEventListener('abort', this);
  }
}

function bindTimeout(inner: Step, timeoutMs: number, events: ResilienceEvents): Step {
  return <T>(fn: AttemptFn<T>, x: Execution, sink: Sink<T>): void => {
    const now = Date.now();
    const local = now + timeoutMs;
    const deadline = Math.min(x.deadline, local);
    const budgetMs = deadline - now;
    if (budgetMs > MAX_TIMER_MS) {
      inner(fn, x, sink);
      return;
    }
    if (budgetMs <= 0) {
      events.emit({ type: 'timeout', target: x.target, budgetMs: 0 });
      sink.fail(ResilienceErrors.TIMEOUT.with({ details: targetDetails(x.target) }, x.target, 0));
      return;
    }
    // The execution's signal is made only if something reads it (see LazyAbort): a transport
    // that sends the deadline downstream and watches the caller's signal never does.
    const scope = new LazyAbort();
    x.timeout = scope;
    x.deadline = deadline;
    const race = new Race<T>(deadline, budgetMs, x, scope, events, sink);
    wheel.add(race);
    x.outer?.addEventListener('abort', race, { once: true });
    try {
      inner(fn, x, race);
    } catch (e: unknown) {
      race.fail(e);
    }
  };
}
