import type { Registry, ServiceInstance } from '@refront/core';
import { createMemoryRegistry } from '@refront/discovery';
import { createDefaultPolicy } from '@refront/resilience';
import { describe, expect, it } from 'vitest';
import { createGrpcClient } from './createGrpcClient.js';
import { createGrpcChannel, GRPC_CHANNEL } from './index.js';
import {
  type EchoServer,
  EchoServiceDefinition,
  logger,
  rejection,
  startEchoServer,
} from './testing/fixtures.js';

function instanceOf(name: string, env: EchoServer): ServiceInstance {
  return { id: name, service: 'echo', address: '127.0.0.1', port: env.server.port, metadata: {} };
}

/** Counts how often the registry is asked, to prove calls never re-resolve. */
function counting(registry: Registry): Registry & { resolves: number; watches: number } {
  const counted = {
    resolves: 0,
    watches: 0,
    register: registry.register.bind(registry),
    deregister: registry.deregister.bind(registry),
    close: registry.close.bind(registry),
    resolve(service: string, o?: { signal?: AbortSignal }) {
      counted.resolves++;
      return registry.resolve(service, o);
    },
    watch(service: string, o?: { signal?: AbortSignal }) {
      counted.watches++;
      return registry.watch(service, o);
    },
  };
  return counted;
}

async function threeInstances() {
  const servers = [await startEchoServer('a'), await startEchoServer('b'), await startEchoServer('c')];
  const memory = createMemoryRegistry();
  const regs = await Promise.all(
    servers.map((s, i) =>
      memory.register(instanceOf(['a', 'b', 'c'][i]!, s), { check: { kind: 'ttl', ttlMs: 60_000 } }),
    ),
  );
  const registry = counting(memory);
  return {
    servers,
    registry,
    regs,
    async [Symbol.asyncDispose]() {
      await memory.close();
      await Promise.all(servers.map((s) => s.server.close()));
    },
  };
}

