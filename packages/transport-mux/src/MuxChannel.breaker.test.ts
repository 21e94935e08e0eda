import { createServer, type Server, type Socket } from 'node:net';
import { createMemoryRegistry } from '@refront/discovery';
import { createCircuitBreakerPool, createRetry, policy } from '@refront/resilience';
import { describe, expect, it } from 'vitest';
import { createMuxClient } from './createMuxClient.js';
import { encodePreface } from './internal/codec.js';
import { MUX_PROTOCOL_VERSION } from './protocol.js';
import { EchoServiceDefinition, logger, rejection } from './testing/fixtures.js';

/** A raw TCP server on 127.0.0.1 doing `onSocket` with each connection; closed by the test. */
async function rawServer(onSocket: (s: Socket) => void): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  return { port: (server.address() as { port: number }).port, server };
}

/**
 * Ways only a mux peer can be unreachable (a refused connect and a connection closed at once are
 * the conformance suite's delivery cases, for every network lane): the port each starts, and how
 * the server behind it is stopped.
 */
const unreachable = {
  'never completes the handshake': async () => {
    const { port, server } = await rawServer((s) => s.resume());
    return { port, close: () => server.close() };
  },
  'drops the connection with the call in flight': async () => {
    const { port, server } = await rawServer((s) => {
      s.write(encodePreface(MUX_PROTOCOL_VERSION, 1 << 20, 100));
      // The preface is 16 bytes; anything after it is a request: drop the connection under it.
      let seen = 0;
      s.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > 16) s.destroy();
      });
    });
    return { port, close: () => server.close() };
  },
};

describe('mux channel: the breaker sees an unreachable instance', () => {
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
      const client = createMuxClient(EchoServiceDefinition, {
        discovery: registry,
        service: 'echo',
        caller: 'tester',
        policy: p,
        connectTimeoutMs: 100,
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
