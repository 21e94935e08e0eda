import { describe, expect, it } from 'vitest';
import { createMemoryRegistry } from './MemoryRegistry.js';
import { recordWatch } from './testing/collect.js';
import { startHealthEndpoint } from './testing/healthEndpoint.js';
import { registryContract } from './testing/registryContract.js';

registryContract('memory', { registers: true, reapsQuickly: true }, async () => {
  const registry = createMemoryRegistry();
  return { registry, [Symbol.asyncDispose]: () => registry.close() };
});

const tickets = (n: number) => ({
  id: `tickets-${n}`,
  service: 'tickets',
  address: '127.0.0.1',
  port: 50_000 + n,
  metadata: {},
});

describe('createMemoryRegistry', () => {
  it('keeps a TTL-checked instance passing while it is registered, with no heartbeat to miss', async () => {
    await using registry = createMemoryRegistry();
    await registry.register(tickets(1), { check: { kind: 'ttl', ttlMs: 20 } });
    await new Promise((r) => setTimeout(r, 100));
    expect(await registry.resolve('tickets')).toHaveLength(1);
  });

  it('keeps an HTTP-checked instance out until its first probe passes', async () => {
    await using registry = createMemoryRegistry();
    await using health = await startHealthEndpoint();
    await using rec = recordWatch((signal) => registry.watch('tickets', { signal }));
    await registry.register(tickets(1), { check: { kind: 'http', url: health.url, intervalMs: 1_000 } });
    expect(await registry.resolve('tickets')).toEqual([]);
    await expect.poll(() => rec.latestIds(), { timeout: 5_000 }).toEqual(['tickets-1']);
  });

  it('stops probing once the instance is deregistered', async () => {
    await using registry = createMemoryRegistry();
    await using health = await startHealthEndpoint();
    const reg = await registry.register(tickets(1), {
      check: { kind: 'http', url: health.url, intervalMs: 20 },
    });
    await expect.poll(() => registry.resolve('tickets').then((s) => s.length)).toBe(1);
    await reg.deregister();
    await health.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(await registry.resolve('tickets')).toEqual([]);
  });

  it('hands out frozen copies, so a caller cannot change what others resolve', async () => {
    await using registry = createMemoryRegistry();
    const mutable = { ...tickets(1), metadata: { protocol: 'grpc' } };
    await registry.register(mutable);
    mutable.metadata.protocol = 'changed';
    const [resolved] = await registry.resolve('tickets');
    expect(resolved?.metadata).toEqual({ protocol: 'grpc' });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('ends a watch started after close at once', async () => {
    const registry = createMemoryRegistry();
    await registry.close();
    const sets = [];
    for await (const set of registry.watch('tickets')) sets.push(set);
    expect(sets).toEqual([]);
  });
});
