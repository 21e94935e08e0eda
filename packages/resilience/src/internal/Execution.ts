import type { PolicyCall, TargetPicker } from '../PolicyCall.js';
import type { PolicyLayer, ResilienceAttemptContext } from '../PolicyLayer.js';
import { neverAborted } from './abort.js';

/**
 * The abort state of a timeout layer, with its AbortSignal made on first read: a transport that
 * enforces the deadline itself never reads it, so most executions never pay for an
 * AbortController.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private reason: unknown;
  private done = false;

  get aborted(): boolean {
    return this.done;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.done) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Aborts with `reason` (first reason wins). */
  abort(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** The abort reason, once aborted. */
  get abortReason(): unknown {
    return this.reason;
  }
}

/** The mutable state of one `execute`, threaded through the layers (attempts are sequential). */
export class Execution {
  /** Aborted by the timeout layer (deadline or caller), once it runs. */
  timeout: LazyAbort | undefined = undefined;
  attempt = 1;
  /** The target picked for the current attempt, once picked. */
  attemptTarget: string | undefined = undefined;

  constructor(
    /** The caller's signal (or the request context's): what cancels the execution from outside. */
    readonly outer: AbortSignal | undefined,
    /** Effective absolute deadline, Infinity for none. */
    public deadline: number,
    readonly idempotent: boolean,
    readonly target: string | undefined,
    /** Picks each attempt's target (a {@link PolicyCall} itself, so a call allocates no picker). */
    readonly picker: TargetPicker | undefined,
  ) {}

  /** What attempts observe: the timeout layer's signal, else the caller's. */
  get signal(): AbortSignal | undefined {
    return this.timeout ? this.timeout.signal : this.outer;
  }

  /** Whether the execution was aborted, without creating a signal. */
  get aborted(): boolean {
    return this.timeout ? this.timeout.aborted : this.outer?.aborted === true;
  }

  /** The abort reason, when {@link Execution.aborted}. */
  get abortReason(): unknown {
    return this.timeout ? this.timeout.abortReason : this.outer?.reason;
  }
}

/**
 * The operation a policy runs: a function returning a promise (`execute`), or a {@link PolicyCall}
 * whose attempts report to a sink (`runPolicy`: no promise per attempt).
 */
export type AttemptFn<T> = ((ctx: ResilienceAttemptContext) => Promise<T>) | PolicyCall<T>;

/**
 * Where a step reports how the layers inside it ended: exactly one of `ok` or `fail`, once. Layers
 * pass sinks down instead of returning promises, so one execution through every default layer
 * settles one promise (the caller's) plus the attempt's own, instead of one per layer: a policy
 * runs on every call a service makes.
 */
export interface Sink<T> {
  ok(value: T): void;
  fail(e: unknown): void;
}

/** One layer bound to the layers inside it: runs `fn` under them and reports to `sink`; never throws. */
export type Step = <T>(fn: AttemptFn<T>, x: Execution, sink: Sink<T>) => void;

/** Runs `step` and returns its outcome as a promise (for the rare paths that await a layer: queueing, backoff, opossum's `fire`). */
export function stepPromise<T>(step: Step, fn: AttemptFn<T>, x: Execution): Promise<T> {
  return new Promise<T>((resolve, reject) => step(fn, x, { ok: resolve, fail: reject }));
}

/** The target of the current attempt, picking it on first use. */
export function targetOf(x: Execution): string | undefined {
  if (x.attemptTarget !== undefined) return x.attemptTarget;
  if (x.picker) x.attemptTarget = x.picker.pickTarget(x.attempt);
  return x.attemptTarget ?? x.target;
}

const binders = new WeakMap<PolicyLayer, (inner: Step) => Step>();

/** Registers how `layer` wraps the layers inside it (kept off the public type). */
export function defineLayer<L extends PolicyLayer>(layer: L, bind: (inner: Step) => Step): L {
  binders.set(layer, bind);
  return layer;
}

/** How `layer` wraps the layers inside it, or undefined when it was not made by this package. */
export function binderOf(layer: PolicyLayer): ((inner: Step) => Step) | undefined {
  return binders.get(layer);
}

/**
 * What a policy hands each attempt: its number, target and deadline, and a signal read lazily
 * (reading it is what may create the timeout layer's AbortController).
 */
export class Attempt implements ResilienceAttemptContext {
  readonly attempt: number;
  readonly target: string | undefined;
  readonly deadline: number | undefined;

  constructor(private readonly x: Execution) {
    this.attempt = x.attempt;
    this.target = targetOf(x);
    this.deadline = x.deadline === Number.POSITIVE_INFINITY ? undefined : x.deadline;
  }

  get signal(): AbortSignal {
    return this.x.signal ?? neverAborted();
  }

  /** The caller's own signal, without the deadline (see `cancelSignalOf`). */
  get cancelSignal(): AbortSignal | undefined {
    return this.x.outer;
  }
}
