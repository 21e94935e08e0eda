import { isRefrontError, type Registry, type ServiceInstance } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { createMemoryRegistry } from './MemoryRegistry.js';
import { createResolver } from './Resolver.js';

const tickets = (n: number): ServiceInstance => ({
  id: `tickets-${n}`,
  service: 'tickets',
  address: '127.0.0.1',
  port: 50_000 + n,
  metadata: {},
});

/** Wraps a registry, counting resolve and watch calls. */
function counting(inner: Registry) {
  const calls = { resolve: 0, watch: 0 };
  const registry: Registry = {
    register: (i, o) => inner.register(i, o),
    deregister: (id, o) => inner.deregister(id, o),
    resolve: (s, o) => {
      calls.resolve += 1;
      return inner.resolve(s, o);
    },
    watch: (s, o) => {
      calls.watch += 1;
      return inner.watch(s, o);
    },
    close: () => inner.close(),
  };
  return { registry, calls };
}

describe('createResolver', () => {
  it('resolves once for concurrent first picks and then follows one shared watch', async () => {
    await using memory = createMemoryRegistry();
    await memory.register(tickets(1));
    const { registry, calls } = counting(memory);
    await using resolver = createResolver(registry, { balancer: { strategy: 'round-robin' } });
    const picks = await Promise.all(Array.from({ length: 20 }, () => resolver.pick('tickets')));
    expect(picks.every((p) => p.instance.id === 'tickets-1')).toBe(true);
    await memory.register(tickets(2));
    await expect.poll(async () => (await resolver.pick('tickets')).instance.id).toBe('tickets-2');
    await memory.deregister('tickets-1');
    await expect
      .poll(
        async () =>
          new Set(await Promise.all([1, 2, 3].map(async () => (await resolver.pick('tickets')).instance.id))),
      )
      .toEqual(new Set(['tickets-2']));
    expect(calls).toEqual({ resolve: 1, watch: 1 });
  });

  it('throws DISCOVERY_NO_INSTANCES for a service with no instance', async () => {
    await using memory = createMemoryRegistry();
    await using resolver = createResolver(memory);
    const e = await resolver.pick('tickets').catch((x: unknown) => x);
    expect(isRefrontError(e) && e.reason).toBe('DISCOVERY_NO_INSTANCES');
  });

  it("passes the registry's error through when the first resolve fails, and tries again on the next pick", async () => {
    await using memory = createMemoryRegistry();
    await memory.register(tickets(1));
    let failNext = true;
    const registry: Registry = {
      ...memory,
      resolve: async (s, o) => {
        if (failNext) {
          failNext = false;
          throw new Error('backend down');
        }
        return memory.resolve(s, o);
      },
      watch: () => ({ async *[Symbol.asyncIterator]() {} }),
    };
    await using resolver = createResolver(registry);
    await expect(resolver.pick('tickets')).rejects.toThrow('backend down');
    expect((await resolver.pick('tickets')).instance.id).toBe('tickets-1');
  });

  it('rejects a pick with the reason of its aborted signal, and picks after close with CORE_CLOSED', async () => {
    const memory = createMemoryRegistry();
    const never: Registry = { ...memory, resolve: () => new Promise(() => undefined) };
    const resolver = createResolver(never);
    const controller = new AbortController();
    const pending = resolver.pick('tickets', { signal: controller.signal });
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await resolver.close();
    await resolver.close();
    const e = await resolver.pick('tickets').catch((x: unknown) => x);
    expect(isRefrontError(e) && e.reason).toBe('CORE_CLOSED');
    await memory.close();
  });
});
