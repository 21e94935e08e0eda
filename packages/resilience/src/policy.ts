import { currentContext, type Policy, toRefrontError } from '@refront/core';
import { type Disposable, invalidOption } from '@refront/core/transport';
import { inheritFailureStatuses } from './failureStatuses.js';
import {
  Attempt,
  type AttemptFn,
  binderOf,
  Execution,
  type Sink,
  type Step,
  stepPromise,
} from './internal/Execution.js';
import type { PolicyCall } from './PolicyCall.js';
import {
  LAYER_ORDER,
  type PolicyLayer,
  type PolicyLayerKind,
  type ResilienceAttemptContext,
  type ResilienceExecuteOptions,
} from './PolicyLayer.js';
import { ResilienceEvents } from './ResilienceEvents.js';

/**
 * A composed resilience policy: core's {@link Policy} with per-attempt targets, deadlines,
 * fallbacks and typed events.
 *
 * @example
 * const p: ResiliencePolicy = createDefaultPolicy();
 * p.events.on('retry', (e) => console.log(`retry ${e.attempt} in ${e.delayMs} ms`));
 * await p.execute(({ signal }) => work(signal), { idempotent: true });
 * await p.close();
 */
export interface ResiliencePolicy extends Policy {
  /**
   * Runs `fn` under every layer, outermost first (see {@link LAYER_ORDER}).
   * @throws RefrontError `RESILIENCE_TIMEOUT`, `RESILIENCE_CIRCUIT_OPEN`, `RESILIENCE_BULKHEAD_FULL`
   *   or `RESILIENCE_RATE_LIMITED` when a layer gives up or refuses; the last attempt's error when
   *   retries end; the caller's abort reason, unchanged, when the caller aborted.
   */
  execute<T>(
    fn: (ctx: ResilienceAttemptContext) => Promise<T>,
    options?: ResilienceExecuteOptions<T>,
  ): Promise<T>;
  /** Every event of every layer. */
  readonly events: ResilienceEvents;
  /** The kinds of the layers, outermost first. */
  readonly layers: readonly PolicyLayerKind[];
  /** Closes the layers (their timers) and detaches listeners; idempotent. */
  close(): Promise<void>;
  /** Same as {@link ResiliencePolicy.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Composes layers into one policy. Whatever the argument order, layers run in the documented
 * order, outermost first: fallback (per call) → timeout → rateLimit → bulkhead → retry →
 * circuitBreaker → the operation. So the deadline bounds queueing, retries and backoff; local
 * overload is refused before any retry; every attempt passes the breaker of the target it calls.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` when two layers have the same kind or a layer was not
 *   made by this package.
 * @example
 * const p = policy(createRetry(), createTimeout({ timeoutMs: 2_000 }), createCircuitBreakerPool());
 * p.layers; // ['timeout', 'retry', 'circuitBreaker']
 * const ticket = await p.execute(({ signal }) => tickets.get(id, { signal }), { idempotent: true, target: 'tickets' });
 */
export function policy(...layers: readonly PolicyLayer[]): ResiliencePolicy {
  return composePolicy(layers);
}

/** {@link policy}, plus an `attach` hook whose subscription (metrics, logs) `close()` releases. */
export function composePolicy(
  layers: readonly PolicyLayer[],
  attach?: (events: ResilienceEvents) => Disposable,
): ResiliencePolicy {
  const seen = new Set<PolicyLayerKind>();
  for (const layer of layers) {
    if (binderOf(layer) === undefined)
      throw invalidOption('policy() takes layers made by @refront/resilience');
    if (seen.has(layer.kind)) throw invalidOption(`policy() got two ${layer.kind} layers`);
    seen.add(layer.kind);
  }
  const sorted = [...layers].sort((a, b) => LAYER_ORDER.indexOf(a.kind) - LAYER_ORDER.indexOf(b.kind));
  const composed = new ComposedPolicy(sorted, attach);
  inheritFailureStatuses(composed, sorted);
  return composed;
}

const NO_OPTIONS: ResilienceExecuteOptions = {};

/**
 * The operation itself: the only promise an attempt adds is the one the operation returns, and
 * none for a {@link PolicyCall}, whose attempt reports to the sink.
 */
const terminal: Step = <T>(fn: AttemptFn<T>, x: Execution, sink: Sink<T>): void => {
  let pending: Promise<T>;
  try {
    if (typeof fn !== 'function') {
      fn.attempt(new Attempt(x), sink);
      return;
    }
    pending = fn(new Attempt(x));
  } catch (e: unknown) {
    sink.fail(e);
    return;
  }
  if (typeof (pending as Partial<Promise<T>> | undefined)?.then !== 'function') {
    sink.ok(pending as T);
    return;
  }
  pending.then(
    (value) => sink.ok(value),
    (e: unknown) => sink.fail(e),
  );
};

class ComposedPolicy implements ResiliencePolicy {
  readonly events = new ResilienceEvents();
  readonly layers: readonly PolicyLayerKind[];
  private readonly step: Step;
  private readonly subscriptions: Disposable[];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly parts: readonly PolicyLayer[],
    attach: ((events: ResilienceEvents) => Disposable) | undefined,
  ) {
    this.layers = parts.map((l) => l.kind);
    let step = terminal;
    for (let i = parts.length - 1; i >= 0; i--) step = binderOf(parts[i]!)!(step);
    this.step = step;
    this.subscriptions = parts.map((l) => l.events.onAny((e) => this.events.emit(e)));
    if (attach) this.subscriptions.push(attach(this.events));
  }

