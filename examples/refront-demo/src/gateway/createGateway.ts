import type { AddressInfo } from 'node:net';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  type Channel,
  createClient,
  type Logger,
  type MetricsRegistry,
  RefrontError,
  type ServiceComponent,
} from '@refront/core';
import { invalidOption, parseTraceparent, randomTraceId, TRACEPARENT } from '@refront/core/transport';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { AiServiceDefinition } from '../gen/refront/ai/v1/ai.js';
import { InvoicingServiceDefinition } from '../gen/refront/invoicing/v1/invoicing.js';
import { NotificationsServiceDefinition } from '../gen/refront/notifications/v1/notifications.js';
import { ReportingServiceDefinition } from '../gen/refront/reporting/v1/reporting.js';
import { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { TimeTrackingServiceDefinition } from '../gen/refront/timetracking/v1/timetracking.js';
import { type Authenticator, authWeaknesses, createAuthenticator, type GatewayAuthOptions } from './auth.js';
import { type AuthFailureLimit, createAuthFailureLimiter } from './authFailureLimit.js';
import {
  DEFAULT_AUTH_FAILURE_LIMIT,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMIT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  GATEWAY_SERVICE,
} from './defaults.js';
import { GatewayReason, toHttpError } from './errors.js';
import { type GatewayLimitStore, type OpenLimitStore, openLimitStore } from './limitStore.js';
import { addObservabilityHooks, traceIdOf } from './observability.js';
import { registerRoute } from './registerRoute.js';
import { addRequestLimit, type GatewayRateLimit } from './requestLimit.js';
import type { GatewayClients, Route } from './route.js';
import { aiRoutes } from './routes/ai.js';
import { billingRoutes } from './routes/billing.js';
import { devRoutes } from './routes/dev.js';
import { notificationRoutes } from './routes/notifications.js';
import { reportRoutes } from './routes/reports.js';
import { ticketRoutes } from './routes/tickets.js';
import { timeRoutes } from './routes/time.js';
import { SHARED_SCHEMAS } from './schemas.js';
import type { TrustProxy } from './trustProxy.js';

export type { GatewayRateLimit } from './requestLimit.js';

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Channel to the services (in-process network, gRPC or mux). */
  readonly channel: Channel;
  readonly logger: Logger;
  /** Registry for the gateway's RED histogram and its clients' metrics. */
  readonly metrics: MetricsRegistry;
  /** How bearer tokens are checked. */
  readonly auth: GatewayAuthOptions;
  /** Requests per tenant (per client IP before authentication). @default DEFAULT_RATE_LIMIT (600 per minute) */
  readonly rateLimit?: GatewayRateLimit;
  /**
   * Failed authentications (missing or bad token) per client address; past it, 429 before the
   * token is read. @default DEFAULT_AUTH_FAILURE_LIMIT (30 per minute)
   */
  readonly authFailureLimit?: AuthFailureLimit;
  /**
   * Where both limits count. With a Redis URL every gateway replica using it (and the same key
   * prefix) shares one count; when Redis is down or slow, each replica's own count decides
   * (decision 0068). @default undefined (each process counts alone, in memory)
   */
  readonly limitStore?: GatewayLimitStore;
  /**
   * Proxies believed about the client address, which keys the per-address limits (Fastify's
   * `trustProxy`). Behind an ingress, set it, or every client shares the ingress's bucket.
   * @default false (the socket's peer address)
   */
  readonly trustProxy?: TrustProxy;
  /** Address to bind. @default DEFAULT_HOST ('0.0.0.0') */
  readonly host?: string;
  /** Port to bind; 0 picks a free one. @default DEFAULT_PORT (8080) */
  readonly port?: number;
  /** Largest request body accepted, in bytes (413 above). @default DEFAULT_BODY_LIMIT_BYTES (64 KiB) */
  readonly bodyLimitBytes?: number;
  /** Deadline of each request, in ms, passed down to every service call (504 past it). @default DEFAULT_REQUEST_TIMEOUT_MS (10 s) */
  readonly requestTimeoutMs?: number;
}

