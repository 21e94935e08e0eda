import { createClient, type InProcessEventBus, type InProcessNetwork, type Service } from '@refront/core';
import { createOutbox, type EmbeddedPostgres, type Outbox, openDatabase } from '@refront/data';
import { createDefaultPolicy, policyInterceptor } from '@refront/resilience';
import { demoValidator } from './contracts.js';
import { type ServiceModule, schemaOf } from './module.js';

/** Where the monolith's modules keep their data. */
export interface MonolithData {
  /** PostgreSQL URL: each module gets its own schema on it. */
  readonly url?: string | undefined;
  /** Shared embedded PostgreSQL, used when `url` is not set: one schema per module. */
  readonly embedded?: EmbeddedPostgres | undefined;
}

/**
 * Runs modules in one process on the in-process network and event bus: for each module, its own
 * schema (migrated), its outbox relay and its request server, started and drained with the host
 * service's lifecycle; returns the outboxes (to wait for them in tests). Every module keeps to its own schema and talks to the others only through
 * contracts and events, so each can be lifted into its own process unchanged.
 */
export async function runMonolith(
  host: Service<unknown>,
  network: InProcessNetwork,
  bus: InProcessEventBus,
  data: MonolithData,
  modules: readonly ServiceModule[],
): Promise<{ readonly outboxes: readonly Outbox[] }> {
  const outboxes: Outbox[] = [];
  for (const m of modules) {
    const logger = host.logger.child({ service: m.name });
    const db = await openDatabase({
      schema: schemaOf(m.name),
      url: data.url,
      embedded: data.embedded,
      migrations: m.migrations,
      logger,
      metrics: host.metrics,
    });
    const publisher = bus.as(m.name);
    const outbox = createOutbox({ db, source: m.name, publisher, logger, metrics: host.metrics });
    outboxes.push(outbox);
    const server = network.createServer({
      service: m.name,
      logger,
      metrics: host.metrics,
      validator: demoValidator(),
    });
    const cleanups: (() => Promise<void> | void)[] = [];
    const policy = createDefaultPolicy({ metrics: host.metrics, logger, name: m.name });
    cleanups.push(() => policy.close());
    const channel = network.channel();
    await m.register({
      name: m.name,
      logger,
      metrics: host.metrics,
      server,
      channel,
      client: (definition) =>
        createClient(definition, channel, {
          caller: m.name,
          metrics: host.metrics,
          interceptors: [policyInterceptor(policy)],
        }),
      bus: publisher,
      db,
      outbox,
      onClose: (fn) => cleanups.push(fn),
    });
    host.readiness(`${m.name}-db`, async () => {
      await db.ping();
      return true;
    });
    host.use({
      name: m.name,
      start: async () => {
        await server.start();
        outbox.start();
      },
      drain: (signal) => server.drain(signal),
      close: async () => {
        await server.close();
        await outbox.close();
        for (const fn of cleanups.reverse()) await fn();
        await db.close();
      },
    });
  }
  host.use({ name: 'event-bus', close: () => bus.close() });
  return { outboxes };
}
