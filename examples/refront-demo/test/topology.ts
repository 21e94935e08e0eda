/**
 * Helpers of the distributed system tests: infrastructure checks, a fresh database and namespace
 * per topology, bounded-concurrency load, and sums over the Prometheus text a process serves.
 */
import { readdirSync } from 'node:fs';
import { DEFAULT_RETRY_DELAYS_MS, findInfra } from '@refront/core/transport';
import { openDatabase } from '@refront/data';
import { deleteBrokerUser } from '@refront/transport-amqp';
import { connect } from 'amqplib';
import { brokerUserOf } from '../src/platform/brokerUsers.js';
import { PLATFORM_MODULES } from '../src/platform/services.js';

/** PostgreSQL and RabbitMQ as the tests expect them on this machine. */
export const DATABASE_SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Whether PostgreSQL and RabbitMQ answer (core's one probe, `findInfra`). Without them the caller
 * skips with a message saying what to start, unless `REFRONT_REQUIRE_INFRA=1`: then this throws
 * and the run fails.
 */
export async function infrastructure(what: string): Promise<boolean> {
  const up =
    (await findInfra('postgres', process.env, { url: DATABASE_SERVER_URL })) !== undefined &&
    (await findInfra('rabbitmq', process.env, { url: AMQP_URL })) !== undefined;
  if (!up) console.warn(`[refront-demo] skipping ${what}`);
  return up;
}

/**
 * A fresh database named `name` on the local server (dropped first if a run left one), and no
 * queue of `namespace` left from an earlier run. Returns the new database's URL.
 */
export async function freshInfrastructure(name: string, namespace: string): Promise<string> {
  const admin = await openDatabase({ schema: 'refront_test_admin', url: DATABASE_SERVER_URL, poolSize: 1 });
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.close();
  }
  const conn = await connect(AMQP_URL);
  conn.on('error', () => {});
  try {
    for (const m of PLATFORM_MODULES) {
      for (const q of [`${namespace}.${m.name}`, `${namespace}.${m.name}.dlq`]) {
        const ch = await conn.createChannel();
        ch.on('error', () => {});
        await ch.deleteQueue(q).catch(() => {});
        await ch.close().catch(() => {});
      }
    }
  } finally {
    await conn.close().catch(() => {});
  }
  const url = new URL(DATABASE_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A database and a queue namespace of one test run, dropped and deleted on dispose. */
export interface TestInfrastructure extends AsyncDisposable {
  /** URL of the run's own database on the local server. */
  readonly databaseUrl: string;
  /** The run's own AMQP namespace (`AMQP_NAMESPACE`). */
  readonly namespace: string;
}

/**
 * A new database and AMQP namespace named after `prefix` and this run, so concurrent runs (and
 * what an earlier run left) never share a table, a queue or an exchange with this one. Disposing
 * it drops the database and deletes the namespace's queues and exchanges; stop the processes
 * using them first.
 *
 * @example
 * await using infra = await isolatedInfrastructure('refront_promises_mux');
 */
export async function isolatedInfrastructure(prefix: string): Promise<TestInfrastructure> {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const name = `${prefix}_${run}`.toLowerCase().replaceAll(/[^a-z0-9_]/g, '_');
  const namespace = name.replaceAll('_', '-');
  await adminQuery(`create database ${name}`);
  const url = new URL(DATABASE_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    namespace,
    async [Symbol.asyncDispose]() {
      await adminQuery(`drop database if exists ${name} with (force)`);
      await deleteNamespace(namespace);
      // A topology whose parent was killed never ran its stopAll: its broker users stay behind.
      await Promise.all(
        [...PLATFORM_MODULES.map((m) => m.name), 'console'].map((s) =>
          deleteBrokerUser(brokerUserOf(s, `${namespace}.`)),
        ),
      );
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const admin = await openDatabase({ schema: 'refront_test_admin', url: DATABASE_SERVER_URL, poolSize: 1 });
  try {
    await admin.query(sql);
  } finally {
    await admin.close();
  }
}

/**
 * Deletes what the platform declares under `namespace`: each group's queue, DLQ and retry queues,
 * the unrouted queues and exchange, and one domain exchange per protobuf package of the demo.
 * Names that were never declared are skipped.
 */
async function deleteNamespace(namespace: string): Promise<void> {
  const queues = [`${namespace}.unrouted`, `${namespace}.unrouted.notices`];
  for (const m of PLATFORM_MODULES)
    queues.push(
      `${namespace}.${m.name}`,
      `${namespace}.${m.name}.dlq`,
      ...DEFAULT_RETRY_DELAYS_MS.map((d) => `${namespace}.${m.name}.retry.${d}ms`),
    );
  const exchanges = [`${namespace}.unrouted`];
  const gen = new URL('../src/gen/refront/', import.meta.url);
  for (const domain of readdirSync(gen))
    for (const version of readdirSync(new URL(`${domain}/`, gen)))
      exchanges.push(`${namespace}.refront.${domain}.${version}`);
  const conn = await connect(AMQP_URL);
  conn.on('error', () => {});
  try {
    // A name that does not exist closes its channel: one channel per name.
    for (const [kind, name] of [
      ...queues.map((q) => ['queue', q] as const),
      ...exchanges.map((e) => ['exchange', e] as const),
    ]) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await (kind === 'queue' ? ch.deleteQueue(name) : ch.deleteExchange(name)).catch(() => {});
      await ch.close().catch(() => {});
    }
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` at a time; results in order. */
export async function inParallel<T>(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await fn(i);
    }),
  );
  return out;
}

/**
 * The sum of every sample of `name` whose labels include `labels`, in Prometheus text format
 * (`refront_rpc_server_duration_seconds_count{rpc_method="CloseBillingPeriod",status="OK"} 12`).
 */
export function metricSum(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const pair of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      have.set(pair[1] as string, pair[2] as string);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** The median of `xs` (0 when empty). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Polls `check` until it returns true; throws with `what` when `timeoutMs` passes first. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
