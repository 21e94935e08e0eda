/**
 * Fixtures of the distributed system tests, acquired with `await using` so that what a test
 * disturbs is put back even when one of its assertions fails: a process it stopped is started
 * again and ready before the next test runs, and load it started is stopped.
 */
import { type Database, openDatabase } from '@refront/data';
import {
  type Exit,
  type LocalProcess,
  LocalTopology,
  type LocalTopologyOptions,
} from '../src/platform/localTopology.js';
import { schemaOf } from '../src/platform/module.js';
import { topologyPorts } from './ports.js';
import { AMQP_URL, isolatedInfrastructure, until } from './topology.js';

/** A condition the topology must meet again after a process came back (a path through it works). */
export interface Restored {
  readonly what: string;
  readonly check: () => Promise<boolean>;
  readonly timeoutMs: number;
}

/** A process a test stopped; disposing it starts it again (if the test did not) and waits. */
export interface OutOfService extends AsyncDisposable {
  /** How the process ended. */
  readonly exit: Exit;
}

/**
 * Stops `p` with `signal` (SIGKILL: no drain) and returns a handle whose disposal starts it again
 * when it is not running, waits until it is ready, then until `restored` holds (what the process's
 * callers need: a reconnect, a breaker closing), so the next test finds the topology whole.
 *
 * @throws Error from disposal when the process does not become ready or `restored` never holds.
 * @example
 * await using down = await takeDown(topology, topology.one('tickets'), 'SIGKILL');
 */
export async function takeDown(
  topology: LocalTopology,
  p: LocalProcess,
  signal: NodeJS.Signals,
  restored?: Restored,
): Promise<OutOfService> {
  const exit = await topology.stop(p, signal);
  return {
    exit,
    async [Symbol.asyncDispose]() {
      if (!p.running) {
        topology.start(p);
        await topology.waitReady(p);
      }
      if (restored) await until(restored.what, restored.check, restored.timeoutMs);
    },
  };
}

/**
 * A handle whose disposal starts every process of `processes` that is not running and waits
 * until all are ready (for tests that stop and start several in turn).
 *
 * @example
 * await using _ = keepRunning(topology, topology.of('invoicing'));
 */
export function keepRunning(topology: LocalTopology, processes: readonly LocalProcess[]): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      const down = processes.filter((p) => !p.running);
      for (const p of down) topology.start(p);
      await Promise.all(down.map((p) => topology.waitReady(p)));
    },
  };
}

/** Workers calling in a loop until stopped. */
export interface BackgroundLoad extends AsyncDisposable {
  /** Resolves when every worker is done on its own; rejects with a worker's error. */
  readonly finished: Promise<void>;
  /** Stops the workers after their current call and waits for them; rethrows a worker's error. */
  stop(): Promise<void>;
}

/**
 * Starts `workers` loops, each calling `step(worker, i)` with i = 0, 1, … until stopped or until
 * its step returns `false`. Disposing it stops them, so no call of a failed test overlaps the
 * next test.
 *
 * @example
 * await using load = backgroundLoad(4, async (w, i) => void (await s.logTime(ticket, 1, day)));
 * await load.stop();
 */
export function backgroundLoad(
  workers: number,
  step: (worker: number, i: number) => Promise<boolean | undefined>,
): BackgroundLoad {
  let stopped = false;
  const finished = Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; !stopped; i++) if ((await step(w, i)) === false) return;
    }),
  ).then(() => {});
  finished.catch(() => {}); // observed through stop() or finished
  const stop = async () => {
    stopped = true;
    await finished;
  };
  return { finished, stop, [Symbol.asyncDispose]: () => stop().catch(() => {}) };
}

/** A topology of every service as its own process, on its own database, namespace and ports. */
export interface SystemUnderTest extends AsyncDisposable {
  readonly topology: LocalTopology;
  /** A handle on `service`'s own schema, to read its state from outside. */
  db(service: string): Promise<Database>;
  /** The `n` column of the first row of `sql` in `service`'s schema (0 without rows). */
  count(service: string, sql: string, params: unknown[]): Promise<number>;
}

/**
 * Starts the platform as one process per service instance (plus the gateway) on a fresh database
 * and AMQP namespace and a free block of ports. Disposing it closes its database handles, SIGTERMs
 * every process, and drops the database and namespace.
 *
 * @throws Error when a process does not become ready.
 * @example
 * await using system = await startSystem('refront_promises_mux', { instances: { invoicing: 3 } });
 */
export async function startSystem(
  prefix: string,
  options: Omit<LocalTopologyOptions, 'databaseUrl' | 'amqpUrl' | 'namespace'>,
): Promise<SystemUnderTest> {
  const infra = await isolatedInfrastructure(prefix);
  const { length } = new LocalTopology({ ...options, databaseUrl: '', amqpUrl: '' }).processes;
  const topology = new LocalTopology({
    ...(await topologyPorts(length)),
    ...options,
    databaseUrl: infra.databaseUrl,
    amqpUrl: AMQP_URL,
    namespace: infra.namespace,
  });
  const dbs = new Map<string, Database>();
  const db = async (service: string) => {
    let d = dbs.get(service);
    if (!d) {
      d = await openDatabase({ schema: schemaOf(service), url: infra.databaseUrl, poolSize: 2 });
      dbs.set(service, d);
    }
    return d;
  };
  const dispose = async () => {
    try {
      for (const d of dbs.values()) await d.close();
      await topology.stopAll();
    } finally {
      await infra[Symbol.asyncDispose]();
    }
  };
  try {
    await topology.startAll();
  } catch (e: unknown) {
    await dispose();
    throw e;
  }
  return {
    topology,
    db,
    async count(service, sql, params) {
      const { rows } = await (await db(service)).query<{ n: number }>(sql, params);
      return rows[0]?.n ?? 0;
    },
    [Symbol.asyncDispose]: dispose,
  };
}
