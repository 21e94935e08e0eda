import { hostname } from 'node:os';
import { createClient, type Registry, type Service } from '@refront/core';
import { createOutbox, openDatabase } from '@refront/data';
import { registryFromEnv } from '@refront/discovery';
import { createAmqpEventBus } from '@refront/transport-amqp';
import { createGrpcChannel, createGrpcServer, type GrpcChannel } from '@refront/transport-grpc';
import { parseDns, parseEndpoints } from './endpoints.js';
import { type ServiceModule, schemaOf } from './module.js';
import { createRoutingChannel, demoServiceOf } from './routingChannel.js';

/** How one service process reaches its peers and its infrastructure. */
export interface DistributedConfig {
  /** PostgreSQL URL; the service uses its own schema on it. */
  readonly databaseUrl: string;
  /** RabbitMQ URL. */
  readonly amqpUrl: string;
  /** gRPC bind address. */
  readonly grpcHost: string;
  /** gRPC port (0: a free one, only useful with Consul). */
  readonly grpcPort: number;
  /** Address other services reach this one at (registered in Consul). */
  readonly advertiseHost: string;
  /** `REFRONT_ENDPOINTS` (static discovery), `REFRONT_DNS` (DNS discovery); Consul when CONSUL_HTTP_ADDR is set. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The registry the environment selects: Consul, else DNS, else static endpoints. */
export function registryFor(host: Service<unknown>, env: DistributedConfig['env']): Registry {
  return registryFromEnv({
    env,
    logger: host.logger,
    ...(env.REFRONT_DNS ? { dns: parseDns(env.REFRONT_DNS) } : {}),
    ...(env.REFRONT_ENDPOINTS ? { services: parseEndpoints(env.REFRONT_ENDPOINTS) } : {}),
  });
}

/**
 * Runs one module as its own process: gRPC server, gRPC clients through discovery (a channel
 * per instance, breaker per instance), RabbitMQ events, PostgreSQL with its own schema. The module
 * code is the same as in the monolith; only this wiring differs.
 */
export async function runDistributed(
  host: Service<unknown>,
  module: ServiceModule,
  config: DistributedConfig,
  registry: Registry,
): Promise<void> {
  const { logger, metrics } = host;
  const db = await openDatabase({
    schema: schemaOf(module.name),
    url: config.databaseUrl,
    migrations: module.migrations,
    logger,
    metrics,
  });
  const bus = createAmqpEventBus({ url: config.amqpUrl, service: module.name, logger, metrics });
  const outbox = createOutbox({ db, source: module.name, publisher: bus, logger, metrics });
  const server = createGrpcServer({
    service: module.name,
    logger,
    metrics,
    host: config.grpcHost,
    port: config.grpcPort,
    readiness: host,
  });
  const grpcChannels: GrpcChannel[] = [];
  const channel = createRoutingChannel(demoServiceOf, (service) => {
    const c = createGrpcChannel({ discovery: registry, service, metrics, logger });
    grpcChannels.push(c);
    return c;
  });
  const cleanups: (() => Promise<void> | void)[] = [];

  host.use({
    name: 'amqp',
    start: () => bus.waitUntilConnected({ signal: AbortSignal.timeout(30_000) }),
    ready: () => bus.isReady(),
    close: () => bus.close(),
  });
  await module.register({
    name: module.name,
    logger,
    metrics,
    server,
    channel,
    client: (definition) => createClient(definition, channel, { caller: module.name, metrics }),
    bus,
    db,
    outbox,
    onClose: (fn) => cleanups.push(fn),
  });
  host.readiness('db', async () => {
    await db.ping();
    return true;
  });
  host.use({
    name: module.name,
    start: async () => {
      await server.start();
      outbox.start();
      const id = `${module.name}-${hostname()}-${process.pid}`;
      await registry.register({
        id,
        service: module.name,
        address: config.advertiseHost,
        port: server.port,
        version: host.version,
        metadata: { protocol: 'grpc' },
      });
      cleanups.push(() => registry.deregister(id));
    },
    drain: (signal) => server.drain(signal),
    close: async () => {
      for (const fn of cleanups.reverse()) await fn();
      await server.close();
      await outbox.close();
      for (const c of grpcChannels) await c.close();
      await db.close();
    },
  });
}
