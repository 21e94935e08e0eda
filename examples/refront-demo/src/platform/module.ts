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
import type { Database, Migration, Outbox } from '@refront/data';

/**
 * What one service module gets from the platform it runs on. The same module runs in the
 * modular monolith (in-process transport, one shared embedded database) or alone in its own
 * process (gRPC, RabbitMQ, PostgreSQL): switching is configuration, never code.
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
  /**
   * A typed client of another service, calling as this module, behind the topology's resilience
   * policy (timeout, retry where idempotent, circuit breaker; per instance on gRPC).
   */
  client<S extends ServiceDefinition>(definition: S): Client<S>;
  /** The event bus, publishing as this module. Subscribe with the module's name as group. */
  readonly bus: EventBus;
  /** The module's own database (its own schema), migrated. */
  readonly db: Database;
  /** The module's transactional outbox: events stored with the state change. */
  readonly outbox: Outbox;
  /** Registers cleanup run at shutdown, after the module's server drained (reverse order). */
  onClose(fn: () => Promise<void> | void): void;
}

/**
 * The events a module publishes and the ones its group consumes. In the distributed topology they
 * are its broker permissions (write its packages' exchanges, bind to the others) and the owners
 * every consumer checks (the package of a published type belongs to its publisher, decision 0049):
 * a publish or a subscription left out is refused by the broker, not silently allowed.
 */
export interface ModuleEvents {
  // biome-ignore lint/suspicious/noExplicitAny: a list of different message types
  readonly publishes: readonly MessageType<any>[];
  // biome-ignore lint/suspicious/noExplicitAny: a list of different message types
  readonly consumes: readonly MessageType<any>[];
}

/** A service of the platform: its migrations and how it registers its API and consumers. */
export interface ServiceModule {
  /** Service name; also its database schema (dashes become underscores) and consumer group. */
  readonly name: string;
  /** The events it publishes (through its outbox) and consumes (as its group). */
  readonly events: ModuleEvents;
  /** Versioned migrations of its schema. */
  readonly migrations: readonly Migration[];
  /**
   * Who may call its methods, by service name (`gateway` for the HTTP edge): `'*'` or the fully
   * qualified methods. In the distributed topology every other caller is PERMISSION_DENIED
   * (checked against the caller's certificate); the Kubernetes NetworkPolicies are made from it.
   */
  readonly callers: CallerRules;
  /** Adds contracts and subscriptions; runs before the platform turns ready. */
  register(runtime: ModuleRuntime): Promise<void>;
}

/** The database schema of a service: `time-tracking` → `time_tracking`. */
export function schemaOf(service: string): string {
  return service.replaceAll('-', '_');
}
