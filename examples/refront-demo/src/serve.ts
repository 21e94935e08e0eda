/**
 * One service of the platform in its own process (the distributed topology): the same module
 * code as the monolith, on gRPC, RabbitMQ and PostgreSQL.
 *
 *   SERVICE=tickets DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres GRPC_PORT=50051 \
 *     REFRONT_ENDPOINTS='tickets=127.0.0.1:50051' node --import tsx src/serve.ts
 *
 * `SERVICE=gateway` runs the public HTTP edge, calling the services over gRPC.
 */
import { createService } from '@refront/core';
import { z } from 'zod';
import { createGateway, gatewayEnvShape, gatewayOptionsFromEnv } from './gateway/index.js';
import { registryFor, runDistributed } from './platform/distributed.js';
import { createRoutingChannel, demoServiceOf } from './platform/routingChannel.js';
import { openLane, RPC_LANES } from './platform/rpcLane.js';
import { PLATFORM_MODULES } from './platform/startPlatform.js';

const names: [string, ...string[]] = ['gateway', ...PLATFORM_MODULES.map((m) => m.name)];

const config = z.object({
  SERVICE: z.enum(names),
  SERVICE_VERSION: z.string().default('0.1.0'),
  DATABASE_URL: z.url().optional(),
  AMQP_URL: z.string().default('amqp://guest:guest@127.0.0.1:5672'),
  AMQP_NAMESPACE: z.string().default('refront'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).default(10),
  GRPC_HOST: z.string().default('0.0.0.0'),
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  REFRONT_RPC: z.enum(RPC_LANES).default('grpc'),
  MUX_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ADVERTISE_HOST: z.string().default('127.0.0.1'),
  OPS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  GRACE_PERIOD_MS: z.coerce.number().int().min(0).default(10_000),
  ...gatewayEnvShape,
});

const service = createService({
  name: process.env.SERVICE ?? 'refront-demo',
  version: process.env.SERVICE_VERSION ?? '0.1.0',
  config,
  opsPort: Number(process.env.OPS_PORT ?? 9464),
  gracePeriodMs: Number(process.env.GRACE_PERIOD_MS ?? 10_000),
});
const cfg = service.config;
const registry = registryFor(service, process.env);
// Added first, so it closes last: services deregister from it while they stop.
service.use({ name: 'registry', close: () => registry.close() });

if (cfg.SERVICE === 'gateway') {
  const channel = createRoutingChannel(demoServiceOf, (target) =>
    openLane(cfg.REFRONT_RPC, registry, target, { metrics: service.metrics, logger: service.logger }),
  );
  const gateway = await createGateway({
    ...gatewayOptionsFromEnv(cfg),
    channel,
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
      databasePoolSize: cfg.DATABASE_POOL_SIZE,
      grpcHost: cfg.GRPC_HOST,
      grpcPort: cfg.GRPC_PORT,
      rpc: cfg.REFRONT_RPC,
      muxPort: cfg.MUX_PORT,
      advertiseHost: cfg.ADVERTISE_HOST,
      env: process.env,
    },
    registry,
  );
}
await service.start();
service.logger.info({ service: cfg.SERVICE, ops: service.opsAddress?.port }, 'ready');
