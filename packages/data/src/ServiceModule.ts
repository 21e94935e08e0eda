import type {
  CallerRules,
  Channel,
  Client,
  EventBus,
  Logger,
  MessageType,
  MetricsRegistry,
  RpcServer,
  ServiceDefinition,
} from '@refront/core';
import type { Database, Migration } from './Database.js';
import type { Outbox } from './Outbox.js';

/**
 * What a host gives a {@link ServiceModule} when it registers it: everything the service reaches
 * the outside world through. A host may run many modules in one process (in-process transport,
 * one shared embedded database) or one module per process (gRPC or mux, RabbitMQ, PostgreSQL);
 * the module cannot tell, so moving it between them is configuration, never code.
 */
export interface ModuleRuntime {
  /** The module's service name ({@link ServiceModule.name}). */
  readonly name: string;
  /** The module's logger (its lines carry `service: name`). */
  readonly logger: Logger;
  /** The host's metrics registry. */
  readonly metrics: MetricsRegistry;
  /** The module's request server: add its contracts' implementations to it. The host starts and drains it. */
  readonly server: RpcServer;
  /** A channel to the other services' request servers (for clients the module builds itself). */
  readonly channel: Channel;
  /**
   * A typed client of another service, calling as this module (`caller: name`), under the host's
   * resilience policy (timeout, retry where the method is idempotent, circuit breaker).
   */
  client<S extends ServiceDefinition>(definition: S): Client<S>;
  /** The event bus, publishing as this module. Subscribe with the module's name as the group. */
  readonly bus: EventBus;
  /** The module's own database (its own schema), migrated with {@link ServiceModule.migrations} before `register`. */
  readonly db: Database;
  /** The module's transactional outbox on `db`; the host relays it to `bus` after commit. */
  readonly outbox: Outbox;
  /** Registers cleanup the host runs at shutdown, after the module's server drained (last registered first). */
  onClose(fn: () => Promise<void> | void): void;
}

/**
 * The events a module publishes (through its outbox) and the ones its group consumes. A host may
 * turn them into broker permissions (write to its own events, bind to the others) and into the
 * owner every consumer checks an event's publisher against, so a publish or a subscription left
 * out is refused rather than silently allowed.
 */
export interface ModuleEvents {
  // biome-ignore lint/suspicious/noExplicitAny: a list of different message types
  readonly publishes: readonly MessageType<any>[];
  // biome-ignore lint/suspicious/noExplicitAny: a list of different message types
  readonly consumes: readonly MessageType<any>[];
}

/**
 * One service, as a host runs it: what it declares (name, events, migrations, callers) and how it
 * registers its contract implementations and event consumers on the {@link ModuleRuntime} the
 * host gives it. It depends on nothing but its runtime, its contracts and its own code, so the
 * same module runs beside others in one process or alone in its own.
 *
 * @example
 * export const ticketsModule: ServiceModule = {
 *   name: 'tickets',
 *   events: { publishes: [TicketCreated], consumes: [] },
 *   migrations: [{ version: 1, name: 'tickets', sql: 'create table tickets (…)' }],
 *   callers: { gateway: '*' },
 *   async register({ server, db, outbox }) {
 *     server.add(TicketsServiceDefinition, {
 *       async createTicket(request, ctx) {
 *         const tenant = requireTenant(ctx);
 *         // … insert the ticket and add TicketCreated to the outbox in one transaction
 *       },
 *     });
 *   },
 * };
 */
export interface ServiceModule {
  /**
   * Service name (`time-tracking`): the caller name its clients send, its consumer group, and,
   * dashes as underscores, its database schema.
   */
  readonly name: string;
  /** The events it publishes and consumes. */
  readonly events: ModuleEvents;
  /** Versioned migrations of its schema, applied before `register`. */
  readonly migrations: readonly Migration[];
  /**
   * Who may call its methods, by service name (`gateway` for an HTTP edge): `'*'` or the fully
   * qualified methods. A host that authenticates callers refuses every other caller
   * PERMISSION_DENIED: in process on every call (the monolith, `@refront/testing`: the caller is
   * the in-process channel's), across processes with mutual TLS (the caller is the client
   * certificate's); network policies can be made from it.
   */
  readonly callers: CallerRules;
  /** Adds its contract implementations and event subscriptions; the host turns ready after it. */
  register(runtime: ModuleRuntime): Promise<void>;
}
