import { ClientDefaults } from './clientDefaults.js';
import type { RequestContext } from './context.js';
import type { Call, Metadata, MethodInfo } from './Interceptor.js';
import type { Reply } from './Reply.js';

function noop(): void {}

/**
 * One call made through a channel with `send`: the call the channel sees, the state of the
 * default chain (it is a {@link ClientDefaults}) and the reply that settles the caller's promise,
 * as one object with no closure.
 * @internal made by `createClient`.
 */
export class OutboundCall extends ClientDefaults implements Call<unknown>, Reply {
  readonly side = 'client' as const;
  context: RequestContext | undefined = undefined;
  readonly peer: string | undefined = undefined;
  target: string | undefined = undefined;
  /** The settlers of the caller's promise (see {@link settled}). */
  resolve: (response: unknown) => void = noop;
  reject: (error: unknown) => void = noop;

  constructor(
    readonly method: MethodInfo,
    public request: unknown,
    readonly metadata: Metadata,
    public deadline: number | undefined,
    readonly signal: AbortSignal | undefined,
  ) {
    super();
  }

  ok(response: unknown): void {
    this.end(undefined);
    this.resolve(response);
  }

  fail(error: unknown): void {
    this.end(error ?? new Error('failed without a reason'));
    this.reject(error);
  }
}

let settling: OutboundCall | undefined;

/** The executor of every {@link settled} promise: hands its settlers to the call being made (no closure per call). */
function adopt(resolve: (response: unknown) => void, reject: (error: unknown) => void): void {
  const call = settling as OutboundCall;
  call.resolve = resolve;
  call.reject = reject;
}

/** The caller's promise of `call`, settled by `call.ok` or `call.fail`. @internal */
export function settled(call: OutboundCall): Promise<unknown> {
  settling = call;
  const p = new Promise<unknown>(adopt);
  settling = undefined;
  return p;
}
