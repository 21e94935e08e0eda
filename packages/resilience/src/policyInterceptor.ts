import type { Call, Interceptor, MethodInfo, Policy, RequestContext } from '@refront/core';
import type { AttemptContext, Next } from '@refront/core/transport';
import type { ResilienceAttemptContext, ResilienceExecuteOptions } from './PolicyLayer.js';

/** Options of {@link policyInterceptor}. */
export interface PolicyInterceptorOptions {
  /**
   * Picks the target (instance) of each attempt, so a policy's breaker layer guards that instance
   * and a retry can go elsewhere; the attempt's call carries it as `call.target`.
   * @default none: attempts keep `call.target`
   */
  readonly pickTarget?: ((call: Call<unknown>, attempt: number) => string) | undefined;
}

/**
 * Runs the rest of a client chain under `policy`: each attempt calls `next` with a copy of the
 * call whose `signal` is the attempt's, whose `deadline` is the effective deadline and whose
 * `target` is the attempt's. Retries follow `call.method.idempotent`; the call's signal and
 * deadline bound every attempt.
 *
 * @example
 * const client = createClient(TicketsService, channel, {
 *   interceptors: [policyInterceptor(createDefaultPolicy({ name: 'tickets' }))],
 * });
 */
export function policyInterceptor(policy: Policy, options: PolicyInterceptorOptions = {}): Interceptor {
  const pick = options.pickTarget;
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const execute: ResilienceExecuteOptions<Res> = {
      signal: call.signal,
      deadline: call.deadline,
      idempotent: call.method.idempotent,
      target: call.target ?? call.method.service,
      pickTarget: pick ? (attempt) => pick(call as Call<unknown>, attempt) : undefined,
    };
    return policy.execute((ctx: AttemptContext) => next(new AttemptCall(call, ctx)), execute);
  };
}

/**
 * The call one attempt sends: the caller's call with the attempt's deadline and target, and the
 * attempt's signal read only when something reads it (a policy's signal is made on first read;
 * a transport that enforces the deadline itself never needs it).
 */
class AttemptCall<Req> implements Call<Req> {
  readonly side: 'client' | 'server';
  readonly method: MethodInfo;
  request: Req;
  readonly metadata: Record<string, string>;
  deadline: number | undefined;
  context: RequestContext | undefined;
  readonly peer: string | undefined;
  target: string | undefined;

  constructor(
    call: Call<Req>,
    private readonly attempt: AttemptContext,
  ) {
    const c = attempt as Partial<ResilienceAttemptContext>;
    this.side = call.side;
    this.method = call.method;
    this.request = call.request;
    this.metadata = call.metadata;
    this.deadline = c.deadline ?? call.deadline;
    this.context = call.context;
    this.peer = call.peer;
    this.target = c.target ?? call.target;
  }

  get signal(): AbortSignal {
    return this.attempt.signal;
  }
}
