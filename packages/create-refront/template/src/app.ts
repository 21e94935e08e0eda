import {
  createInProcessEventBus,
  createInProcessNetwork,
  createLogger,
  createService,
  type EventBus,
  type InProcessNetwork,
  type RpcServer,
  type Service,
} from '@refront/core';
import { createEmbeddedPostgres, hostModule, openDatabase, type ServiceModule } from '@refront/data';
import { createAmqpEventBus } from '@refront/transport-amqp';
import { createGrpcServer } from '@refront/transport-grpc';
import type { Config } from './config.js';
import { MODULES } from './modules.js';

/** Options of {@link startApp}. */
export interface AppOptions {
  /** Drain and exit on SIGTERM/SIGINT (`npm start`, `npm run dev`). @default false */
  readonly handleSignals?: boolean;
  /** The services to run. @default MODULES */
  readonly modules?: readonly ServiceModule[];
}

/** The running app. */
export interface App {
  /** Lifecycle, logger and metrics of the process. */
  readonly service: Service;
  /**
   * The in-process network every service is on. Its servers accept only the callers each module
   * declares: call as one, `createClient(definition, app.network.channel({ caller: 'gateway' }))`.
   */
  readonly network: InProcessNetwork;
  /** The port the gRPC server listens on. */
  readonly grpcPort: number;
  /** Base URL of /healthz, /readyz and /metrics. */
  readonly opsUrl: string | undefined;
  /** Drains (in-flight calls and events finish) and stops everything. */
  stop(): Promise<void>;
}

/**
 * Starts every service of the app in this process: each with its own schema on one database (the
 * embedded PGlite, or PostgreSQL with DATABASE_URL), its outbox relayed to the event bus (in
 * process, or RabbitMQ with AMQP_URL), its contracts served to the other services in process (to
 * the callers it declares) and to callers outside over gRPC. Components start in order and
 * close in reverse: the gRPC server stops taking calls first, the database closes last.
 */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = createLogger({ service: 'app', level: config.LOG_LEVEL });
  const service = createService({
    name: 'app',
    version: '0.1.0',
    logger,
    opsPort: config.OPS_PORT,
    opsHost: config.GRPC_HOST,
    gracePeriodMs: config.GRACE_PERIOD_MS,
    handleSignals: options.handleSignals ?? false,
  });
  const { metrics } = service;
  const embedded =
    config.DATABASE_URL === undefined
      ? await createEmbeddedPostgres({ dataDir: config.DATA_DIR })
      : undefined;
  if (embedded) service.use({ name: 'embedded-postgres', close: () => embedded.close() });

  const network = createInProcessNetwork();
  const inProcessBus =
    config.AMQP_URL === undefined ? createInProcessEventBus({ service: 'app', logger, metrics }) : undefined;
  const grpc = createGrpcServer({
    service: 'app',
    logger,
    metrics,
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    readiness: service,
  });

  for (const m of options.modules ?? MODULES) {
    const log = createLogger({ service: m.name, host: logger });
    const db = await openDatabase({
      schema: m.name.replaceAll('-', '_'),
      url: config.DATABASE_URL,
      embedded,
      migrations: m.migrations,
      logger: log,
      metrics,
    });
    let bus: EventBus;
    if (inProcessBus) bus = inProcessBus.as(m.name);
    else {
      // RabbitMQ: drains with the service (consumers stop, handlers in flight finish and ack)
      // before the module's database closes; closes after it.
      const amqp = createAmqpEventBus({
        url: config.AMQP_URL as string,
        service: m.name,
        logger: log,
        metrics,
      });
      service.use(amqp);
      bus = amqp;
    }
    // In process, each module accepts only the callers it declares (a module calls as its name).
    const local = network.createServer({
      service: m.name,
      logger: log,
      metrics,
      auth: { callers: m.callers },
    });
    // What the module adds is served in process and over gRPC; the gRPC server has its own lifecycle.
    const server: RpcServer = {
      add(definition, implementation) {
        local.add(definition, implementation);
        grpc.add(definition, implementation);
      },
      start: () => local.start(),
      drain: (signal) => local.drain(signal),
      close: () => local.close(),
    };
    const channel = network.channel({ caller: m.name });
    const hosted = await hostModule(m, { logger: log, metrics, db, server, channel, bus });
    service.readiness(`${m.name}-db`, async () => {
      await db.ping();
      return true;
    });
    service.use({
      ...hosted,
      close: async () => {
        await hosted.close();
        await db.close();
      },
    });
  }
  if (inProcessBus) service.use({ name: 'event-bus', close: () => inProcessBus.close() });
  service.use(grpc);
  await service.start();
  const ops = service.opsAddress;
  return {
    service,
    network,
    grpcPort: grpc.port,
    opsUrl: ops ? `http://${config.GRPC_HOST}:${ops.port}` : undefined,
    stop: () => service.stop('app stop'),
  };
}
