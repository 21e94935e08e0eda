import type { AttemptContext } from '@refront/core/transport';
import { Attempt } from './internal/Execution.js';

/**
 * The signal an attempt must still watch when the transport enforces `ctx.deadline` itself (it
 * sends the deadline downstream and its own timer ends the call then, as gRPC does): the caller's
 * cancellation, or undefined when nothing but the deadline can end the attempt.
 *
 * For attempts of a policy made by this package, the attempt's `signal` aborts only when the caller
 * aborts or the effective deadline passes, so watching this signal and sending the deadline covers
 * it, and the timeout layer never has to create its AbortController. For any other policy this
 * returns `ctx.signal`, which is always correct.
 *
 * @example
 * await p.execute((ctx) => grpcCall(req, { deadline: ctx.deadline, signal: cancelSignalOf(ctx) }));
 */
export function cancelSignalOf(ctx: AttemptContext): AbortSignal | undefined {
  return ctx instanceof Attempt ? ctx.cancelSignal : ctx.signal;
}
