import { createServer } from 'node:net';
import { createMemoryRegistry } from '@refront/discovery';
import { createCircuitBreakerPool, createRetry, policy } from '@refront/resilience';
import { describe, expect, it } from 'vitest';
import { createGrpcClient } from './createGrpcClient.js';
import { refusingPort } from './testing/delivery.js';
import { EchoServiceDefinition, logger, rejection } from './testing/fixtures.js';

/** Ways an instance can be unreachable: the port each starts, and how the server behind it is stopped. */
const unreachable = {
  'refuses connections': async () => ({ port: await refusingPort(), close: () => {} }),
  'closes every connection at once': async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as { port: number }).port, close: () => server.close() };
  },
};

describe('gRPC channel: the breaker sees an unreachable instance', () => {
  it.each(Object.keys(unreachable) as (keyof typeof unreachable)[])(
    'opens the breaker of an instance that %s, then fails fast with RESILIENCE_CIRCUIT_OPEN',
    async (kind) => {
      const instance = await unreachable[kind]();
      const registry = createMemoryRegistry();
      await registry.register(
        { id: 'down', service: 'echo', address: '127.0.0.1', port: instance.port, metadata: {} },
        { check: { kind: 'ttl', ttlMs: 60_000 } },
      );
      const breakers = createCircuitBreakerPool();
      const p = policy(createRetry({ maxAttempts: 1 }), breakers);
      let opened = 0;
      breakers.events.on('breakerOpen', () => opened++);
      const client = createGrpcClient(EchoServiceDefinition, {
        discovery: registry,
        service: 'echo',
        caller: 'tester',
        policy: p,
        logger,
      });
      try {
        const key = `echo/127.0.0.1:${instance.port}`;
        const reasons = new Set<string>();
        // The default breaker opens past 50% failures of at least 20 calls in its window.
        for (let i = 0; i < 20; i++) reasons.add((await rejection(client.sleep({ durationMs: 0 }))).reason);
        expect(reasons.has('RESILIENCE_CIRCUIT_OPEN')).toBe(false);
        expect(opened).toBe(1);
        expect(breakers.state(key)).toBe('open');
        const refused = await rejection(client.sleep({ durationMs: 0 }));
        expect(refused).toMatchObject({ reason: 'RESILIENCE_CIRCUIT_OPEN', unprocessed: true });
      } finally {
        await client.close();
        await p.close();
        await registry[Symbol.asyncDispose]();
        instance.close();
      }
    },
  );
});
