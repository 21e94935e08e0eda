import {
  type CallOptions,
  type Client,
  createClient,
  createInProcessEventBus,
  createInProcessNetwork,
  createLogger,
  createRequestContext,
  createService,
  type InProcessEventBus,
  type InProcessNetwork,
  type MetricsRegistry,
  runWithContext,
  type ServiceDefinition,
} from '@refront/core';
import { METADATA_ROLES } from '@refront/core/transport';
import { createEmbeddedPostgres, type EmbeddedPostgres, type ServiceModule } from '@refront/data';
import { GATEWAY_SERVICE } from '../../gateway/defaults.js';
import { runMonolith } from '../monolith.js';

/** A few modules running on the in-process transport and one embedded database, for tests. */
export interface Harness {
  readonly network: InProcessNetwork;
  readonly bus: InProcessEventBus;
  /** The modules' metrics registry. */
  readonly metrics: MetricsRegistry;
  /**
   * A typed client calling as the gateway does (the caller `gateway`, which every module declares)
   * for `tenant` (sent as the caller's tenant), for a user holding `roles` (sent as
   * `x-refront-roles`). @default roles: none (a member)
   */
  client<S extends ServiceDefinition>(def: S, tenant: string, roles?: readonly string[]): Client<S>;
  stop(): Promise<void>;
}

/**
 * Starts `modules` as a small monolith on a fresh in-memory PGlite, on `embedded`, or on the
 * PostgreSQL server at `url` (each module in its own schema there).
 */
export async function startHarness(
  modules: readonly ServiceModule[],
  options: { embedded?: EmbeddedPostgres; url?: string } = {},
): Promise<Harness> {
  const logger = createLogger({ service: 'test', level: process.env.LOG_LEVEL ?? 'silent' });
  const service = createService({ name: 'test', version: '0', logger, opsPort: false, handleSignals: false });
  const network = createInProcessNetwork();
  const bus = createInProcessEventBus({ service: 'test', logger, metrics: service.metrics });
  const embedded =
    options.url === undefined ? (options.embedded ?? (await createEmbeddedPostgres())) : undefined;
  await runMonolith(
    service,
    network,
    bus,
    options.url === undefined ? { embedded } : { url: options.url },
    modules,
  );
  await service.start();
  return {
    network,
    bus,
    metrics: service.metrics,
    client<S extends ServiceDefinition>(def: S, tenant: string, roles: readonly string[] = []): Client<S> {
      const channel = network.channel({ caller: GATEWAY_SERVICE });
      const inner = createClient(def, channel, { caller: GATEWAY_SERVICE }) as Record<string, unknown>;
      const wrapped: Record<string, unknown> = {};
      const metadata: Record<string, string> = roles.length > 0 ? { [METADATA_ROLES]: roles.join(' ') } : {};
      for (const [name, fn] of Object.entries(inner)) {
        wrapped[name] = (request: unknown, opts?: CallOptions) =>
          runWithContext(createRequestContext({ service: 'test', logger, tenant }), () =>
            (fn as (r: unknown, o?: CallOptions) => Promise<unknown>)(request, {
              ...opts,
              metadata: { ...metadata, ...opts?.metadata },
            }),
          );
      }
      return wrapped as Client<S>;
    },
    async stop() {
      await service.stop('test done');
      if (!options.embedded) await embedded?.close();
    },
  };
}

/** The kit's waits and error assertions, for the tests that use this harness. */
export { eventually, rejection } from '@refront/testing';
/** The demo's contract validator, for tests that host modules with `@refront/testing` directly. */
export { demoValidator } from '../contracts.js';
