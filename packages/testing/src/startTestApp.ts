import { randomBytes } from 'node:crypto';
import {
  type Client,
  createInProcessNetwork,
  createLogger,
  createService,
  type EventBus,
  type MessageValidator,
  type ServiceDefinition,
} from '@refront/core';
import { infraUrl } from '@refront/core/transport';
import {
  type Database,
  type EmbeddedPostgres,
  hostModule,
  openDatabase,
  type ServiceModule,
} from '@refront/data';
import { createDefaultPolicy, type DefaultPolicyOptions, policyInterceptor } from '@refront/resilience';
import { type DeadLetterCapture, DeadLetterRecorder } from './DeadLetterCapture.js';
import { type EventCapture, EventRecorder } from './EventCapture.js';
import { TestingErrors } from './errors.js';
import { eventually } from './eventually.js';
import type { Faults } from './Faults.js';
import { type EventLane, inProcessLane, rabbitmqLane } from './internal/eventLanes.js';
import { FaultTable } from './internal/FaultTable.js';
import { faultyBus } from './internal/faultyBus.js';
import { faultyChannel } from './internal/faultyChannel.js';
import {
  type AppDatabase,
  type BrokerChoice,
  type DatabaseChoice,
  embeddedDatabase,
  postgresDatabase,
  useReal,
} from './internal/infra.js';
import { realSleep } from './internal/realTimers.js';
import { TEST_CALLER, type TestClientOptions, testClient } from './internal/testClient.js';
import { acquireTracing } from './internal/tracing.js';
import { type MetricsReader, metricsReader } from './MetricsReader.js';
import { type SpanCapture, spanCapture } from './SpanCapture.js';
import { type ClockInstallOptions, createTestClock, type TestClock } from './TestClock.js';

export type { BrokerChoice, DatabaseChoice, TestClientOptions };
export { TEST_CALLER };

