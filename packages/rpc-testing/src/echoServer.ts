import {
  createLogger,
  createMetricsRegistry,
  isRefrontError,
  type Logger,
  type MetricsRegistry,
  type RefrontError,
  type RpcServer,
} from '@refront/core';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { echoImplementation, type SleepObservation } from './echo.js';

/** A silent logger for tests. */
export const logger: Logger = createLogger({ service: 'test', level: 'silent' });

/**
 * A logger that keeps every line (as parsed JSON) for assertions.
 *
 * @example
 * const { logger, lines } = capturingLogger('warn');
 */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = {
    write(s: string) {
      lines.push(JSON.parse(s) as Record<string, unknown>);
    },
  };
  return { logger: createLogger({ service: 'test', level, destination }), lines };
}

/**
 * The RefrontError a promise rejects with; fails when it resolves or rejects with anything else.
 *
 * @example
 * expect(await rejection(client.fail({ status: 'NOT_FOUND' }))).toMatchObject({ status: 'NOT_FOUND' });
 */
export async function rejection(p: Promise<unknown>): Promise<RefrontError> {
  try {
    await p;
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** A network server as {@link startEchoServerOn} drives it. */
export interface EchoServable extends RpcServer {
  /** `host:port` to dial, once started. */
  readonly address: string;
}

/** What {@link startEchoServerOn} gives the lane's server factory. */
export interface EchoServerBase {
  readonly service: 'echo';
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly host: '127.0.0.1';
}

/** A started Echo server on 127.0.0.1 with its metrics and sleep log. */
export interface EchoServer<S extends EchoServable> extends AsyncDisposable {
  readonly server: S;
  readonly metrics: MetricsRegistry;
  readonly sleeps: SleepObservation[];
  readonly address: string;
}

/**
 * Starts an Echo server (see {@link echoImplementation}, named `name`) of one lane on a free port
 * of 127.0.0.1; `create` makes the server from the fixture's options (service `echo`, the silent
 * logger, a metrics registry of its own) and the test's.
 *
 * @example
 * await using env = await startEchoServerOn((base) => createMuxServer({ ...base, tls }), 'a');
 */
export async function startEchoServerOn<S extends EchoServable>(
  create: (base: EchoServerBase) => S,
  name = 'echo-1',
): Promise<EchoServer<S>> {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const sleeps: SleepObservation[] = [];
  const server = create({ service: 'echo', logger, metrics, host: '127.0.0.1' });
  server.add(EchoServiceDefinition, echoImplementation(name, sleeps));
  await server.start();
  return { server, metrics, sleeps, address: server.address, [Symbol.asyncDispose]: () => server.close() };
}
