import { isRefrontError, type Logger, type Registry, type ServiceInstance } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { createInstancePool, type InstancePoolOptions } from './InstancePool.js';
import { InstancePicks } from './InstancePoolAttempts.js';
import { createMemoryRegistry } from './MemoryRegistry.js';

const tickets = (n: number, port = 50_000 + n): ServiceInstance => ({
  id: `tickets-${n}`,
  service: 'tickets',
  address: '127.0.0.1',
  port,
  metadata: {},
});

/** A fake connection: which instance it is for, and whether the pool closed it. */
interface FakeConnection {
  readonly id: string;
  readonly hostPort: string;
  closed: boolean;
  down: boolean;
}

/** Wraps a registry, counting resolve and watch calls; with `failResolves`, the first ones throw. */
function counting(inner: Registry, failResolves = 0) {
  const calls = { resolve: 0, watch: 0 };
  const registry: Registry = {
    ...inner,
    resolve: async (s, o) => {
      calls.resolve += 1;
      if (calls.resolve <= failResolves) throw new Error('backend down');
      return inner.resolve(s, o);
    },
    watch: (s, o) => {
      calls.watch += 1;
      return inner.watch(s, o);
    },
  };
  return { registry, calls };
}

/** A pool over `registry` whose connections are {@link FakeConnection}s, all kept in `opened`. */
function fakePool(registry: Registry, options: Partial<InstancePoolOptions<FakeConnection>> = {}) {
  const opened: FakeConnection[] = [];
  const pool = createInstancePool<FakeConnection>({
    registry,
    service: 'tickets',
    connect: (instance, hostPort) => {
      const c = { id: instance.id, hostPort, closed: false, down: false };
      opened.push(c);
      return c;
    },
    close: (c) => {
      c.closed = true;
    },
    isDown: (c) => c.down,
    balancer: { strategy: 'round-robin' },
    ...options,
  });
  return { pool, opened };
}

/** A memory registry holding `instances`, and a {@link fakePool} on it that is ready; disposing closes both. */
async function readyPool(
  instances: readonly number[],
  options: Partial<InstancePoolOptions<FakeConnection>> = {},
) {
  const memory = createMemoryRegistry();
  for (const n of instances) await memory.register(tickets(n));
  const { pool, opened } = fakePool(memory, options);
  await pool.whenReady();
  return {
    memory,
    pool,
    opened,
    async [Symbol.asyncDispose]() {
      await pool.close();
      await memory.close();
    },
  };
}

/** Picks `n` times, ending each pick as a success, and returns the instance ids. */
function pickIds(
  pool: { pick(): { pick: { instance: ServiceInstance; done(ok: boolean): void } } },
  n: number,
) {
  return Array.from({ length: n }, () => {
    const { pick } = pool.pick();
    pick.done(true);
    return pick.instance.id;
  });
}

