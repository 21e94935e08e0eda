import { EchoServiceDefinition } from '@refront/test-contracts';
import { currentContext } from '../context.js';
import type { ServiceImplementation } from '../contracts.js';
import { isStatus, RefrontError } from '../errors.js';

/** The Echo contract's reference implementation, used by every transport's tests. */
export const echoImplementation: ServiceImplementation<typeof EchoServiceDefinition> = {
  async echo(request, ctx) {
    const rc = currentContext();
    return {
      message: request.message,
      payload: request.payload,
      seen: {
        caller: ctx.caller ?? '',
        tenant: ctx.tenant ?? '',
        traceId: rc?.traceId ?? '',
        hasDeadline: String(ctx.deadline !== undefined),
      },
    };
  },
  async sleep(request, ctx) {
    const aborted = await new Promise<boolean>((resolve) => {
      if (ctx.signal.aborted) return resolve(true);
      const timer = setTimeout(() => resolve(false), request.durationMs);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    sleepObservations.push({ aborted, reason: ctx.signal.reason });
    return { aborted };
  },
  async fail(request) {
    if (request.status === 'THROW_PLAIN') throw new Error('boom: a plain error with internals');
    if (!isStatus(request.status)) throw new TypeError(`not a status: ${request.status}`);
    throw new RefrontError(request.status, request.reason, request.message, {
      details:
        request.status === 'INVALID_ARGUMENT'
          ? { fieldViolations: [{ field: 'message', description: 'must not be empty' }] }
          : {},
    });
  },
};

/** What each Sleep handler saw when it ended: whether its signal aborted, and why. */
export const sleepObservations: { aborted: boolean; reason: unknown }[] = [];

export { EchoServiceDefinition };
