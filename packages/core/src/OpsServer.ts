import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import type { MetricsRegistry } from './metrics.js';

/** One readiness check: resolves true when its dependency is usable. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/**
 * Serves the requests under one path prefix of the ops server (`/workflows`): an operator's view
 * (and actions) a package adds to the service (see `Service.opsRoute`). It answers every method
 * itself, and checks any token it requires.
 */
export type OpsHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** Address to bind. @default '0.0.0.0' */
  readonly host?: string;
  /** What `/metrics` serves. */
  readonly metrics: MetricsRegistry;
  /** Liveness: false answers 503 on `/healthz`. */
  readonly live: () => boolean;
  /** The service's own readiness (its lifecycle state). */
  readonly ready: () => boolean;
  /** Readiness of each registered dependency, by name. */
  readonly checks: ReadonlyMap<string, ReadinessCheck>;
  /** Extra routes by path prefix (`/workflows` serves `/workflows` and `/workflows/…`), any method. @default none */
  readonly routes?: ReadonlyMap<string, OpsHandler>;
  /** Facts shown by `/healthz`. */
  readonly info: () => Readonly<Record<string, unknown>>;
  readonly logger: Logger;
}

/** Time a readiness check may take before it counts as not ready, in ms. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), READINESS_CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the ops HTTP server: `/healthz` (liveness), `/readyz` (readiness of the service and of
 * every registered dependency) and `/metrics` (Prometheus text format).
 *
 * @example
 * const ops = await startOpsServer({ port: 9464, metrics, live: () => true, ready: () => true, checks: new Map(), info: () => ({}), logger });
 */
export async function startOpsServer(
  options: OpsServerOptions,
): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    };
    const route = [...(options.routes ?? [])].find(
      ([prefix]) => url === prefix || url?.startsWith(`${prefix}/`),
    );
    if (route) {
      const [, handler] = route;
      Promise.resolve()
        .then(() => handler(req, res))
        .catch((e: unknown) => {
          options.logger.error({ err: e, path: url }, 'ops route failed');
          if (!res.headersSent) send(500, { error: 'ops route failed' });
          else res.end();
        });
      return;
    }
    // The built-in endpoints only read.
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' });
    if (url === '/healthz') {
      const live = options.live();
      return send(live ? 200 : 503, { status: live ? 'ok' : 'down', ...options.info() });
    }
    if (url === '/readyz') {
      void (async () => {
        const entries = await Promise.all(
          [...options.checks].map(async ([name, check]) => [name, await runCheck(check)] as const),
        );
        const checks = Object.fromEntries(entries);
        const ready = options.ready() && entries.every(([, ok]) => ok);
        send(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...options.info(), checks });
      })().catch((e: unknown) => {
        options.logger.error({ err: e }, 'readiness failed');
        send(503, { status: 'not ready' });
      });
      return;
    }
    if (url === '/metrics') {
      options.metrics
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': options.metrics.contentType }).end(text))
        .catch((e: unknown) => {
          options.logger.error({ err: e }, 'metrics collection failed');
          send(500, { error: 'metrics collection failed' });
        });
      return;
    }
    send(404, {
      error: 'not found',
      routes: ['/healthz', '/readyz', '/metrics', ...(options.routes?.keys() ?? [])],
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, address: server.address() as AddressInfo };
}
