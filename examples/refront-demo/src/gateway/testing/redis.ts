/**
 * Redis for the gateway's shared-limit tests: the machine's server (127.0.0.1:6379, or
 * REDIS_URL), a key prefix per run, and a private redis-server the test can freeze or kill.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { refusingAddress } from '@refront/conformance';
import { Redis } from 'ioredis';

/** The Redis the tests share (keys under a prefix per run). */
export const REDIS_TEST_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether Redis answers PING. When it does not: with REFRONT_REQUIRE_INFRA=1 (CI) this throws;
 * otherwise it prints how to start it and the suite skips.
 */
export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(REDIS_TEST_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (e: unknown) {
    const hint = `Redis is not reachable at ${REDIS_TEST_URL} (${String(e)}): start it with \`redis-server --daemonize yes\``;
    if (process.env.REFRONT_REQUIRE_INFRA === '1') throw new Error(`${hint} (REFRONT_REQUIRE_INFRA=1)`);
    console.warn(`skipping: ${hint}`);
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A key prefix of its own, whose keys are deleted on dispose. */
export interface RedisPrefix extends AsyncDisposable {
  readonly prefix: string;
  /** The keys under the prefix now, sorted. */
  keys(): Promise<string[]>;
}

/** A fresh prefix (`refront-test:<random>:`) on {@link REDIS_TEST_URL}. */
export async function redisPrefix(): Promise<RedisPrefix> {
  const prefix = `refront-test:${randomBytes(6).toString('hex')}:`;
  const admin = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: 1 });
  const keys = async (): Promise<string[]> => (await admin.keys(`${prefix}*`)).sort();
  return {
    prefix,
    keys,
    async [Symbol.asyncDispose]() {
      const left = await keys();
      if (left.length > 0) await admin.del(...left);
      await admin.quit();
    },
  };
}

/** A redis-server of the test's own, to freeze (SIGSTOP: connected but silent) and thaw. */
export interface OwnRedis extends AsyncDisposable {
  readonly url: string;
  freeze(): void;
  thaw(): void;
}

/** Starts `redis-server` on a free port without persistence and waits until it answers. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = Number((await refusingAddress()).split(':')[1]);
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  // The default client queues the PING until the server accepts, retrying the connection.
  const probe = new Redis(url);
  probe.on('error', () => {});
  try {
    await probe.ping();
  } finally {
    probe.disconnect();
  }
  return {
    url,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    async [Symbol.asyncDispose]() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