  execute<T>(
    fn: AttemptFn<T>,
    options: ResilienceExecuteOptions<T> = NO_OPTIONS as ResilienceExecuteOptions<T>,
  ): Promise<T> {
    const ctx = currentContext();
    let deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    if (ctx?.deadline !== undefined && ctx.deadline < deadline) deadline = ctx.deadline;
    const signal = options.signal ?? ctx?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const pick = options.pickTarget;
    const x = new Execution(
      signal,
      deadline,
      options.idempotent ?? false,
      options.target,
      pick ? { pickTarget: pick } : undefined,
    );
    const p = stepPromise(this.step, fn, x);
    const fallback = options.fallback;
    if (!fallback) return p;
    return p.catch((e: unknown) => {
      if (signal?.aborted) throw signal.reason;
      return fallback(toRefrontError(e));
    });
  }

  /** Runs `call` under every layer; its outcome goes to `call.ok` or `call.fail`, once. @internal see {@link runPolicy} */
  run<T>(call: PolicyCall<T>): void {
    const ctx = currentContext();
    let deadline = call.deadline ?? Number.POSITIVE_INFINITY;
    if (ctx?.deadline !== undefined && ctx.deadline < deadline) deadline = ctx.deadline;
    const signal = call.signal ?? ctx?.signal;
    if (signal?.aborted) {
      call.fail(signal.reason);
      return;
    }
    const x = new Execution(signal, deadline, call.idempotent, call.target, call);
    this.step(call, x, call);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const s of this.subscriptions) await s.dispose();
      await Promise.all(this.parts.map((l) => l.close()));
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Runs `call` under `policy` with no promise or closure per layer or attempt: each attempt is
 * `call.attempt(ctx, sink)`, and the outcome goes to `call.ok` or `call.fail`, exactly once. A
 * transport's channel uses it so that one object per call serves as the execution's options, its
 * target picker, its attempts and its outcome. Any other {@link Policy} runs `call` through its
 * `execute` (a promise per attempt), with the same outcome.
 *
 * @example
 * runPolicy(policy, call); // call.ok(response) or call.fail(error), later or at once
 */
export function runPolicy<T>(policy: Policy, call: PolicyCall<T>): void {
  if (policy instanceof ComposedPolicy) {
    policy.run(call);
    return;
  }
  let pending: Promise<T>;
  try {
    pending = policy.execute(
      (ctx) =>
        new Promise<T>((resolve, reject) =>
          call.attempt(ctx as ResilienceAttemptContext, { ok: resolve, fail: reject }),
        ),
      {
        signal: call.signal,
        deadline: call.deadline,
        idempotent: call.idempotent,
        target: call.target,
        pickTarget: (attempt: number) => call.pickTarget(attempt) ?? (call.target as string),
      } as ResilienceExecuteOptions<T>,
    );
  } catch (e: unknown) {
    call.fail(e);
    return;
  }
  pending.then(
    (value) => call.ok(value),
    (e: unknown) => call.fail(e),
  );
}
