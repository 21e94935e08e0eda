import { currentContext, RefrontError, type ServiceImplementation } from '@refront/core';
import { isStatus } from '@refront/core/transport';
import type { EchoServiceDefinition } from '@refront/test-contracts';

/** What a Sleep handler of {@link echoImplementation} saw when it ended. */
export interface SleepObservation {
  /** The name of the server it ran on. */
  readonly server: string;
  /** Whether its signal aborted before the sleep was over. */
  readonly aborted: boolean;
  /** The signal's reason. */
  readonly reason: unknown;
}

/**
 * The Echo contract's implementation for one server; `name` tells instances apart. Echo returns
 * what it got with what the handler saw (`server`, `caller`, `tenant`, `traceId`, `deadline`, each
 * metadata entry as `md:<key>`); Sleep waits for its duration or its signal and logs to `sleeps`;
 * Fail throws the RefrontError it is asked for (a plain Error for `THROW_PLAIN`).
 *
 * @example
 * server.add(EchoServiceDefinition, echoImplementation('a', sleeps));
 */
export function echoImplementation(
  name: string,
  sleeps: SleepObservation[] = [],
): ServiceImplementation<typeof EchoServiceDefinition> {
  return {
    async echo(request, ctx) {
      const rc = currentContext();
      return {
        message: request.message,
        payload: request.payload,
        seen: {
          server: name,
          caller: ctx.caller ?? '',
          tenant: ctx.tenant ?? '',
          traceId: rc?.traceId ?? '',
          deadline: String(ctx.deadline ?? ''),
          ...Object.fromEntries(Object.entries(ctx.metadata).map(([k, v]) => [`md:${k}`, v])),
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
      sleeps.push({ server: name, aborted, reason: ctx.signal.reason });
      return { aborted };
    },
    async fail(request) {
      if (request.status === 'THROW_PLAIN') throw new Error('boom: a plain error with internals');
      if (!isStatus(request.status)) throw new TypeError(`not a status: ${request.status}`);
      throw new RefrontError(request.status, request.reason, request.message, {
        details:
          request.status === 'INVALID_ARGUMENT'
            ? { fieldViolations: [{ field: 'message', description: 'must not be empty' }] }
            : request.status === 'RESOURCE_EXHAUSTED'
              ? { retryDelayMs: 1_500, metadata: { limit: '10/s' } }
              : {},
        retryable: request.reason.endsWith('_NO_RETRY') ? false : undefined,
      });
    },
  };
}
