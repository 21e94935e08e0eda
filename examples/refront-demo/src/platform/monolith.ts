import { createLogger, type InProcessEventBus, type InProcessNetwork, type Service } from '@refront/core';
import { type Database, type EmbeddedPostgres, hostModule, type Outbox, openDatabase } from '@refront/data';
import { createDefaultPolicy, policyInterceptor } from '@refront/resilience';
import { demoValidator } from './contracts.js';
import { type ServiceModule, schemaOf } from './module.js';
import { callersOf } from './operators.js';

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
 * service's lifecycle; returns the outboxes (to wait for them in tests) and each module's database (for the console's workflow view). Every module keeps to its own schema and talks to the others only through
 * contracts and events, so each can be lifted into its own process unchanged. Each module calls
 * through a channel named after it, and its server accepts only {@link callersOf} the module, as
 * with mutual TLS in the distributed topology: a caller it does not declare is PERMISSION_DENIED
 * here too, not only once deployed (decision 0150).
 */
export async function runMonolith(
  host: Service<unknown>,
  network: InProcessNetwork,
  bus: InProcessEventBus,
  data: MonolithData,
  modules: readonly ServiceModule[],
): Promise<{ readonly outboxes: readonly Outbox[]; readonly databases: ReadonlyMap<string, Database> }> {
  const outboxes: Outbox[] = [];
  const databases = new Map<string, Database>();
  for (const m of modules) {
    const logger = createLogger({ service: m.name, host: host.logger });
    const db = await openDatabase({
      schema: schemaOf(m.name),
      url: data.url,
      embedded: data.embedded,
      migrations: m.migrations,
      logger,
      metrics: host.metrics,
    });
    const server = network.createServer({
      service: m.name,
      logger,
      metrics: host.metrics,
      validator: demoValidator(),
      auth: { callers: callersOf(m) },
    });
    const policy = createDefaultPolicy({ metrics: host.metrics, logger, name: m.name });
    const hosted = await hostModule(m, {
      logger,
      metrics: host.metrics,
      db,
      server,
      channel: network.channel({ caller: m.name }),
      bus: bus.as(m.name),
      clientInterceptors: [policyInterceptor(policy)],
    });
    outboxes.push(hosted.outbox);
    databases.set(m.name, db);
    host.readiness(`${m.name}-db`, async () => {
      await db.ping();
      return true;
    });
    host.use({
      ...hosted,
      close: async () => {
        await hosted.close();
        await policy.close();
        await db.close();
      },
    });
  }
  host.use({ name: 'event-bus', close: () => bus.close() });
  return { outboxes, databases };
}
