import { createMemoryRegistry } from '@refront/discovery';
import { createDefaultPolicy } from '@refront/resilience';
import { type CountingRegistry, countingRegistry, echoImplementation } from '@refront/rpc-testing';
import { describe, expect, it } from 'vitest';
import { discoveryClient } from './discoveryClient.js';
import { logger, served } from './environment.js';
import type { ConformanceServer, TransportFactory } from './TransportFactory.js';

const NAMES = ['a', 'b', 'c'] as const;

/** Three Echo instances of one lane (`seen.server` names each), registered under `echo`. */
interface Three<H> extends AsyncDisposable {
  readonly registry: CountingRegistry;
  readonly servers: readonly ConformanceServer<H>[];
  /** The instance key (`echo/127.0.0.1:<port>`) of each server, as policies and breakers name it. */
  readonly keys: readonly string[];
}

async function startThree<H>(factory: TransportFactory<H>): Promise<Three<H>> {
  const addressOf = factory.addressOf;
  if (!addressOf) throw new Error('three instances need factory.addressOf');
  const memory = createMemoryRegistry();
  const servers: ConformanceServer<H>[] = [];
  const dispose = async (): Promise<void> => {
    await memory.close();
    await Promise.all(servers.map((s) => s.close()));
  };
  const keys: string[] = [];
  try {
    for (const name of NAMES) {
      const server = await factory.startServer({
        service: 'echo',
        logger,
        contracts: [served(echoImplementation(name))],
      });
      servers.push(server);
      const address = addressOf(server.handle);
      const port = Number(address.slice(address.lastIndexOf(':') + 1));
      keys.push(`echo/127.0.0.1:${port}`);
      await memory.register(
        { id: name, service: 'echo', address: '127.0.0.1', port, metadata: {} },
        { check: { kind: 'ttl', ttlMs: 60_000 } },
      );
    }
  } catch (e: unknown) {
    await dispose();
    throw e;
  }
  return { registry: countingRegistry(memory), servers, keys, [Symbol.asyncDispose]: dispose };
}

/**
 * Registers the balancing cases (capability `discovery`): a channel that finds three instances
 * spreads calls over all of them through one resolve and one watch, and a retry leaves the
 * instance that failed.
 */
export function describeBalancingCases<H>(factory: TransportFactory<H>): void {
  describe('discovery: balancing over instances', () => {
    it('spreads calls over three instances, resolving once and watching once', async () => {
      await using three = await startThree(factory);
      // The channel's default balancer: least-outstanding with outlier detection.
      await using c = discoveryClient(factory, three.registry, createDefaultPolicy({ name: 'echo' }), {});
      const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
      for (let round = 0; round < 10; round++) {
        const batch = await Promise.all(
          Array.from({ length: 30 }, (_, i) => c.client.echo({ message: `m${i}` })),
        );
        for (const r of batch) counts[r.seen.server ?? ''] = (counts[r.seen.server ?? ''] ?? 0) + 1;
      }
      // 300 calls: each instance gets its share (an even split is 100).
      expect(Object.keys(counts).sort()).toEqual(['a', 'b', 'c']);
      for (const n of Object.values(counts)) expect(n).toBeGreaterThanOrEqual(60);
      expect(three.registry.resolves).toBe(1);
      expect(three.registry.watches).toBe(1);
    });

    it('retries on another instance than the one that failed, so a dead instance fails no call', async () => {
      await using three = await startThree(factory);
      await three.servers[0]?.close(); // instance a is registered but dead
      await using c = discoveryClient(factory, three.registry, createDefaultPolicy({ name: 'echo' }), {
        // Least-outstanding favours a dead instance (it has nothing in flight); without outlier
        // detection the retry's own choice of instance is the only guard.
        strategy: 'least-outstanding',
        outlier: false,
      });
      const replies = await Promise.all(
        Array.from({ length: 60 }, () => c.client.echo({ message: 'x' }).then((r) => r.seen.server)),
      );
      expect(new Set(replies)).toEqual(new Set(['b', 'c']));
      // Every retry left the dead instance: no attempt after a failure went back to it.
      expect(c.retries.length).toBeGreaterThan(0);
      expect(c.retries.every((e) => e.target === three.keys[0])).toBe(true);
    });
  });
}
