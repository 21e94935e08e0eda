/**
 * The lost-reply fixture: the real tickets module on PostgreSQL (in-process), and two instances of
 * the real time-tracking module, each with a runtime of its own (database handle on the shared
 * schema, metrics, outbox, mux or gRPC server on 127.0.0.1:0) behind a relay that can cut, found
 * by the caller through a memory registry. The fault is placed by the data, not by time: the first
 * transaction that inserts a time entry, once armed, cuts its own instance's relay right after its
 * COMMIT and before the handler answers.
 */

import { type FaultProxy, startFaultProxy } from '@refront/conformance';
import {
  type Client,
  createClient,
  createLogger,
  createMetricsRegistry,
  createRequestContext,
  type Logger,
  type MetricsRegistry,
  on,
  type Registry,
  runWithContext,
  type ServiceDefinition,
} from '@refront/core';
import { createOutbox, type Outbox, openDatabase } from '@refront/data';
import { createMemoryRegistry } from '@refront/discovery';
import { createDefaultPolicy, policyInterceptor } from '@refront/resilience';
import { createGrpcServer } from '@refront/transport-grpc';
import { createMuxServer } from '@refront/transport-mux';
import { TicketsServiceDefinition } from '../src/gen/refront/tickets/v1/tickets.js';
import { TimeLogged } from '../src/gen/refront/timetracking/v1/timetracking.js';
import { schemaOf } from '../src/platform/module.js';
import { muxServiceName, openLane, type RpcLane } from '../src/platform/rpcLane.js';
import { type Harness, startHarness } from '../src/platform/testing/harness.js';
import { ticketsModule } from '../src/tickets/module.js';
import { timeTrackingModule } from '../src/timetracking/module.js';
import { type Counters, countingServer, faultyDatabase } from './instrumented.js';
import { metricSum } from './topology.js';

/** The tenant every call of the fixture acts for. */
export const TENANT = 'acme';

/** One time-tracking instance, with what landed on it. */
export interface Instance {
  readonly name: 'a' | 'b';
  readonly metrics: MetricsRegistry;
  readonly relay: FaultProxy;
  readonly outbox: Outbox;
  /** LogTime handler runs on this instance. */
  readonly runs: number;
  /** Committed transactions of this instance that inserted a time entry. */
  readonly committedInserts: number;
  /** Whether the fault cut this instance's relay (after one of its commits). */
  readonly wasCut: boolean;
  /** `refront_idempotent_replays_total` of this instance. */
  replays(): Promise<number>;
  /** `refront_outbox_published_total` of this instance. */
  published(): Promise<number>;
}

/** What a lost-reply test drives and reads. */
export interface LostReplyFixture extends AsyncDisposable {
  readonly instances: readonly [Instance, Instance];
  /** TimeLogged events the audit group received. */
  readonly logged: readonly TimeLogged[];
  /** A typed client of `definition` on the lane, through discovery, calling as the gateway for {@link TENANT}. */
  client<S extends ServiceDefinition>(definition: S): Client<S>;
  /** Creates a customer and an open ticket; resolves with the ticket id. */
  openTicket(): Promise<string>;
  /** The next transaction that inserts a time entry cuts its instance's relay after COMMIT. */
  cutAfterNextCommit(): void;
  /** The ids of the ticket's rows in time_entries, and their `count(*)`. */
  entries(ticketId: string): Promise<{ readonly count: number; readonly ids: string[] }>;
  /** Publishes what both outboxes still hold. */
  flushOutboxes(): Promise<void>;
}

/** Options of {@link startLostReplyFixture}. */
export interface LostReplyOptions {
  readonly lane: RpcLane;
  /** The PostgreSQL database every module uses (a schema each). */
  readonly url: string;
  /**
   * Hands the handler a context without its idempotency key, as a LogTime that stores nothing
   * would behave: the control that shows the row count sees a duplicate. @default false
   */
  readonly stripIdempotencyKeys?: boolean;
}

/** What the two instances share. */
interface Shared {
  readonly lane: RpcLane;
  readonly url: string;
  readonly strip: boolean;
  readonly logger: Logger;
  readonly harness: Harness;
  readonly registry: Registry;
  /** Whether the next committed time entry cuts its instance's relay. */
  readonly fault: { armed: boolean };
  /** Teardown, run in reverse. */
  readonly closers: (() => Promise<void> | void)[];
}

