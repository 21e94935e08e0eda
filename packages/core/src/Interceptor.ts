import type { RequestContext } from './context.js';

/** Request metadata: lower-case keys, string values (gRPC metadata, mux headers). */
export type Metadata = Record<string, string>;

/** Static facts about a called method. */
export interface MethodInfo {
  /** Fully-qualified service name (`refront.tickets.v1.TicketsService`). */
  readonly service: string;
  /** Method name as in the contract (`CreateTicket`). */
  readonly name: string;
  /** `/refront.tickets.v1.TicketsService/CreateTicket`, as gRPC names it. */
  readonly path: string;
  /** Whether the method is safe to retry on any retryable status (`option idempotency_level`). */
  readonly idempotent: boolean;
}

/** One unary call as interceptors see it, on the client or on the server. */
export interface Call<Req> {
  /** Which end of the call this interceptor runs on. */
  readonly side: 'client' | 'server';
  /** The method called. */
  readonly method: MethodInfo;
  /** The request message (decoded). */
  request: Req;
  /** Metadata sent (client) or received (server). Client interceptors may add to it. */
  readonly metadata: Metadata;
  /** Absolute deadline in ms since the epoch. */
  deadline: number | undefined;
  /** Caller cancellation (client) or transport cancellation (server). */
  readonly signal: AbortSignal | undefined;
  /** Server side: the request context, once the context interceptor has made it. */
  context: RequestContext | undefined;
  /** Remote address, when the transport knows it. */
  readonly peer: string | undefined;
  /** Target picked for this attempt (client side, set by the channel). */
  target?: string | undefined;
}

/** Calls the rest of the chain. */
export type Next<Req, Res> = (call: Call<Req>) => Promise<Res>;

/**
 * The one middleware shape of every Refront transport (in-process, gRPC, mux), client and
 * server side, after nice-grpc's middleware.
 *
 * @example
 * const logCalls: Interceptor = async (call, next) => {
 *   try { return await next(call); } finally { console.log(call.method.path); }
 * };
 */
export type Interceptor = <Req, Res>(call: Call<Req>, next: Next<Req, Res>) => Promise<Res>;

/**
 * Composes interceptors into one; the first runs outermost.
 *
 * @example
 * const chain = compose(context, span, metrics); // context(span(metrics(handler)))
 */
export function compose(...interceptors: readonly Interceptor[]): Interceptor {
  if (interceptors.length === 0) return (call, next) => next(call);
  if (interceptors.length === 1) return interceptors[0]!;
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const dispatch = (i: number, c: Call<Req>): Promise<Res> =>
      i === interceptors.length ? next(c) : interceptors[i]!(c, (cc) => dispatch(i + 1, cc));
    return dispatch(0, call);
  };
}

/** Binds a chain of interceptors to a terminal handler once, so calls allocate no closures per step. */
export function bindChain<Req, Res>(
  interceptors: readonly Interceptor[],
  terminal: Next<Req, Res>,
): Next<Req, Res> {
  let next = terminal;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i]!;
    const inner = next;
    next = (call) => interceptor(call, inner);
  }
  return next;
}
