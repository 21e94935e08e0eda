import type { PolicyLayer, ResilienceAttemptContext } from '../PolicyLayer.js';

/** The mutable state of one `execute`, threaded through the layers (attempts are sequential). */
export interface Execution {
  /** What attempts observe: the caller's signal, or the timeout layer's. */
  signal: AbortSignal | undefined;
  /** Effective absolute deadline, Infinity for none. */
  deadline: number;
  readonly idempotent: boolean;
  readonly target: string | undefined;
  readonly pickTarget: ((attempt: number) => string) | undefined;
  attempt: number;
  /** The target picked for the current attempt, once picked. */
  attemptTarget: string | undefined;
}

/** The operation a policy runs. */
export type AttemptFn<T> = (ctx: ResilienceAttemptContext) => Promise<T>;

/** One layer bound to the layers inside it. */
export type Step = <T>(fn: AttemptFn<T>, x: Execution) => Promise<T>;

/** The target of the current attempt, picking it on first use. */
export function targetOf(x: Execution): string | undefined {
  if (x.attemptTarget !== undefined) return x.attemptTarget;
  if (x.pickTarget) x.attemptTarget = x.pickTarget(x.attempt);
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
