import { createDefaultPolicy, type RetryEvent } from '@refront/resilience';
import { describe, expect, it } from 'vitest';
import { createGrpcClient } from './createGrpcClient.js';
import { refusingPort, startCountingPair } from './testing/delivery.js';
import { EchoServiceDefinition, logger, rejection } from './testing/fixtures.js';

/** A client of the pair through discovery, with its policy's retries recorded. */
function clientOf(registry: Parameters<typeof createGrpcClient>[1]['discovery']) {
  const policy = createDefaultPolicy({ name: 'echo' });
  const retries: RetryEvent[] = [];
  policy.events.on('retry', (e) => retries.push(e));
  const client = createGrpcClient(EchoServiceDefinition, {
    discovery: registry,
    service: 'echo',
    caller: 'tester',
    policy,
    balancer: { strategy: 'round-robin', outlier: false },
    logger,
  });
  return {
    client,
    retries,
    async [Symbol.asyncDispose]() {
      await client.close();
      await policy.close();
    },
  };
}

describe('gRPC channel: what a retry may repeat', () => {
  it('does not retry a call that is not idempotent whose connection was lost after its handler ran', async () => {
    await using pair = await startCountingPair();
    await using c = clientOf(pair.registry);
    pair.cutNext();
    const err = await rejection(c.client.sleep({ durationMs: 0 }));
    expect(err).toMatchObject({ status: 'UNAVAILABLE', reason: 'CORE_LOST_IN_FLIGHT', unprocessed: false });
    expect(err.cause).toMatchObject({ code: 14 }); // grpc-js's own error, kept
    // The handler ran once, on one instance, and nothing ran it again on the other.
    expect(pair.total('sleep')).toBe(1);
    expect(c.retries).toEqual([]);
  });

  it('retries an idempotent call lost in flight on the other instance', async () => {
    await using pair = await startCountingPair();
    await using c = clientOf(pair.registry);
    pair.cutNext();
    const res = await c.client.echo({ message: 'again' });
    expect(res.message).toBe('again');
    // The first instance ran it and lost the reply; the retry ran it on the other one.
    expect(pair.runs.get('a:echo')).toBe(1);
    expect(pair.runs.get('b:echo')).toBe(1);
    expect(c.retries.map((e) => e.error.reason)).toEqual(['CORE_LOST_IN_FLIGHT']);
    expect(c.retries[0]?.target).toBe(pair.keys[res.seen.server === 'a' ? 'b' : 'a']);
  });

  it('retries a call that is not idempotent when its instance refused the connection', async () => {
    await using pair = await startCountingPair();
    const dead = await refusingPort();
    await pair.registry.register(
      { id: 'dead', service: 'echo', address: '127.0.0.1', port: dead, metadata: {} },
      { check: { kind: 'ttl', ttlMs: 60_000 } },
    );
    await using c = clientOf(pair.registry);
    for (let i = 0; i < 6; i++) expect(await c.client.sleep({ durationMs: 0 })).toEqual({ aborted: false });
    // Round-robin sent at least one call to the dead instance first: it was never sent, so it was
    // retried elsewhere, and each call ran its handler exactly once.
    const fromDead = c.retries.filter((e) => e.target === `echo/127.0.0.1:${dead}`);
    expect(fromDead.length).toBeGreaterThanOrEqual(1);
    expect(fromDead.every((e) => e.error.unprocessed && e.error.reason === 'GRPC_STATUS')).toBe(true);
    expect(pair.total('sleep')).toBe(6);
  });
});
