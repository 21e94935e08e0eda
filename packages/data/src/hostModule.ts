import {
  type Channel,
  createClient,
  type EventBus,
  type Interceptor,
  type Logger,
  type MetricsRegistry,
  type RpcServer,
  type ServiceComponent,
} from '@refront/core';
import type { Database } from './Database.js';
import { createOutbox, type Outbox } from './Outbox.js';
import type { ServiceModule } from './ServiceModule.js';

/** What a host gives {@link hostModule}: the lanes one module reaches the world through. */
export interface ModuleLanes {
  /** The module's logger (its lines should carry `service: module.name`). */
  readonly logger: Logger;
  /** The host's metrics registry. */
  readonly metrics: MetricsRegistry;
  /** The module's own database, already migrated with the module's migrations. */
  readonly db: Database;
  /**
   * The module's request server; the hosted module starts, drains and closes it. A host that
   * authenticates callers makes it with `auth: { callers: module.callers }`.
   */
  readonly server: RpcServer;
  /**
   * The channel the module's clients call the other services through, presenting the module as
   * their caller: in process `network.channel({ caller: module.name })`, over a network lane the
   * module's client certificate.
   */
  readonly channel: Channel;
  /** The bus the module publishes to (through its outbox) and subscribes on. */
  readonly bus: EventBus;
  /**
   * Interceptors every client the module makes calls through, after the defaults: typically the
   * resilience policy (`policyInterceptor(createDefaultPolicy(…))` from `@refront/resilience`).
   */
  readonly clientInterceptors?: readonly Interceptor[];
}

/** A registered module: a {@link ServiceComponent} the host adds with `service.use(…)`. */
export interface HostedModule extends ServiceComponent {
  /** The module's outbox, relaying to `bus` once started (tests wait for it to be empty). */
  readonly outbox: Outbox;
  start(): Promise<void>;
  drain(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Registers `module` on its lanes, the one way every host does it (monolith, one process per
 * service, the generated app, `@refront/testing`): its outbox on `db` relaying to `bus`, clients
 * calling as the module through `clientInterceptors`, and its lifecycle as one component:
 * - `start`: the request server, then the outbox relay;
 * - `drain`: the request server finishes what is in flight;
 * - `close`: the server, the outbox, then what the module registered with `onClose`, last first.
 *
 * The database is the host's: close it after this component (it may be shared, as the embedded one is).
 *
 * @example
 * const hosted = await hostModule(notesModule, { logger, metrics, db, server, channel, bus });
 * service.use(hosted);
 * service.use({ name: 'notes-db', close: () => db.close() }); // closed after the module
 */
export async function hostModule(module: ServiceModule, lanes: ModuleLanes): Promise<HostedModule> {
  const { logger, metrics, db, server, channel, bus } = lanes;
  const interceptors = lanes.clientInterceptors ?? [];
  const outbox = createOutbox({ db, source: module.name, publisher: bus, logger, metrics });
  const cleanups: (() => Promise<void> | void)[] = [];
  await module.register({
    name: module.name,
    logger,
    metrics,
    server,
    channel,
    client: (definition) => createClient(definition, channel, { caller: module.name, metrics, interceptors }),
    bus,
    db,
    outbox,
    onClose: (fn) => cleanups.push(fn),
  });
  return {
    name: module.name,
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
