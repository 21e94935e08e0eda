import { createServer, type Socket } from 'node:net';
import { createMemoryRegistry } from '@refront/discovery';
import { createCircuitBreakerPool, createDefaultPolicy, createRetry, policy } from '@refront/resilience';
import { describe, expect, it } from 'vitest';
import { startCountingPair } from './countingPair.js';
import { discoveryClient } from './discoveryClient.js';
import { refused } from './expectations.js';
import { refusingAddress } from './faultProxy.js';
import type { TransportFactory } from './TransportFactory.js';

/** Calls to an unreachable instance before its breaker must be open (the default breaker opens past 50% failures of 20 calls). */
const CALLS_TO_OPEN = 20;

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** Ways an instance can be unreachable on every network lane: its address, and how to stop what listens there. */
const UNREACHABLE = {
  'refuses connections': async () => ({ address: await refusingAddress(), close: async () => {} }),
  'closes every connection at once': async () => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      address: `127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
};

/**
 * Registers the delivery cases (capabilities `faults` and `discovery`): what a retry may repeat
 * when a connection is lost after the handler ran or was refused before anything was sent, and
 * the per-instance breaker seeing an instance that cannot be reached. Handler runs are counted
 * on the instances ({@link startCountingPair}), so a second run cannot hide.
 */
export function describeDeliveryCases<H>(factory: TransportFactory<H>): void {
  describe('delivery: what a retry may repeat', () => {
    it('does not retry a call that is not idempotent whose connection was lost after its handler ran', async () => {
      await using pair = await startCountingPair(factory);
      await using c = discoveryClient(factory, pair.registry, createDefaultPolicy({ name: 'echo' }));
      pair.cutNext();
      const err = await refused(c.client.sleep({ durationMs: 0 }));
      expect(err).toMatchObject({ status: 'UNAVAILABLE', reason: 'CORE_LOST_IN_FLIGHT', unprocessed: false });
      // The handler ran once, on one instance, and nothing ran it again on the other.
      expect(pair.total('sleep')).toBe(1);
      expect(c.retries).toEqual([]);
    });

    it('retries an idempotent call lost in flight on the other instance', async () => {
      await using pair = await startCountingPair(factory);
      await using c = discoveryClient(factory, pair.registry, createDefaultPolicy({ name: 'echo' }));
      pair.cutNext();
      const res = await c.client.echo({ message: 'again' });
      expect(res.message).toBe('again');
      // The first instance ran it and lost the reply; the retry ran it on the other one.
      expect([pair.runs('a', 'echo'), pair.runs('b', 'echo')]).toEqual([1, 1]);
      expect(c.retries.map((e) => e.error.reason)).toEqual(['CORE_LOST_IN_FLIGHT']);
      expect(c.retries[0]?.target).toBe(pair.keys[res.seen.server === 'a' ? 'b' : 'a']);
    });

    it('retries a call that is not idempotent when its instance refused the connection', async () => {
      await using pair = await startCountingPair(factory);
      const dead = portOf(await refusingAddress());
      await pair.registry.register(
        { id: 'dead', service: 'echo', address: '127.0.0.1', port: dead, metadata: {} },
        { check: { kind: 'ttl', ttlMs: 60_000 } },
      );
      await using c = discoveryClient(factory, pair.registry, createDefaultPolicy({ name: 'echo' }));
      for (let i = 0; i < 6; i++) expect(await c.client.sleep({ durationMs: 0 })).toEqual({ aborted: false });
      // Round robin sent at least one call to the dead instance first: it was never sent, so it
      // was retried elsewhere, and each call ran its handler exactly once.
      const fromDead = c.retries.filter((e) => e.target === `echo/127.0.0.1:${dead}`);
      expect(fromDead.length).toBeGreaterThanOrEqual(1);
      expect(fromDead.every((e) => e.error.unprocessed)).toBe(true);
      expect(pair.total('sleep')).toBe(6);
    });
  });

  describe('delivery: the breaker sees an unreachable instance', () => {
    it.each(Object.keys(UNREACHABLE) as (keyof typeof UNREACHABLE)[])(
      'opens the breaker of an instance that %s, then fails fast with RESILIENCE_CIRCUIT_OPEN',
      async (kind) => {
        const instance = await UNREACHABLE[kind]();
        await using registry = createMemoryRegistry();
        const port = portOf(instance.address);
        await registry.register(
          { id: 'down', service: 'echo', address: '127.0.0.1', port, metadata: {} },
          { check: { kind: 'ttl', ttlMs: 60_000 } },
        );
        const breakers = createCircuitBreakerPool();
        let opened = 0;
        breakers.events.on('breakerOpen', () => opened++);
        try {
          await using c = discoveryClient(
            factory,
            registry,
            policy(createRetry({ maxAttempts: 1 }), breakers),
          );
          const reasons = new Set<string>();
          for (let i = 0; i < CALLS_TO_OPEN; i++) {
            reasons.add((await refused(c.client.sleep({ durationMs: 0 }))).reason);
          }
          expect(reasons.has('RESILIENCE_CIRCUIT_OPEN')).toBe(false);
          expect(opened).toBe(1);
          expect(breakers.state(`echo/${instance.address}`)).toBe('open');
          const fast = await refused(c.client.sleep({ durationMs: 0 }));
          expect(fast).toMatchObject({ reason: 'RESILIENCE_CIRCUIT_OPEN', unprocessed: true });
        } finally {
          await instance.close();
        }
      },
    );
  });
}
