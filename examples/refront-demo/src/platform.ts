import type {
  Channel,
  EventBus,
  InProcessEventBus,
  InProcessNetwork,
  Logger,
  MetricsRegistry,
  RpcServer,
  Service,
} from '@refront/core';

/**
 * What one service module gets from the platform it runs on. The same module runs in the
 * modular monolith (in-process transport) or alone in its own process (network transports):
 * switching is configuration, never code.
 */
export interface ModuleRuntime {
  /** The module's service name. */
  readonly name: string;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** The module's request server; add its contracts to it. */
  readonly server: RpcServer;
  /** Channel to the other services' request servers. */
  readonly channel: Channel;
  /** The event bus, publishing as this module. */
  readonly bus: EventBus;
}

/** A service of the platform. */
export interface ServiceModule {
  readonly name: string;
  /** Adds contracts and subscriptions; runs before the platform turns ready. */
  register(runtime: ModuleRuntime): Promise<void>;
}

/**
 * Runs modules in one process on the in-process network and event bus: one server per module,
 * started and drained with the host service's lifecycle.
 */
export async function runMonolith(
  host: Service<unknown>,
  network: InProcessNetwork,
  bus: InProcessEventBus,
  modules: readonly ServiceModule[],
): Promise<void> {
  for (const m of modules) {
    const logger = host.logger.child({ service: m.name });
    const server = network.createServer({ service: m.name, logger, metrics: host.metrics });
    await m.register({
      name: m.name,
      logger,
      metrics: host.metrics,
      server,
      channel: network.channel(),
      bus: bus.as(m.name),
    });
    host.use({
      name: `${m.name}-rpc`,
      start: () => server.start(),
      drain: (signal) => server.drain(signal),
      close: () => server.close(),
    });
  }
  host.use({ name: 'event-bus', close: () => bus.close() });
}