/** The public HTTP edge of the platform. Also a core `ServiceComponent`: `service.use(gateway)`. */
export interface Gateway extends ServiceComponent {
  readonly name: 'gateway';
  /** The Fastify instance (ready; routes are fixed). Use `app.inject()` in tests without a socket. */
  readonly app: FastifyInstance;
  /** Base URL once listening (`http://127.0.0.1:8080`), else undefined. */
  readonly url: string | undefined;
  /** Binds host and port; resolves with the base URL. Idempotent. */
  listen(): Promise<string>;
  /** Same as {@link Gateway.listen}, for the service lifecycle. */
  start(): Promise<void>;
  /** Whether it listens and is not closing (for `/readyz`). */
  ready(): boolean;
  /** Stops accepting requests and waits for those in flight; when `signal` aborts, cuts open connections. */
  drain(signal: AbortSignal): Promise<void>;
  /** Closes the server, waiting for requests in flight. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function positiveInt(name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0))
    throw invalidOption(`${name} must be a positive integer, got ${value}`);
  return value;
}

function checkOptions(
  o: GatewayOptions,
): Required<Omit<GatewayOptions, 'channel' | 'logger' | 'metrics' | 'auth' | 'limitStore'>> {
  const trustProxy = o.trustProxy ?? false;
  if (typeof trustProxy === 'number' && !(Number.isInteger(trustProxy) && trustProxy >= 0))
    throw invalidOption(`trustProxy must be a boolean, a hop count or addresses, got ${trustProxy}`);
  const port = o.port ?? DEFAULT_PORT;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65_535))
    throw invalidOption(`port must be 0-65535, got ${port}`);
  const rate = o.rateLimit ?? DEFAULT_RATE_LIMIT;
  const failures = o.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT;
  return {
    host: o.host ?? DEFAULT_HOST,
    port,
    trustProxy,
    rateLimit: {
      max: positiveInt('rateLimit.max', rate.max),
      windowMs: positiveInt('rateLimit.windowMs', rate.windowMs),
    },
    authFailureLimit: {
      max: positiveInt('authFailureLimit.max', failures.max),
      windowMs: positiveInt('authFailureLimit.windowMs', failures.windowMs),
    },
    bodyLimitBytes: positiveInt('bodyLimitBytes', o.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES),
    requestTimeoutMs: positiveInt('requestTimeoutMs', o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
  };
}

/** Fastify's own reading of a hop count (its types omit the number it accepts at run time). */
function fastifyTrustProxy(t: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof t === 'number') return (_address, hop) => hop < t;
  return typeof t === 'boolean' ? t : [...t];
}

async function addDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Refront demo API',
        version: '1.0.0',
        description:
          'Support tickets, time tracking, invoicing, AI triage, notifications and reports. Every call acts for the tenant of its bearer token. ' +
          'Money is in integer minor units, timestamps are ISO 8601, errors share one body shape.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      tags: [
        { name: 'customers', description: 'Customers and their hourly rates' },
        { name: 'tickets', description: 'Support tickets' },
        { name: 'time', description: 'Time spent on tickets' },
        { name: 'billing', description: 'Billing runs (the close-a-period saga) and invoices' },
        { name: 'ai', description: 'Classification and summaries of tickets' },
        { name: 'notifications', description: 'Mail sent about invoices and tickets' },
        {
          name: 'reports',
          description: 'Hours, revenue and open tickets, from read models built from events',
        },
        { name: 'dev', description: 'Development helpers, only when dev auth is on' },
      ],
    },
    // Shared schemas become components named by their $id instead of def-0, def-1…
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/**
 * Answers a URL the router refuses (bad escape, overlong parameter) in the error shape. No hook ran
 * for it, so its trace id is the caller's or a fresh one.
 */
function sendFrameworkError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  const header = request.headers[TRACEPARENT];
  const parent = parseTraceparent(typeof header === 'string' ? header : undefined);
  const http = toHttpError(error, parent?.traceId ?? randomTraceId());
  void reply.code(http.statusCode).headers(http.headers).send(http.body);
}

function addErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error, request, reply) => {
    const traceId = traceIdOf(request);
    const http = toHttpError(error, traceId);
    const where = { trace_id: traceId, method: request.method, route: request.routeOptions.url };
    if (http.serverFault)
      logger.error({ ...where, err: error, reason: http.body.error.reason }, 'request failed');
    else logger.debug({ ...where, reason: http.body.error.reason }, 'request refused');
    return reply.code(http.statusCode).headers(http.headers).send(http.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const error = new RefrontError(
      'NOT_FOUND',
      GatewayReason.ROUTE_NOT_FOUND,
      `no route for ${request.method} ${path}`,
    );
    const http = toHttpError(error, traceIdOf(request));
    return reply.code(http.statusCode).send(http.body);
  });
}

/** What {@link addApi} needs to limit requests: both limits count on one store. */
interface ApiLimits {
  readonly requests: GatewayRateLimit;
  readonly authFailures: AuthFailureLimit;
  readonly store: OpenLimitStore | undefined;
}