/** Options of {@link startTestApp}. */
export interface TestAppOptions {
  /** The service modules to run, registered in this order, each with its own schema. */
  readonly modules: readonly ServiceModule[];
  /**
   * Where the modules' databases live: `pglite` (in memory), `postgres` (a fresh database on the
   * server, dropped at close; fails when it does not answer), or `auto` (PostgreSQL when it
   * answers, PGlite otherwise; with `REFRONT_REQUIRE_INFRA=1` a server that does not answer fails
   * the start). @default 'pglite'
   */
  readonly database?: DatabaseChoice;
  /**
   * The event bus: `in-process` (core's), `rabbitmq` (one bus per module on a namespace of the
   * app's own, deleted at close; fails when the broker does not answer), or `auto` (as for
   * `database`). @default 'in-process'
   */
  readonly broker?: BrokerChoice;
  /** An embedded PostgreSQL to share between apps (PGlite takes seconds to open); left open at close. @default a fresh one */
  readonly embedded?: EmbeddedPostgres;
  /** The PostgreSQL server for `postgres` and `auto`. @default REFRONT_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres */
  readonly postgresUrl?: string;
  /** The RabbitMQ broker for `rabbitmq` and `auto`. @default REFRONT_TEST_AMQP_URL, else amqp://guest:guest@127.0.0.1:5672 */
  readonly amqpUrl?: string;
  /** Checks requests (and, unless `validateEvents` is false, events) against their contracts' rules, as the hosts do. @default none */
  readonly validator?: MessageValidator;
  /** Whether `validator` checks events too. @default true */
  readonly validateEvents?: boolean;
  /** The resilience policy of the modules' clients (timeouts, retries, breakers). @default the default policy */
  readonly policy?: DefaultPolicyOptions;
  /** Records finished spans in {@link TestApp.spans} (registers the process's tracer provider). @default true */
  readonly tracing?: boolean;
  /** Installs the test clock once the modules have started (see {@link TestClock}). @default false */
  readonly clock?: boolean | ClockInstallOptions;
  /** Log level of the modules' logger. @default LOG_LEVEL, else 'silent' */
  readonly logLevel?: string;
  /** The environment read for the defaults above. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Service modules running in-process for one test, with everything to drive and observe them.
 * Close it with `close()` or `await using`.
 */
export interface TestApp extends AsyncDisposable {
  /** The database the modules got. */
  readonly database: 'pglite' | 'postgres';
  /** The event bus the modules share. */
  readonly broker: 'in-process' | 'rabbitmq';
  /**
   * A typed client of a module's service, calling through the app's network (call faults apply)
   * as {@link TEST_CALLER}, which every module accepts, or as `options.caller`, checked against
   * the module's declared `callers` as a module's own calls are.
   */
  client<S extends ServiceDefinition>(definition: S, options?: TestClientOptions): Client<S>;
  /** The bus as `service` publishes (what it publishes is captured; event faults apply). */
  bus(service: string): EventBus;
  /** Every event published. */
  readonly events: EventCapture;
  /** Every event a consumer group gave up on, with why. */
  readonly deadLetters: DeadLetterCapture;
  /** Finished spans. */
  readonly spans: SpanCapture;
  /** The modules' metrics. */
  readonly metrics: MetricsReader;
  /** Fault injection on the app's lanes. */
  readonly faults: Faults;
  /** The clock the test moves. */
  readonly clock: TestClock;
  /**
   * The database of module `service` (its own schema), to count the rows its handlers wrote.
   * @throws RefrontError FAILED_PRECONDITION `TESTING_INVALID_STATE` for a module the app does not run.
   */
  db(service: string): Database;
  /**
   * Waits until no consumer group has an event queued or in a handler, three looks in a row
   * 50 ms apart (real time). An event waiting for a retry delay is not counted.
   */
  settled(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Stops the modules (drained, in reverse order), the bus, the clock and the databases. Idempotent. */
  close(): Promise<void>;
}

function schemaOf(service: string): string {
  return service.replaceAll('-', '_');
}

async function openAppDatabase(o: TestAppOptions, env: TestAppOptions['env'] & object): Promise<AppDatabase> {
  const choice = o.database ?? 'pglite';
  const url = o.postgresUrl ?? infraUrl('postgres', env);
  if (choice === 'pglite') return embeddedDatabase(o.embedded);
  const real = await useReal(choice === 'auto' ? 'auto' : 'explicit', 'postgres', url, env);
  return real ? postgresDatabase(url) : embeddedDatabase(o.embedded);
}

async function brokerUrl(
  o: TestAppOptions,
  env: TestAppOptions['env'] & object,
): Promise<string | undefined> {
  const choice = o.broker ?? 'in-process';
  if (choice === 'in-process') return undefined;
  const url = o.amqpUrl ?? infraUrl('rabbitmq', env);
  const real = await useReal(choice === 'auto' ? 'auto' : 'explicit', 'rabbitmq', url, env);
  return real ? url : undefined;
}

/**
 * Starts `modules` in this process for a test, as the monolith host runs them: each on its own
 * schema (migrated), its outbox relayed to the bus, its server on the in-process network, its
 * clients under the default resilience policy. Each module's server accepts only the callers it
 * declares, and {@link TEST_CALLER}: a module calling another that does not declare it fails
 * PERMISSION_DENIED in the test, as it would once deployed. Events, dead letters, spans and
 * metrics are recorded; faults and the clock are the test's to set.
 *
 * @throws RefrontError FAILED_PRECONDITION `TESTING_INFRA_MISSING` when a server asked for by name does not
 *   answer, `CORE_INFRA_MISSING` when an `auto` one does not and REFRONT_REQUIRE_INFRA=1;
 *   whatever a module's migrations or `register` throw (everything opened so far is closed).
 * @example
 * await using app = await startTestApp({ modules: [ticketsModule, timeTrackingModule] });
 * const time = app.client(TimeTrackingServiceDefinition, { tenant: 'acme' });
 * const { entry } = await time.logTime({ ticketId, minutes: 90, workDate: '2026-11-02' });
 * const logged = await app.events.waitFor(TimeLogged, (e) => e.entryId === entry?.id);
 */
export async function startTestApp(options: TestAppOptions): Promise<TestApp> {
  const env = options.env ?? process.env;
  const logger = createLogger({ service: 'test', level: options.logLevel ?? env.LOG_LEVEL ?? 'silent' });
  const service = createService({ name: 'test', version: '0', logger, opsPort: false, handleSignals: false });
  const events = new EventRecorder();
  const deadLetters = new DeadLetterRecorder();
  const faults = new FaultTable();
  const clock = createTestClock();
  const amqpUrl = await brokerUrl(options, env);
  const database = await openAppDatabase(options, env);
  const tracing = options.tracing === false ? undefined : await acquireTracing();
  const spans = spanCapture(tracing?.exporter);
  const laneOptions = {
    logger,
    metrics: service.metrics,
    validator: options.validateEvents === false ? undefined : options.validator,
    onDeadLetter: deadLetters.record,
  };
  const lane: EventLane = amqpUrl
    ? await rabbitmqLane({ ...laneOptions, url: amqpUrl, namespace: `rt${randomBytes(5).toString('hex')}` })
    : inProcessLane(laneOptions);
  const network = createInProcessNetwork();
  const databases = new Map<string, Database>();
  const teardown = async (): Promise<void> => {
    clock.uninstall();
    await service.stop('test done');
    await tracing?.release();
    await database.close();
  };
  try {
    service.use({ name: 'event-bus', close: () => lane.close() });
    for (const m of options.modules) {
      const moduleLogger = createLogger({ service: m.name, host: logger });
      const db = await openDatabase({
        schema: schemaOf(m.name),
        url: database.url,
        embedded: database.embedded,
        migrations: m.migrations,
        logger: moduleLogger,
        metrics: service.metrics,
      });
      databases.set(m.name, db);
      const policy = createDefaultPolicy({
        metrics: service.metrics,
        logger: moduleLogger,
        name: m.name,
        ...options.policy,
      });
      const hosted = await hostModule(m, {
        logger: moduleLogger,
        metrics: service.metrics,
        db,
        server: network.createServer({
          service: m.name,
          logger: moduleLogger,
          metrics: service.metrics,
          validator: options.validator,
          auth: { callers: { ...m.callers, [TEST_CALLER]: '*' } },
        }),
        channel: faultyChannel(network.channel({ caller: m.name }), m.name, faults),
        bus: faultyBus(await lane.busFor(m.name), m.name, faults, events),
        clientInterceptors: [policyInterceptor(policy)],
      }).catch(async (e: unknown) => {
        await policy.close();
        await db.close();
        throw e;
      });
      service.use({
        ...hosted,
        close: async () => {
          await hosted.close();
          await policy.close();
          await db.close();
        },
      });
    }
    await service.start();
  } catch (e: unknown) {
    await teardown().catch(() => undefined);
    throw e;
  }
  if (options.clock) clock.install(options.clock === true ? {} : options.clock);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= teardown();
    return closing;
  };
  return {
    database: database.kind,
    broker: lane.kind,
    client: (definition, clientOptions = {}) => {
      const caller = clientOptions.caller ?? TEST_CALLER;
      return testClient(
        definition,
        faultyChannel(network.channel({ caller }), caller, faults),
        logger,
        service.metrics,
        clientOptions,
      );
    },
    bus: (source) => lazyBus(lane.busFor(source).then((b) => faultyBus(b, source, faults, events))),
    events,
    deadLetters,
    spans,
    metrics: metricsReader(service.metrics),
    faults,
    clock,
    db(name) {
      const db = databases.get(name);
      if (!db) throw TestingErrors.INVALID_STATE(`no module named ${JSON.stringify(name)} runs in this app`);
      return db;
    },
    async settled(settleOptions = {}) {
      let quiet = 0;
      await eventually(
        async () => {
          const counts = await Promise.all(lane.groups().map((g) => lane.pending(g)));
          quiet = counts.every((n) => n === 0) ? quiet + 1 : 0;
          if (quiet < 3) await realSleep(50);
          return quiet >= 3 ? true : undefined;
        },
        { timeoutMs: settleOptions.timeoutMs ?? 10_000, intervalMs: 0 },
      );
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A bus whose methods wait for `ready` (a RabbitMQ bus connects first). */
function lazyBus(ready: Promise<EventBus>): EventBus {
  ready.catch(() => undefined);
  return {
    publish: async (t, e, o) => (await ready).publish(t, e, o),
    publishRaw: async (e, b, o) => (await ready).publishRaw(e, b, o),
    send: async (g, t, m, o) => (await ready).send(g, t, m, o),
    subscribe: async (g, b, o) => (await ready).subscribe(g, b, o),
    close: () => Promise.resolve(),
  };
}