/** One time-tracking instance wired as runDistributed does, behind its relay, registered. */
async function startInstance(name: 'a' | 'b', shared: Shared): Promise<Instance> {
  const { lane, harness } = shared;
  const module = timeTrackingModule;
  const counters: Counters = { runs: 0, committedInserts: 0, wasCut: false };
  const logger = shared.logger.child({ instance: name });
  const metrics = createMetricsRegistry({ processMetrics: false });
  let relay: FaultProxy | undefined;
  const raw = await openDatabase({
    schema: schemaOf(module.name),
    url: shared.url,
    migrations: module.migrations,
    logger,
    metrics,
  });
  const db = faultyDatabase(raw, 'time_entries', counters, async () => {
    if (!shared.fault.armed) return;
    shared.fault.armed = false;
    counters.wasCut = true;
    await relay?.cut();
  });
  const publisher = harness.bus.as(module.name);
  const outbox = createOutbox({ db, source: module.name, publisher, logger, metrics });
  const serverOptions = { service: module.name, logger, metrics, host: '127.0.0.1', port: 0 };
  const server = lane === 'mux' ? createMuxServer(serverOptions) : createGrpcServer(serverOptions);
  const policy = createDefaultPolicy({ metrics, logger, name: module.name });
  const channel = harness.network.channel({ caller: module.name });
  const cleanups: (() => Promise<void> | void)[] = [() => policy.close()];
  shared.closers.push(async () => {
    await relay?.cut();
    await server.close();
    await outbox.close();
    for (const fn of cleanups.reverse()) await fn();
    await db.close();
  });
  await module.register({
    name: module.name,
    logger,
    metrics,
    server: countingServer(server, 'logTime', counters, shared.strip),
    channel,
    client: (definition) =>
      createClient(definition, channel, {
        caller: module.name,
        metrics,
        interceptors: [policyInterceptor(policy)],
      }),
    bus: publisher,
    db,
    outbox,
    onClose: (fn) => cleanups.push(fn),
  });
  await server.start();
  outbox.start();
  relay = await startFaultProxy(`127.0.0.1:${server.port}`);
  await shared.registry.register(
    {
      id: `time-tracking-${name}`,
      service: lane === 'mux' ? muxServiceName(module.name) : module.name,
      address: '127.0.0.1',
      port: relay.port,
      metadata: { protocol: lane },
    },
    { check: { kind: 'ttl', ttlMs: 600_000 } },
  );
  return {
    name,
    metrics,
    relay,
    outbox,
    get runs() {
      return counters.runs;
    },
    get committedInserts() {
      return counters.committedInserts;
    },
    get wasCut() {
      return counters.wasCut;
    },
    replays: async () => metricSum(await metrics.metrics(), 'refront_idempotent_replays_total'),
    published: async () => metricSum(await metrics.metrics(), 'refront_outbox_published_total'),
  };
}

/** `inner`, each call made in a request context for {@link TENANT}, as the gateway makes them. */
function asGateway<S extends ServiceDefinition>(inner: Client<S>, logger: Logger): Client<S> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(inner as Record<string, unknown>)) {
    wrapped[name] = (request: unknown, opts?: unknown) =>
      runWithContext(createRequestContext({ service: 'gateway', logger, tenant: TENANT }), () =>
        (fn as (r: unknown, o?: unknown) => Promise<unknown>)(request, opts),
      );
  }
  return wrapped as Client<S>;
}

/**
 * Starts tickets (in-process, on `url`), two time-tracking instances behind relays, and a caller
 * on `lane` that finds them through a memory registry, behind the lane's default policy.
 *
 * @throws whatever starting a module, a server or a relay throws (what started is closed first).
 * @example
 * await using f = await startLostReplyFixture({ lane: 'mux', url });
 * f.cutAfterNextCommit();
 * const { entry } = await f.client(TimeTrackingServiceDefinition).logTime(request);
 */
export async function startLostReplyFixture(options: LostReplyOptions): Promise<LostReplyFixture> {
  const { lane, url } = options;
  const logger = createLogger({ service: 'lost-reply', level: process.env.LOG_LEVEL ?? 'silent' });
  const harness = await startHarness([ticketsModule], { url });
  const registry = createMemoryRegistry();
  const closers: (() => Promise<void> | void)[] = [
    () => harness.stop(),
    async () => {
      await registry[Symbol.asyncDispose]();
    },
  ];
  const close = async (): Promise<void> => {
    for (const fn of closers.reverse()) await fn();
  };
  const fault = { armed: false };
  try {
    const logged: TimeLogged[] = [];
    await harness.bus.as('audit').subscribe('audit', [on(TimeLogged, async (e) => void logged.push(e))]);
    const shared: Shared = {
      lane,
      url,
      strip: options.stripIdempotencyKeys ?? false,
      logger,
      harness,
      registry,
      fault,
      closers,
    };
    const a = await startInstance('a', shared);
    const b = await startInstance('b', shared);
    const callerMetrics = createMetricsRegistry({ processMetrics: false });
    const channel = openLane(lane, registry, timeTrackingModule.name, { metrics: callerMetrics, logger });
    closers.push(() => channel.close());
    const probe = await openDatabase({ schema: schemaOf(timeTrackingModule.name), url, poolSize: 1 });
    closers.push(() => probe.close());
    return {
      instances: [a, b],
      logged,
      client: (definition) =>
        asGateway(createClient(definition, channel, { caller: 'gateway', metrics: callerMetrics }), logger),
      async openTicket() {
        const tickets = harness.client(TicketsServiceDefinition, TENANT);
        const { customer } = await tickets.createCustomer({
          name: 'C',
          hourlyRateMinor: 6_000,
          currency: 'EUR',
        });
        const { ticket } = await tickets.createTicket({ customerId: customer?.id ?? '', title: 'T' });
        return ticket?.id ?? '';
      },
      cutAfterNextCommit() {
        fault.armed = true;
      },
      async entries(ticketId) {
        const { rows } = await probe.query<{ count: number; ids: string[] | null }>(
          'select count(*)::int as count, array_agg(id) as ids from time_entries where tenant_id = $1 and ticket_id = $2',
          [TENANT, ticketId],
        );
        return { count: rows[0]?.count ?? 0, ids: rows[0]?.ids ?? [] };
      },
      async flushOutboxes() {
        await a.outbox.flush();
        await b.outbox.flush();
      },
      [Symbol.asyncDispose]: close,
    };
  } catch (e: unknown) {
    await close();
    throw e;
  }
}
