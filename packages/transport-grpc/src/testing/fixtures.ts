/** Test fixtures: the Echo contract served over real sockets on 127.0.0.1. */
import { fileURLToPath } from 'node:url';
import {
  createLogger,
  createMetricsRegistry,
  currentContext,
  isRefrontError,
  type MetricsRegistry,
  RefrontError,
  type ServiceImplementation,
} from '@refront/core';
import { isStatus } from '@refront/core/transport';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { createGrpcClient, type GrpcClient, type GrpcClientOptions } from '../createGrpcClient.js';
import { createGrpcServer, type GrpcServer, type GrpcServerOptions } from '../GrpcServer.js';

export { EchoServiceDefinition };

/** A silent logger for tests. */
export const logger = createLogger({ service: 'test', level: 'silent' });

/** Path of a committed test certificate or key (`ca.crt`, `server.key`…). */
export function cert(name: string): string {
  return fileURLToPath(new URL(`./certs/${name}`, import.meta.url));
}

/** What each Sleep handler saw when it ended. */
export interface SleepObservation {
  readonly server: string;
  readonly aborted: boolean;
  readonly reason: unknown;
}

/** The Echo contract's implementation for one server; `name` tells instances apart. */
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

/** A started Echo server on 127.0.0.1 with its metrics and sleep log. */
export interface EchoServer extends AsyncDisposable {
  readonly server: GrpcServer;
  readonly metrics: MetricsRegistry;
  readonly sleeps: SleepObservation[];
  readonly address: string;
}

/** Starts an Echo server on a free port of 127.0.0.1. */
export async function startEchoServer(
  name = 'echo-1',
  options: Partial<GrpcServerOptions> = {},
): Promise<EchoServer> {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const sleeps: SleepObservation[] = [];
  const server = createGrpcServer({ service: 'echo', logger, metrics, host: '127.0.0.1', ...options });
  server.add(EchoServiceDefinition, echoImplementation(name, sleeps));
  await server.start();
  return { server, metrics, sleeps, address: server.address, [Symbol.asyncDispose]: () => server.close() };
}

/** A typed Echo client to `target`. */
export function echoClient(
  target: string,
  options: Partial<GrpcClientOptions> = {},
): GrpcClient<typeof EchoServiceDefinition> {
  return createGrpcClient(EchoServiceDefinition, { target, caller: 'tester', logger, ...options });
}

/** The RefrontError a promise rejects with; fails when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<RefrontError> {
  try {
    await p;
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