async function addApi(
  app: FastifyInstance,
  routes: readonly Route[],
  deps: Omit<Parameters<typeof registerRoute>[2], 'authFailures'>,
  limits: ApiLimits,
): Promise<void> {
  await app.register(
    async (v1) => {
      await addRequestLimit(v1, limits.requests, limits.store);
      const authFailures = await createAuthFailureLimiter(v1, limits.authFailures, limits.store);
      for (const route of routes) registerRoute(v1, route, { ...deps, authFailures });
    },
    { prefix: '/v1' },
  );
}

function routesFor(auth: Authenticator): Route[] {
  return [
    ...ticketRoutes,
    ...timeRoutes,
    ...billingRoutes,
    ...aiRoutes,
    ...notificationRoutes,
    ...reportRoutes,
    ...(auth.issueDevToken ? devRoutes(auth.issueDevToken) : []),
  ];
}

/**
 * Creates the gateway: the public REST/JSON API under `/v1` over the services' typed clients,
 * with JWT bearer auth, per-tenant rate limits, validation that reports every field, typed
 * errors, a SERVER span and RED metrics per request, OpenAPI at `/openapi.json` and docs at
 * `/docs`. The tenant of each call is the token's `tenant` claim and nothing else.
 *
 * @throws RefrontError INVALID_ARGUMENT (CORE_INVALID_OPTION) for unusable options.
 * @example
 * const gateway = await createGateway({ channel: network.channel(), logger, metrics, auth: { devTokens: true } });
 * const url = await gateway.listen(); // http://127.0.0.1:8080
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const o = checkOptions(options);
  const { logger, metrics } = options;
  const auth = createAuthenticator(options.auth);
  // Production config refuses these (config.ts); anywhere else they are allowed, and said out loud.
  for (const weakness of authWeaknesses(options.auth))
    logger.warn({ weakness }, 'gateway auth is not production-safe');
  const clientOptions = { caller: GATEWAY_SERVICE, metrics };
  const clients: GatewayClients = {
    tickets: createClient(TicketsServiceDefinition, options.channel, clientOptions),
    timeTracking: createClient(TimeTrackingServiceDefinition, options.channel, clientOptions),
    invoicing: createClient(InvoicingServiceDefinition, options.channel, clientOptions),
    ai: createClient(AiServiceDefinition, options.channel, clientOptions),
    notifications: createClient(NotificationsServiceDefinition, options.channel, clientOptions),
    reporting: createClient(ReportingServiceDefinition, options.channel, clientOptions),
  };
  const app = Fastify({
    loggerInstance: logger,
    // Our hooks log refused and failed requests with their trace id; no per-request info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimitBytes,
    trustProxy: fastifyTrustProxy(o.trustProxy),
    return503OnClosing: true,
    // Longer than any valid id, so a too-long id is a field violation; far longer ones get 414.
    routerOptions: { maxParamLength: 512 },
    frameworkErrors: sendFrameworkError,
  }) as unknown as FastifyInstance;
  // Validation runs in each route's preValidation hook, over all parts at once (validation.ts);
  // Fastify's own pass, which stops at the first failing part, is switched off.
  app.setValidatorCompiler(() => () => true);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  addObservabilityHooks(app, metrics);
  addErrorHandlers(app, logger);
  await addDocs(app);
  const store = options.limitStore && (await openLimitStore(options.limitStore, logger, metrics));
  try {
    if (store) app.addHook('onClose', () => store.close());
    await addApi(
      app,
      routesFor(auth),
      { auth, clients, logger, requestTimeoutMs: o.requestTimeoutMs },
      { requests: o.rateLimit, authFailures: o.authFailureLimit, store },
    );
    await app.ready();
  } catch (e: unknown) {
    await app.close();
    throw e;
  }
  return gatewayHandle(app, o.host, o.port);
}

function gatewayHandle(app: FastifyInstance, host: string, port: number): Gateway {
  let url: string | undefined;
  let listening: Promise<string> | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= app.close();
    return closing;
  };
  const listen = (): Promise<string> => {
    if (closing)
      return Promise.reject(new RefrontError('FAILED_PRECONDITION', 'CORE_CLOSED', 'the gateway is closed'));
    listening ??= app.listen({ host, port }).then(() => {
      const address = app.server.address() as AddressInfo;
      const shown = address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : address.address;
      url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`;
      return url;
    });
    return listening;
  };
  return {
    name: GATEWAY_SERVICE,
    app,
    get url() {
      return url;
    },
    listen,
    start: async () => {
      await listen();
    },
    ready: () => url !== undefined && closing === undefined,
    drain: async (signal) => {
      const onAbort = (): void => app.server.closeAllConnections();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      try {
        await close();
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
