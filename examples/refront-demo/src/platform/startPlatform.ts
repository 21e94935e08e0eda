import { randomBytes } from 'node:crypto';
import { createConsole, createConsoleSpanExporter, type RefrontConsole } from '@refront/console';
import {
  type Channel,
  createInProcessEventBus,
  createInProcessNetwork,
  createLogger,
  createService,
  type InProcessEventBus,
  type InProcessNetwork,
  type Logger,
  type Service,
  setupTracing,
  type TracingHandle,
} from '@refront/core';
import { createEmbeddedPostgres, type Database, type Outbox } from '@refront/data';
import { createAiModule } from '../ai/module.js';
import type { AiProvider } from '../ai/provider.js';
import { createGateway, GATEWAY_SERVICE } from '../gateway/index.js';
import { createInvoicingModule, type InvoicingWorkflowOptions } from '../invoicing/module.js';
import { consoleContracts } from './consoleContracts.js';
import { demoValidator } from './contracts.js';
import { eventBodyDecoder } from './eventBodies.js';
import { runMonolith } from './monolith.js';
import { CONSOLE_CALLER } from './operators.js';
import { PLATFORM_MODULES } from './services.js';
import { type WorkflowConsoleSource, workflowSources } from './workflowSources.js';

/** Options of {@link startPlatform}. */
export interface PlatformOptions {
  /** Gateway port; 0 picks a free one. @default 8080 */
  readonly gatewayPort?: number;
  /** Gateway address. @default '127.0.0.1' */
  readonly gatewayHost?: string;
  /** Ops port (`/healthz`, `/readyz`, `/metrics`); 0 picks a free one, false disables it. @default 9464 */
  readonly opsPort?: number | false;
  /** PostgreSQL URL (one schema per service); unset means one embedded PGlite in memory. */
  readonly databaseUrl?: string | undefined;
  /** PGlite directory when no `databaseUrl`; unset means in memory. */
  readonly dataDir?: string | undefined;
  /** HS256 secret of the gateway's tokens. @default a random secret for this process */
  readonly jwtSecret?: string;
  /** Serve `POST /v1/dev/tokens`. @default true (the demo) */
  readonly devAuth?: boolean;
  /** Requests per minute per tenant at the gateway. */
  readonly rateLimitPerMinute?: number;
  /** Drain and exit on SIGTERM/SIGINT. @default false */
  readonly handleSignals?: boolean;
  readonly logger?: Logger;
  /** Grace period of a stop, in ms. @default 10000 */
  readonly gracePeriodMs?: number;
  /**
   * The AI service's provider. @default from the environment: an OpenAI-compatible endpoint when
   * AI_BASE_URL is set (AI_MODEL, AI_API_KEY), else the local model (no network)
   */
  readonly aiProvider?: AiProvider;
  /**
   * Serve the Refront console (traces, services, API explorer, flow, dead letters) and hand it every
   * span in-process (no OTLP round trip); when OTEL_EXPORTER_OTLP_ENDPOINT is set, spans go there
   * over OTLP/HTTP as well. @default off
   */
  readonly console?: PlatformConsoleOptions;
  /** The billing saga's engine settings (tests shorten its compensation retries). @default the engine's */
  readonly invoicingWorkflow?: InvoicingWorkflowOptions;
}

/** The console of the monolith (see {@link PlatformOptions.console}). */
export interface PlatformConsoleOptions {
  /** Port; 0 picks a free one. @default 4318 */
  readonly port?: number;
  /** Its bearer token; required unless `development`. */
  readonly token?: string | undefined;
  /** A laptop: no token needed. @default true */
  readonly development?: boolean;
}

/** The running modular monolith. */
export interface Platform {
  readonly service: Service<unknown>;
  /** Base URL of the public HTTP API. */
  readonly gatewayUrl: string;
  /** Base URL of the ops endpoints, when enabled. */
  readonly opsUrl: string | undefined;
  readonly network: InProcessNetwork;
  readonly bus: InProcessEventBus;
  /** Every module's outbox. */
  readonly outboxes: readonly Outbox[];
  /** Every module's database, by module name (an operator's SQL, in tests). */
  readonly databases: ReadonlyMap<string, Database>;
  /** The console, when enabled. */
  readonly console: RefrontConsole | undefined;
  /** Exports the spans ended so far (to the console); resolves once sent. */
  flushTraces(): Promise<void>;
  /** Milliseconds from the call to ready. */
  readonly readyMs: number;
  /** Drains and stops everything. */
  stop(): Promise<void>;
}

