import {
  type ConsoleServiceTarget,
  createConsole,
  createConsoleSpanExporter,
  httpWorkflowSource,
  type WorkflowSource,
} from '@refront/console';
import { type Channel, type Service, setupTracing } from '@refront/core';
import { registryFromEnv } from '@refront/discovery';
import { amqpDeadLetters } from '@refront/transport-amqp';
import type { ServeConfig } from '../serveConfig.js';
import { consoleContracts } from './consoleContracts.js';
import { parseDns, parseEndpoints } from './endpoints.js';
import { eventBodyDecoder } from './eventBodies.js';
import { PLATFORM_MODULES } from './services.js';
import { usesWorkflows } from './workflowSources.js';

/**
 * The Refront console as its own process of the distributed topology (`SERVICE=console`): it
 * receives every process's spans on OTLP/HTTP (`/v1/traces` on `CONSOLE_PORT`, 4318 by default,
 * so exporters pointed at `OTEL_EXPORTER_OTLP_ENDPOINT=http://console:4318` find it), reads each
 * process's `/readyz` and `/metrics` from the ops endpoints discovery gives it
 * (`REFRONT_OPS_ENDPOINTS`, static, or `REFRONT_OPS_DNS`, DNS: every service of the registry and
 * the gateway, at each look), and shows the dead letters of every consumer group on RabbitMQ,
 * bodies decoded from the contracts, and the workflow runs of each service that journals them
 * (`/workflows` on one of its instances' ops server, with the console token). Its API explorer
 * calls the services through `channel` (their lanes, presenting the console's certificate: the
 * operator identity every service serves, decision 0146) and the gateway's routes at
 * `GATEWAY_URL`, with dev tokens when `DEV_AUTH=true`; `CONSOLE_EXPLORER=off` makes it read-only.
 * Its own spans (the explorer's calls) go straight into its own store, so a method called from the
 * explorer has the console's span as its trace's root here as in the monolith; it exports nothing
 * over OTLP, not even with `OTEL_EXPORTER_OTLP_ENDPOINT` set (that would be itself).
 * It needs `REFRONT_CONSOLE_TOKEN` unless `NODE_ENV=development`. With event ownership on (`AMQP_OWNERSHIP=on`), `AMQP_URL`'s user needs
 * RabbitMQ's `impersonator` tag, so a replay keeps the group's own `user-id`.
 *
 * @throws RefrontError FAILED_PRECONDITION `CONSOLE_TOKEN_REQUIRED` outside development without a token.
 */
export async function addConsole(
  service: Service<unknown>,
  cfg: ServeConfig,
  channel: Channel,
): Promise<void> {
  const ops = registryFromEnv({
    env: {},
    logger: service.logger,
    ...(cfg.REFRONT_OPS_DNS ? { dns: parseDns(cfg.REFRONT_OPS_DNS) } : {}),
    ...(cfg.REFRONT_OPS_ENDPOINTS ? { services: parseEndpoints(cfg.REFRONT_OPS_ENDPOINTS) } : {}),
  });
  const processes = ['gateway', ...PLATFORM_MODULES.map((m) => m.name)];
  const console = createConsole({
    enabled: true,
    development: process.env.NODE_ENV === 'development',
    token: cfg.REFRONT_CONSOLE_TOKEN,
    host: cfg.CONSOLE_HOST,
    port: cfg.CONSOLE_PORT,
    logger: service.logger,
    deadLetters: amqpDeadLetters({
      url: cfg.AMQP_URL,
      namespace: cfg.AMQP_NAMESPACE,
      groups: PLATFORM_MODULES.filter((m) => m.events.consumes.length > 0).map((m) => m.name),
      impersonate: cfg.AMQP_OWNERSHIP === 'on',
    }),
    decodeBody: eventBodyDecoder(PLATFORM_MODULES),
    contracts: {
      ...consoleContracts(channel, () => cfg.GATEWAY_URL, cfg.DEV_AUTH),
      explorer: cfg.CONSOLE_EXPLORER === 'on',
    },
    services: async () => {
      const targets: ConsoleServiceTarget[] = [];
      for (const name of processes) {
        const instances = await ops.resolve(name).catch(() => []);
        for (const [n, i] of instances.entries())
          targets.push({
            name: instances.length > 1 ? `${name}#${n}` : name,
            opsUrl: `http://${i.address}:${i.port}`,
          });
      }
      return targets;
    },
    // Every instance of a service reads the same journal: the first one discovery gives will do.
    workflows: async () => {
      const sources: Record<string, WorkflowSource> = {};
      for (const m of PLATFORM_MODULES.filter(usesWorkflows)) {
        const [instance] = await ops.resolve(m.name).catch(() => []);
        if (instance)
          sources[m.name] = httpWorkflowSource({
            url: `http://${instance.address}:${instance.port}`,
            token: cfg.REFRONT_CONSOLE_TOKEN,
          });
      }
      return sources;
    },
  });
  service.use({ name: 'ops-discovery', close: () => ops.close() });
  service.use(console);
  const tracing = await setupTracing({
    serviceName: 'console',
    serviceVersion: cfg.SERVICE_VERSION,
    env: {},
    extraExporters: [createConsoleSpanExporter({ store: console.store })],
    // Each span into the store as it ends: a store write, no I/O, and the explorer's trace link
    // then finds the console's span at once.
    simple: true,
  });
  // Added after the console, so closed before it: the spans of the drain reach its store.
  service.use({ name: 'tracing', close: () => tracing.shutdown() });
}
