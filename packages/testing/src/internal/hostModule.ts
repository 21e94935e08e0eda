import {
  type Channel,
  createClient,
  type EventBus,
  type Logger,
  type MetricsRegistry,
  type RpcServer,
} from '@refront/core';
import type { Database, Outbox, ServiceModule } from '@refront/data';
import { createOutbox } from '@refront/data';
import { createDefaultPolicy, type DefaultPolicyOptions, policyInterceptor } from '@refront/resilience';

/** What the app gives one module. */
export interface ModuleLanes {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly db: Database;
  /** The module's request server on the app's network. */
  readonly server: RpcServer;
  /** The module's channel to the others (faults applied). */
  readonly channel: Channel;
  /** The module's view of the bus (capture and faults applied). */
  readonly bus: EventBus;
  /** The policy its clients call through. */
  readonly policy: DefaultPolicyOptions;
}

/** A registered module: what the app starts, drains and closes. */
export interface HostedModule {
  readonly name: string;
  readonly outbox: Outbox;
  start(): Promise<void>;
  drain(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Registers `m` on its lanes as the monolith host does (decision 0076's `ModuleRuntime`): its
 * outbox relaying to its bus, clients calling as the module through the default resilience
 * policy, cleanups run after its server drained, last registered first.
 */
export async function hostModule(m: ServiceModule, lanes: ModuleLanes): Promise<HostedModule> {
  const { logger, metrics, db, server, channel, bus } = lanes;
  const outbox = createOutbox({ db, source: m.name, publisher: bus, logger, metrics });
  const cleanups: (() => Promise<void> | void)[] = [];
  const policy = createDefaultPolicy({ metrics, logger, name: m.name, ...lanes.policy });
  cleanups.push(() => policy.close());
  await m.register({
    name: m.name,
    logger,
    metrics,
    server,
    channel,
    client: (definition) =>
      createClient(definition, channel, {
        caller: m.name,
        metrics,
        interceptors: [policyInterceptor(policy)],
      }),
    bus,
    db,
    outbox,
    onClose: (fn) => cleanups.push(fn),
  });
  return {
    name: m.name,
    outbox,
    start: async () => {
      await server.start();
      outbox.start();
    },
    drain: (signal) => server.drain(signal),
    close: async () => {
      await server.close();
      await outbox.close();
      for (const fn of cleanups.reverse()) await fn();
    },
  };
}