/**
 * Starts the whole platform in one process: every service on the in-process transport and event
 * bus, one embedded PostgreSQL (PGlite) with a schema per service (or a PostgreSQL server when
 * `databaseUrl` is set), and the gateway in front.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const started = performance.now();
  const logger =
    options.logger ?? createLogger({ service: 'refront-demo', level: process.env.LOG_LEVEL ?? 'warn' });
  const service = createService({
    name: 'refront-demo',
    version: '0.1.0',
    logger,
    opsPort: options.opsPort ?? 9464,
    opsHost: '127.0.0.1',
    handleSignals: options.handleSignals ?? false,
    gracePeriodMs: options.gracePeriodMs ?? 10_000,
  });
  let workflows: Record<string, WorkflowConsoleSource> = {};
  const network = createInProcessNetwork();
  let gatewayUrl: string | undefined;
  const { console: consoleServer, tracing } = await startConsole(service, options, {
    bus: () => bus,
    channel: network.channel({ caller: CONSOLE_CALLER }),
    gatewayUrl: () => gatewayUrl,
    workflows: () => workflows,
  });
  const bus = createInProcessEventBus({
    service: 'refront-demo',
    logger,
    metrics: service.metrics,
    validator: demoValidator(),
  });
  const embedded =
    options.databaseUrl === undefined
      ? await createEmbeddedPostgres({ dataDir: options.dataDir })
      : undefined;
  if (embedded) service.use({ name: 'embedded-postgres', close: () => embedded.close() });
  const modules = PLATFORM_MODULES.map((m) => {
    if (m.name === 'ai' && options.aiProvider) return createAiModule({ provider: options.aiProvider });
    if (m.name === 'invoicing' && options.invoicingWorkflow)
      return createInvoicingModule(options.invoicingWorkflow);
    return m;
  });
  const { outboxes, databases } = await runMonolith(
    service,
    network,
    bus,
    { url: options.databaseUrl, embedded },
    modules,
  );
  workflows = workflowSources(modules, databases, service);

  const gateway = await createGateway({
    channel: network.channel({ caller: GATEWAY_SERVICE }),
    logger: createLogger({ service: GATEWAY_SERVICE, host: logger }),
    metrics: service.metrics,
    auth: {
      hs256Secret: options.jwtSecret ?? randomBytes(32).toString('base64url'),
      devTokens: options.devAuth ?? true,
    },
    rateLimit:
      options.rateLimitPerMinute === undefined
        ? undefined
        : { max: options.rateLimitPerMinute, windowMs: 60_000 },
    host: options.gatewayHost ?? '127.0.0.1',
    port: options.gatewayPort ?? 8080,
  });
  service.use(gateway);
  await service.start();
  gatewayUrl = gateway.url ?? '';
  const ops = service.opsAddress;
  return {
    service,
    gatewayUrl,
    opsUrl: ops ? `http://127.0.0.1:${ops.port}` : undefined,
    network,
    bus,
    outboxes,
    databases,
    console: consoleServer,
    flushTraces: () => tracing?.flush() ?? Promise.resolve(),
    readyMs: performance.now() - started,
    stop: () => service.stop('platform stop'),
  };
}

/**
 * Starts the console first, then the OpenTelemetry SDK that hands it the spans in-process (and
 * exports them over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set); both close with the
 * platform, after everything that makes spans.
 */
async function startConsole(
  service: Service<unknown>,
  options: PlatformOptions,
  platform: {
    bus: () => InProcessEventBus;
    channel: Channel;
    gatewayUrl: () => string | undefined;
    workflows: () => Record<string, WorkflowConsoleSource>;
  },
): Promise<{ console: RefrontConsole | undefined; tracing: TracingHandle | undefined }> {
  const bus = platform.bus;
  if (!options.console) return { console: undefined, tracing: undefined };
  const console = createConsole({
    enabled: true,
    development: options.console.development ?? true,
    token: options.console.token,
    port: options.console.port ?? 4318,
    logger: createLogger({ service: 'console', host: service.logger }),
    deadLetters: {
      list: async (group) => bus().deadLetters(group),
      replay: async (group, eventId) => bus().replay(group, eventId),
      discard: async (group, eventId) => bus().discard(group, eventId),
    },
    workflows: platform.workflows,
    // The Dead letters view shows each body decoded from its contract.
    decodeBody: eventBodyDecoder(PLATFORM_MODULES),
    services: () => {
      const ops = service.opsAddress;
      return ops ? [{ name: 'refront-demo', opsUrl: `http://127.0.0.1:${ops.port}` }] : [];
    },
    contracts: consoleContracts(platform.channel, platform.gatewayUrl, options.devAuth ?? true),
  });
  await console.start();
  const tracing = await setupTracing({
    serviceName: 'refront-demo',
    serviceVersion: '0.1.0',
    extraExporters: [createConsoleSpanExporter({ store: console.store })],
  });
  // Registered first, so closed last: the SDK flushes the spans of the drain, then the console stops.
  service.use({ name: 'console', close: () => console.close() });
  service.use({ name: 'tracing', close: () => tracing.shutdown() });
  return { console, tracing };
}