describe('gRPC channel: discovery, balancing, breakers', () => {
  it('spreads calls over three instances, one connection each, resolving once', async () => {
    await using env = await threeInstances();
    await using client = createGrpcClient(EchoServiceDefinition, {
      discovery: env.registry,
      service: 'echo',
      caller: 'tester',
      logger,
    });
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let round = 0; round < 10; round++) {
      const batch = await Promise.all(
        Array.from({ length: 30 }, (_, i) => client.echo({ message: `m${i}` })),
      );
      for (const r of batch) counts[r.seen.server!]! += 1;
    }
    // 300 calls, least-outstanding: each instance gets its share (an even split is 100).
    for (const n of Object.values(counts)) expect(n).toBeGreaterThanOrEqual(60);
    expect(client[GRPC_CHANNEL].connectedInstances().sort()).toEqual(['a', 'b', 'c']);
    expect(env.registry.resolves).toBe(1);
    expect(env.registry.watches).toBe(1);
  });

  it('splits round-robin exactly, and drops the connection of an instance that left', async () => {
    await using env = await threeInstances();
    await using channel = createGrpcChannel({
      discovery: env.registry,
      service: 'echo',
      balancer: { strategy: 'round-robin' },
      logger,
    });
    const { createClient } = await import('@refront/core');
    const client = createClient(EchoServiceDefinition, channel, { caller: 'tester' });
    const seen: string[] = [];
    for (let i = 0; i < 9; i++) seen.push((await client.echo({ message: 'x' })).seen.server!);
    expect(seen.filter((s) => s === 'a')).toHaveLength(3);
    expect(seen.filter((s) => s === 'b')).toHaveLength(3);
    await env.regs[1]!.deregister();
    await expect.poll(() => channel.connectedInstances().sort(), { timeout: 5_000 }).toEqual(['a', 'c']);
    for (let i = 0; i < 6; i++) expect((await client.echo({ message: 'x' })).seen.server).not.toBe('b');
    expect(env.registry.resolves).toBe(1);
  });

  it('passes over an instance whose connection is down and keeps serving from the live ones', async () => {
    await using env = await threeInstances();
    await env.servers[2]!.server.close(); // instance c is registered but dead
    const policy = createDefaultPolicy({ name: 'echo', circuitBreaker: { volumeThreshold: 3 } });
    const failedOn: string[] = [];
    policy.events.on('retry', (e) => failedOn.push(e.target ?? ''));
    await using client = createGrpcClient(EchoServiceDefinition, {
      discovery: env.registry,
      service: 'echo',
      caller: 'tester',
      policy,
      balancer: { strategy: 'round-robin', outlier: false },
      logger,
    });
    const servedBy = new Set<string>();
    for (let i = 0; i < 30; i++) servedBy.add((await client.echo({ message: 'x' })).seen.server!);
    expect([...servedBy].sort()).toEqual(['a', 'b']);
    // Round-robin would send every third call to c; once its connection failed it is passed over.
    expect(failedOn.length).toBeLessThanOrEqual(2);
    expect(new Set(failedOn)).toEqual(new Set([`echo/127.0.0.1:${env.servers[2]!.server.port}`]));
    await policy.close();
  });

  it('retries on another instance than the one that failed, so a dead instance fails no call', async () => {
    await using env = await threeInstances();
    await env.servers[0]!.server.close(); // instance a is registered but dead
    const policy = createDefaultPolicy({ name: 'echo' });
    const retriedFrom: string[] = [];
    policy.events.on('retry', (e) => retriedFrom.push(e.target ?? ''));
    await using client = createGrpcClient(EchoServiceDefinition, {
      discovery: env.registry,
      service: 'echo',
      caller: 'tester',
      policy,
      // Least-outstanding favours a dead instance (it has nothing in flight); outlier detection off
      // leaves the retry's own choice of instance as the only guard.
      balancer: { strategy: 'least-outstanding', outlier: false },
      logger,
    });
    const replies = await Promise.all(
      Array.from({ length: 60 }, () => client.echo({ message: 'x' }).then((r) => r.seen.server)),
    );
    expect(new Set(replies)).toEqual(new Set(['b', 'c']));
    const dead = `echo/127.0.0.1:${env.servers[0]!.server.port}`;
    // Every retry left the dead instance: no attempt after a failure went back to it.
    expect(retriedFrom.every((t) => t === dead)).toBe(true);
    await policy.close();
  });

  it('fails with UNAVAILABLE when discovery knows no instance', async () => {
    await using registry = createMemoryRegistry();
    await using client = createGrpcClient(EchoServiceDefinition, {
      discovery: registry,
      service: 'echo',
      caller: 'tester',
      policy: createDefaultPolicy({ retry: { maxAttempts: 2, baseDelayMs: 1 } }),
      logger,
    });
    const err = await rejection(client.echo({ message: 'x' }));
    expect(err.status).toBe('UNAVAILABLE');
    expect(err.reason).toBe('DISCOVERY_NO_INSTANCES');
  });

  it('maps a refused connection to a retryable UNAVAILABLE', async () => {
    const env = await startEchoServer();
    const address = env.address;
    await env.server.close();
    await using client = createGrpcClient(EchoServiceDefinition, { target: address, policy: false, logger });
    const err = await rejection(client.echo({ message: 'x' }, { timeoutMs: 2_000 }));
    expect(err.status).toBe('UNAVAILABLE');
    expect(err.reason).toBe('GRPC_STATUS');
    expect(err.retryable).toBe(true);
  });

  it('validates its options', () => {
    expect(() => createGrpcChannel({})).toThrow(/either target or discovery/);
    expect(() => createGrpcChannel({ discovery: createMemoryRegistry() })).toThrow(/service name/);
    expect(() => createGrpcChannel({ target: 'x:1', maxReceiveMessageBytes: 0 })).toThrow(/positive/);
    expect(() => createGrpcChannel({ target: 'x:1', tls: { certFile: '/nope' } })).toThrow(/go together/);
    expect(() => createGrpcChannel({ target: 'x:1', tls: { caFile: '/nope/ca.pem' } })).toThrow(
      /cannot read/,
    );
    const withClose = { ...EchoServiceDefinition, methods: { close: EchoServiceDefinition.methods.echo } };
    expect(() => createGrpcClient(withClose, { target: 'x:1' })).toThrow(/method named close/);
  });

  it('rejects calls after close() with UNAVAILABLE CORE_CLOSED', async () => {
    await using env = await startEchoServer();
    const client = createGrpcClient(EchoServiceDefinition, { target: env.address, logger });
    await client.close();
    const err = await rejection(client.echo({ message: 'x' }));
    expect(err.reason).toBe('CORE_CLOSED');
  });
});
