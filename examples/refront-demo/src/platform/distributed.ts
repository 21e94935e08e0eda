import { hostname } from 'node:os';
import type { Registry, Service } from '@refront/core';
import { hostModule, openDatabase } from '@refront/data';
import { registryFromEnv } from '@refront/discovery';
import { mutualTls, serviceOfSpiffeId } from '@refront/identity';
import { type AmqpEventBusOptions, createAmqpEventBus } from '@refront/transport-amqp';
import { createGrpcServer } from '@refront/transport-grpc';
import { createMuxServer } from '@refront/transport-mux';
import { demoValidator } from './contracts.js';
import { parseDns, parseEndpoints } from './endpoints.js';
import { type ServiceModule, schemaOf } from './module.js';
import { callersOf } from './operators.js';
import { openPlatformChannel } from './platformChannel.js';
import { DEFAULT_RPC_LANE, multiLaneServer, muxServiceName, type RpcLane } from './rpcLane.js';
import type { ServiceIdentity } from './serviceIdentity.js';
import { serveWorkflowRuns } from './workflowSources.js';

/** How one service process reaches its peers and its infrastructure. */
export interface DistributedConfig {
  /** PostgreSQL URL; the service uses its own schema on it. */
  readonly databaseUrl: string;
  /** RabbitMQ URL. */
  readonly amqpUrl: string;
  /** Prefix of exchanges and queues, so several platforms can share a broker. @default 'refront' */
  readonly amqpNamespace?: string;
  /**
   * Events from their owner only (`ownershipBusOptions`, platform/brokerUsers.ts): the broker user
   * this service publishes as and the owner of every event it consumes. @default none: unchecked
   */
  readonly amqpOwnership?: Pick<AmqpEventBusOptions, 'brokerUser' | 'owners' | 'brokerUsers'>;
  /** Connections to PostgreSQL this process may hold. @default 10 */
  readonly databasePoolSize?: number;
  /** gRPC bind address. */
  readonly grpcHost: string;
  /** gRPC port (0: a free one, only useful with Consul). */
  readonly grpcPort: number;
  /** Address other services reach this one at (registered in Consul). */
  readonly advertiseHost: string;
  /** The lane this service calls the others on; it serves both either way. @default 'mux' */
  readonly rpc?: RpcLane;
  /**
   * Port of this service's mux server, registered as `<service>-mux` (0: a free one, only useful
   * with Consul); `'off'` serves gRPC only. @default 0
   */
  readonly muxPort?: number | 'off';
  /**
   * Mutual TLS on both lanes: the servers require a certificate from the CA and serve only the
   * module's declared `callers` and the platform's operators (`callersOf`); calls present this
   * service's certificate. @default none: plaintext,
   * any caller (development only, `MTLS=off`)
   */
  readonly identity?: ServiceIdentity | undefined;
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
 * Runs one module as its own process: gRPC and mux servers, clients on the configured lane through
 * discovery (a channel per instance, breaker per instance), RabbitMQ events, PostgreSQL with its
 * own schema. The module code is the same as in the monolith; only this wiring differs.
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
    ...(config.databasePoolSize ? { poolSize: config.databasePoolSize } : {}),
  });
  const amqp = createAmqpEventBus({
    url: config.amqpUrl,
    service: module.name,
    logger,
    metrics,
    validator: demoValidator(),
    ...(config.amqpNamespace ? { namespace: config.amqpNamespace } : {}),
    ...config.amqpOwnership,
  });
  const tls = config.identity ? mutualTls(config.identity.files) : undefined;
  // Who may call what is checked against the caller's certificate, before any handler: the
  // module's declared callers and the platform's operators (the console, decision 0146).
  const secured =
    tls && config.identity
      ? {
          tls: tls.server,
          auth: { callers: callersOf(module), callerName: serviceOfSpiffeId(config.identity.trustDomain) },
        }
      : {};
  const grpcServer = createGrpcServer({
    service: module.name,
    logger,
    metrics,
    host: config.grpcHost,
    port: config.grpcPort,
    readiness: host,
    ...secured,
    validator: demoValidator(),
  });
  const muxServer =
    config.muxPort === 'off'
      ? undefined
      : createMuxServer({
          service: module.name,
          logger,
          metrics,
          host: config.grpcHost,
          port: config.muxPort ?? 0,
          ...secured,
          validator: demoValidator(),
        });
  const server = multiLaneServer(muxServer ? [grpcServer, muxServer] : [grpcServer]);
  const channel = openPlatformChannel(config.rpc ?? DEFAULT_RPC_LANE, registry, {
    metrics,
    logger,
    tls: tls?.client,
  });

  // The bus drains with the service, before its database closes: consumers stop, handlers in
  // flight finish and ack (never against a closed pool), messages not yet taken stay in the queue
  // for the other instances, and publishes in flight are confirmed. It closes after the module.
  host.use(amqp);
  const hosted = await hostModule(module, { logger, metrics, db, server, channel, bus: amqp });
  // The console process reads the runs with the console's token (REFRONT_CONSOLE_TOKEN), when it has one.
  serveWorkflowRuns(host, module, db, config.env.REFRONT_CONSOLE_TOKEN || undefined);
  host.readiness('db', async () => {
    await db.ping();
    return true;
  });
  const instanceId = `${module.name}-${hostname()}-${process.pid}`;
  const registered: string[] = [];
  const deregister = async () => {
    for (const id of registered.splice(0)) {
      await registry.deregister(id).catch((e: unknown) => logger.warn({ err: e, id }, 'deregister failed'));
    }
  };
  host.use({
    name: module.name,
    start: async () => {
      await hosted.start();
      await registry.register({
        id: instanceId,
        service: module.name,
        address: config.advertiseHost,
        port: grpcServer.port,
        version: host.version,
        metadata: { protocol: 'grpc' },
      });
      registered.push(instanceId);
      if (muxServer) {
        await registry.register({
          id: `${instanceId}-mux`,
          service: muxServiceName(module.name),
          address: config.advertiseHost,
          port: muxServer.port,
          version: host.version,
          metadata: { protocol: 'mux' },
        });
        registered.push(`${instanceId}-mux`);
      }
    },
    // Out of discovery first, so callers stop picking this instance, then finish what is in flight.
    drain: async (signal) => {
      await deregister();
      await hosted.drain(signal);
    },
    close: async () => {
      await deregister();
      await hosted.close();
      await channel.close();
      await db.close();
    },
  });
}