describe('createInstancePool', () => {
  it('opens one connection per instance, on first pick, and spreads picks across instances', async () => {
    await using memory = createMemoryRegistry();
    for (const n of [1, 2, 3]) await memory.register(tickets(n));
    const { pool, opened } = fakePool(memory);
    await using _ = pool;
    expect(pool.isReady).toBe(false);
    await pool.whenReady();
    expect(pool.isReady).toBe(true);
    expect(opened).toEqual([]);
    const ids = pickIds(pool, 30);
    for (const n of [1, 2, 3]) expect(ids.filter((id) => id === `tickets-${n}`)).toHaveLength(10);
    expect(opened.map((c) => c.id).sort()).toEqual(['tickets-1', 'tickets-2', 'tickets-3']);
    expect(pool.connected().sort()).toEqual(['tickets-1', 'tickets-2', 'tickets-3']);
    const picked = pool.pick();
    expect(picked.key).toBe(`tickets/127.0.0.1:${picked.pick.instance.port}`);
    expect(picked.connection.hostPort).toBe(`127.0.0.1:${picked.pick.instance.port}`);
    picked.pick.done(true);
  });

  it('closes the connection of an instance that left, and opens a new one when it comes back', async () => {
    await using f = await readyPool([1, 2]);
    pickIds(f.pool, 2);
    const first = f.opened.find((c) => c.id === 'tickets-1');
    await f.memory.deregister('tickets-1');
    await expect.poll(() => first?.closed).toBe(true);
    expect(f.pool.connected()).toEqual(['tickets-2']);
    expect(new Set(pickIds(f.pool, 4))).toEqual(new Set(['tickets-2']));
    await f.memory.register(tickets(1));
    await expect.poll(() => new Set(pickIds(f.pool, 4))).toEqual(new Set(['tickets-1', 'tickets-2']));
    const again = f.opened.filter((c) => c.id === 'tickets-1');
    expect(again).toHaveLength(2);
    expect(again[1]?.closed).toBe(false);
  });

  it('replaces the connection of an instance that moved to another port', async () => {
    await using f = await readyPool([1]);
    pickIds(f.pool, 1);
    await f.memory.deregister('tickets-1');
    await f.memory.register(tickets(1, 60_001));
    await expect.poll(() => f.opened[0]?.closed).toBe(true);
    await expect.poll(() => f.pool.pick().key).toBe('tickets/127.0.0.1:60001');
    expect(f.opened.at(-1)?.hostPort).toBe('127.0.0.1:60001');
  });

  it('resolves once for concurrent first callers and never again when the set changes (no resolve storm)', async () => {
    await using memory = createMemoryRegistry();
    await memory.register(tickets(1));
    const { registry, calls } = counting(memory);
    const { pool } = fakePool(registry);
    await using _ = pool;
    await Promise.all(Array.from({ length: 50 }, () => pool.whenReady()));
    expect(calls).toEqual({ resolve: 1, watch: 1 });
    await memory.register(tickets(2));
    await expect.poll(() => new Set(pickIds(pool, 4))).toEqual(new Set(['tickets-1', 'tickets-2']));
    await Promise.all(Array.from({ length: 50 }, () => pool.whenReady()));
    expect(calls).toEqual({ resolve: 1, watch: 1 });
  });

  it("passes the registry's error through when the first resolve fails, and resolves again on the next call", async () => {
    await using memory = createMemoryRegistry();
    await memory.register(tickets(1));
    const { registry, calls } = counting(memory, 1);
    // A watch that never yields: only a second resolve can make the pool ready.
    const { pool } = fakePool({ ...registry, watch: () => ({ async *[Symbol.asyncIterator]() {} }) });
    await using _ = pool;
    await expect(pool.whenReady()).rejects.toThrow('backend down');
    await pool.whenReady();
    expect(pickIds(pool, 1)).toEqual(['tickets-1']);
    expect(calls.resolve).toBe(2);
  });

  it('rejects whenReady with the reason of its aborted signal', async () => {
    await using memory = createMemoryRegistry();
    const never: Registry = { ...memory, resolve: () => new Promise(() => undefined) };
    const { pool } = fakePool(never);
    await using _ = pool;
    const controller = new AbortController();
    const pending = pool.whenReady(controller.signal);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('throws DISCOVERY_NO_INSTANCES when the service has no instance', async () => {
    await using f = await readyPool([]);
    expect(errorOf(() => f.pool.pick())).toMatchObject({ reason: 'DISCOVERY_NO_INSTANCES' });
  });

  it('passes over an instance whose connection is down while another one is up', async () => {
    await using f = await readyPool([1, 2]);
    pickIds(f.pool, 2);
    const one = f.opened.find((c) => c.id === 'tickets-1') as FakeConnection;
    one.down = true;
    expect(new Set(pickIds(f.pool, 6))).toEqual(new Set(['tickets-2']));
    for (const c of f.opened) c.down = true;
    expect(new Set(pickIds(f.pool, 6))).toEqual(new Set(['tickets-1', 'tickets-2']));
  });

  it('closes every connection on close(); later calls fail with CORE_CLOSED', async () => {
    await using f = await readyPool([1, 2]);
    pickIds(f.pool, 2);
    await f.pool.close();
    await f.pool.close();
    expect(f.opened.map((c) => c.closed)).toEqual([true, true]);
    expect(f.pool.connected()).toEqual([]);
    const e = errorOf(() => f.pool.pick());
    expect(isRefrontError(e) && [e.status, e.reason, e.retryable]).toEqual([
      'UNAVAILABLE',
      'CORE_CLOSED',
      false,
    ]);
    const ready = await f.pool.whenReady().catch((x: unknown) => x);
    expect(isRefrontError(ready) && ready.reason).toBe('CORE_CLOSED');
    expect(f.opened).toHaveLength(2);
  });

  it('logs a connection whose close fails and still closes the others', async () => {
    await using memory = createMemoryRegistry();
    await memory.register(tickets(1));
    await memory.register(tickets(2));
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => warnings.push(o) } as unknown as Logger;
    const closed: string[] = [];
    const pool = createInstancePool({
      registry: memory,
      service: 'tickets',
      connect: (i) => i.id,
      close: async (id) => {
        if (id === 'tickets-1') throw new Error('stuck');
        closed.push(id);
      },
      logger,
    });
    await pool.whenReady();
    pickIds(pool, 8);
    await pool.close();
    expect(closed).toEqual(['tickets-2']);
    expect(warnings).toHaveLength(1);
  });

  it('rejects an empty service name with DISCOVERY_INVALID_SERVICE', async () => {
    await using memory = createMemoryRegistry();
    expect(errorOf(() => fakePool(memory, { service: '' }))).toMatchObject({
      reason: 'DISCOVERY_INVALID_SERVICE',
    });
  });
});

describe('InstancePool.attempts', () => {
  // One failure ejects an instance, so a pick ended as a failure shows in later picks.
  const ejectOnFirstFailure = {
    balancer: { strategy: 'round-robin', outlier: { consecutiveFailures: 1 } },
  } as const;

  it("sends each retry to another instance than the previous attempt's", async () => {
    await using f = await readyPool([1, 2, 3], { balancer: { strategy: 'random', random: () => 0 } });
    const attempts = f.pool.attempts();
    const keys: string[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const key = attempts.pickTarget(attempt);
      const taken = attempts.take();
      expect(taken.key).toBe(key);
      keys.push(key);
      taken.pick.done(false);
    }
    for (let i = 1; i < keys.length; i++) expect(keys[i]).not.toBe(keys[i - 1]);
  });

  it('ends a pick no attempt took as a failure of that instance (its breaker refused)', async () => {
    await using f = await readyPool([1, 2], ejectOnFirstFailure);
    const attempts = f.pool.attempts();
    const refused = attempts.pickTarget(1);
    const e = new Error('breaker open');
    expect(() => attempts.abandon(e)).toThrow(e);
    const left = refused === 'tickets/127.0.0.1:50001' ? 'tickets-2' : 'tickets-1';
    expect(new Set(pickIds(f.pool, 4))).toEqual(new Set([left]));
  });

  it('leaves a taken pick to its attempt, and picks on take() when pickTarget was not called', async () => {
    await using f = await readyPool([1, 2], ejectOnFirstFailure);
    const attempts = f.pool.attempts();
    const taken = attempts.take();
    expect(() => attempts.abandon(new Error('attempt failed'))).toThrow('attempt failed');
    taken.pick.done(true);
    expect(new Set(pickIds(f.pool, 4))).toEqual(new Set(['tickets-1', 'tickets-2']));
  });
});

describe('InstancePicks (the per-call object a transport extends)', () => {
  const ejectOnFirstFailure = {
    balancer: { strategy: 'round-robin', outlier: { consecutiveFailures: 1 } },
  } as const;

  it("settles the attempt in flight once, and a failed instance gets no more of the call's picks", async () => {
    await using f = await readyPool([1, 2], ejectOnFirstFailure);
    const picks = new InstancePicks(f.pool);
    const first = picks.take()!;
    picks.settle(false);
    picks.settle(true); // once per attempt: a second settle has nothing in flight
    const second = picks.take()!;
    expect(second.key).not.toBe(first.key);
    picks.settle(true);
    // The first instance was ejected by its failure; the pool now picks only the other one.
    expect(new Set(pickIds(f.pool, 4))).toEqual(new Set([second.pick.instance.id]));
  });

  it('is a no-op for a call to one fixed target (no pool)', () => {
    const picks = new InstancePicks<unknown>(undefined);
    expect(picks.pickTarget()).toBeUndefined();
    expect(picks.take()).toBeUndefined();
    picks.settle(false);
    picks.abandon();
  });
});

/** What `f` throws. */
function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected a throw');
}
