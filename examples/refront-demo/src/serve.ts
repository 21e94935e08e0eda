/**
 * One service of the platform in its own process (the distributed topology): the same module
 * code as the monolith, on mux and gRPC, RabbitMQ and PostgreSQL.
 *
 *   SERVICE=tickets DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres GRPC_PORT=50051 \
 *     AMQP_URL=amqp://tickets:…@127.0.0.1:5672 \
 *     MUX_PORT=51051 REFRONT_ENDPOINTS='tickets=127.0.0.1:50051;tickets-mux=127.0.0.1:51051' \
 *     node --import tsx src/serve.ts
 *
 * Every service serves gRPC (for callers outside Refront too) and mux (`MUX_PORT`, a free port
 * when unset, `off` for none), and calls the others on mux, the default lane, or on gRPC with
 * `REFRONT_RPC=grpc`. `SERVICE=gateway` runs the public HTTP edge, calling the services on the
 * same lane. `SERVICE=console` runs the Refront console of the topology (platform/consoleProcess.ts),
 * whose API explorer calls the services on the same lane too, as the operator identity `console`.
 * Every process exports its spans on OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 */
import { createService, setupTracing } from '@refront/core';
import { mutualTls } from '@refront/identity';
import { ownershipBusOptions } from './platform/brokerUsers.js';
import { registryFor, runDistributed } from './platform/distributed.js';
import { openPlatformChannel } from './platform/platformChannel.js';
import { identityFromEnv } from './platform/serviceIdentity.js';
import { PLATFORM_MODULES } from './platform/services.js';
import { serveConfig, serviceOptionsFromEnv } from './serveConfig.js';

// Its own variables go through serveConfig (empty means unset); discovery reads CONSUL_HTTP_ADDR,
// REFRONT_DNS and REFRONT_ENDPOINTS itself. docs/deploy.md lists them all.
const service = createService({ ...serviceOptionsFromEnv(process.env), config: serveConfig });
const cfg = service.config;
// Spans go over OTLP/HTTP where OTEL_EXPORTER_OTLP_ENDPOINT says (the console's 4318; headers
// from OTEL_EXPORTER_OTLP_HEADERS), under this process's service name; none when it is unset.
// Added first, so closed last: the spans of the drain are flushed too. The console keeps its own
// spans in its store instead (consoleProcess.ts).
if (cfg.SERVICE !== 'console') {
  const tracing = await setupTracing({ serviceName: cfg.SERVICE, serviceVersion: cfg.SERVICE_VERSION });
  service.use({ name: 'tracing', close: () => tracing.shutdown() });
}
const registry = registryFor(service, process.env);
// Added next, so it closes after the services: they deregister from it while they stop.
service.use({ name: 'registry', close: () => registry.close() });
const identity = identityFromEnv(cfg);
if (!identity) service.logger.warn('MTLS=off: calls between services are plaintext and unauthenticated');
/**
 * The channel the gateway and the console call the services through: each on `REFRONT_RPC`'s lane,
 * presenting this process's certificate. Added before them, so it closes after them.
 */
const callServices = () => {
  const channel = openPlatformChannel(cfg.REFRONT_RPC, registry, {
    metrics: service.metrics,
    logger: service.logger,
    tls: identity ? mutualTls(identity.files).client : undefined,
  });
  service.use({ name: 'channels', close: () => channel.close() });
  return channel;
};

// The console's and the gateway's libraries are imported in their branch only: a service
// process never loads them (decision 0143).
if (cfg.SERVICE === 'console') {
  const { addConsole } = await import('./platform/consoleProcess.js');
  await addConsole(service, cfg, callServices());
} else if (cfg.SERVICE === 'gateway') {
  const { createGateway, gatewayOptionsFromEnv } = await import('./gateway/index.js');
  const gateway = await createGateway({
    ...gatewayOptionsFromEnv(cfg),
    channel: callServices(),
    logger: service.logger,
    metrics: service.metrics,
  });
  service.use(gateway);
} else {
  const module = PLATFORM_MODULES.find((m) => m.name === cfg.SERVICE);
  if (!module) throw new Error(`unknown service ${cfg.SERVICE}`);
  if (!cfg.DATABASE_URL) {
    service.logger.fatal(
      'DATABASE_URL is required: each service keeps its data in its own schema on PostgreSQL',
    );
    process.exit(1);
  }
  await runDistributed(
    service,
    module,
    {
      databaseUrl: cfg.DATABASE_URL,
      amqpUrl: cfg.AMQP_URL,
      amqpNamespace: cfg.AMQP_NAMESPACE,
      ...(cfg.AMQP_OWNERSHIP === 'on'
        ? { amqpOwnership: ownershipBusOptions(module.name, PLATFORM_MODULES, cfg.AMQP_USER_PREFIX) }
        : {}),
      databasePoolSize: cfg.DATABASE_POOL_SIZE,
      grpcHost: cfg.GRPC_HOST,
      grpcPort: cfg.GRPC_PORT,
      rpc: cfg.REFRONT_RPC,
      muxPort: cfg.MUX_PORT,
      advertiseHost: cfg.ADVERTISE_HOST,
      identity,
      env: process.env,
    },
    registry,
  );
}
await service.start();
service.logger.info({ service: cfg.SERVICE, ops: service.opsAddress?.port }, 'ready');
