import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createLogger } from '@refront/core';
import { findInfra, infraUrl } from '@refront/core/transport';
import { connect } from 'amqplib';
import { createAmqpEventBus } from '../AmqpEventBus.js';
import type { AmqpEventBusOptions } from '../options.js';

/** Test helpers (not exported from the package). */
export const AMQP_URL: string = infraUrl('rabbitmq');
export const PG_URL: string = infraUrl('postgres');
export const logger = createLogger({ service: 'amqp-test', level: 'silent' });

/**
 * Whether the infrastructure a suite needs is up (core's one probe, `findInfra`). When it is not:
 * with REFRONT_REQUIRE_INFRA=1 (CI) this throws; otherwise it prints how to start it and the suite skips.
 */
export async function infraAvailable(what: 'rabbitmq' | 'postgres'): Promise<boolean> {
  return (await findInfra(what)) !== undefined;
}

/** A random name suffix, so parallel runs never share a queue or exchange. */
export function suffix(): string {
  return randomBytes(4).toString('hex');
}

/**
 * A bus on a private namespace, deleting everything it declared when disposed. A second bus on
 * the namespace of another (`namespace` given) is only closed when disposed: the first one deletes
 * the namespace once it is closed itself, so no running bus declares its queues again meanwhile.
 */
export function testBus(options: Partial<AmqpEventBusOptions> = {}) {
  const namespace = options.namespace ?? `t${suffix()}`;
  const owner = options.namespace === undefined;
  const bus = createAmqpEventBus({ url: AMQP_URL, service: 'amqp-test', logger, namespace, ...options });
  return Object.assign(bus, {
    async [Symbol.asyncDispose]() {
      await bus.close({ signal: AbortSignal.timeout(5_000) });
      if (owner) await deleteNamespace(namespace);
    },
  });
}

const run = promisify(execFile);

/** Deletes every queue and exchange under `namespace` (test cleanup); lists again until none is left. */
export async function deleteNamespace(namespace: string): Promise<void> {
  const mine = (out: string) =>
    out
      .split('\n')
      .map((l) => l.trim())
      .filter((n) => n.startsWith(`${namespace}.`));
  const conn = await connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    for (let round = 0; round < 5; round++) {
      // Each rabbitmqctl call starts an Erlang VM (seconds on a loaded machine): both at once.
      const [q, x] = await Promise.all([
        run('rabbitmqctl', ['-q', 'list_queues', 'name']),
        run('rabbitmqctl', ['-q', 'list_exchanges', 'name']),
      ]);
      const queues = mine(q.stdout);
      const exchanges = mine(x.stdout);
      if (queues.length === 0 && exchanges.length === 0) return;
      for (const q of queues) await ch.deleteQueue(q);
      for (const x of exchanges) await ch.deleteExchange(x);
    }
  } finally {
    await conn.close();
  }
}

/** Force-closes this bus's broker connection, as an operator or a network fault would. */
export async function killConnection(connectionName: string, waitMs = 10_000): Promise<boolean> {
  // The connection may still be reconnecting after an earlier kill: wait for it to come back.
  const end = Date.now() + waitMs;
  for (;;) {
    const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
    const line = stdout.split('\n').find((l) => l.includes(`"${connectionName}"`));
    const pid = line?.split('\t')[0]?.trim();
    if (pid) {
      await run('rabbitmqctl', ['-q', 'close_connection', pid, 'refront chaos test']);
      return true;
    }
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until `predicate` holds, or fails after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
