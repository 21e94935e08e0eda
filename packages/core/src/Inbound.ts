import type { MessageType } from './contracts.js';
import type { RefrontError } from './errors.js';
import type { Metadata, MethodInfo } from './Interceptor.js';

/** One served method, bound to its interceptor chain. */
export interface ServerMethod<Req = unknown, Res = unknown> {
  readonly info: MethodInfo;
  readonly requestType: MessageType<Req>;
  readonly responseType: MessageType<Res>;
}

/** An inbound call as a transport hands it to the dispatcher. */
export interface Inbound<Req> {
  readonly request: Req;
  readonly metadata: Metadata;
  readonly deadline: number | undefined;
  /** Transport-level cancellation (the client went away). */
  readonly signal?: AbortSignal | undefined;
  /**
   * The cheaper alternative to `signal` for transports that learn of cancellation through a
   * callback and end the call at its deadline themselves (gRPC): called once, at once, with the
   * function to call with the reason (CANCELLED, or DEADLINE_EXCEEDED when the deadline passed).
   * The call's signal is then made only if a handler or interceptor reads it, and the
   * dispatcher runs no deadline timer of its own.
   */
  readonly onCancel?: ((cancel: (reason: RefrontError) => void) => void) | undefined;
  /**
   * Like `onCancel`, for transports that keep the {@link CallHandle} that
   * `Dispatcher.dispatch` returns and cancel through it (mux): no callback per call.
   */
  readonly cancelsThroughHandle?: boolean | undefined;
  readonly peer?: string | undefined;
}

/** A call being served, as `Dispatcher.dispatch` returns it to its transport. */
export interface CallHandle {
  /**
   * The transport cancelled the call: the client went away (CANCELLED) or its deadline passed
   * (DEADLINE_EXCEEDED). The handler's signal aborts with `reason`, and the call fails with it
   * unless it has already settled. The first reason wins.
   */
  cancel(reason: RefrontError): void;
}
