import type { AttemptContext, Call, Interceptor, Next, Policy } from '@refront/core';
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
    return policy.execute((ctx: AttemptContext) => {
      const c = ctx as Partial<ResilienceAttemptContext>;
      return next({
        ...call,
        signal: ctx.signal,
        deadline: c.deadline ?? call.deadline,
        target: c.target ?? call.target,
      });
    }, execute);
  };
}
