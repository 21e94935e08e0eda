import { type Call, createClient, RefrontError } from '@refront/core';
import { type ClientMethod, decodeMessage, methodsOf } from '@refront/core/transport';
import { createMemoryRegistry } from '@refront/discovery';
import { createDefaultPolicy } from '@refront/resilience';
import { rejection } from '@refront/rpc-testing';
import { EchoRequest, EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it, vi } from 'vitest';
import { createRpcChannel } from './RpcChannel.js';
import { fakeLane } from './testing/fakeLane.js';

/** A memory registry with instances `a` (port 1) and `b` (port 2) of `echo`. */
async function twoInstances() {
  const registry = createMemoryRegistry();
  for (const [id, port] of [
    ['a', 1],
    ['b', 2],
  ] as const) {
    await registry.register(
      { id, service: 'echo', address: '127.0.0.1', port, metadata: {} },
      { check: { kind: 'ttl', ttlMs: 60_000 } },
    );
  }
  return registry;
}

const ANSWER = { message: 'back', payload: new Uint8Array(), seen: {} };

describe('createRpcChannel', () => {
  it('takes exactly one of target and discovery, and discovery with a service', () => {
    const { lane } = fakeLane();
    expect(() => createRpcChannel({}, lane)).toThrow(/either target or discovery/);
    expect(() => createRpcChannel({ target: 'x:1', discovery: createMemoryRegistry() }, lane)).toThrow(
      /either target or discovery/,
    );
    expect(() => createRpcChannel({ discovery: createMemoryRegistry() }, lane)).toThrow(/service name/);
  });

  it("dials the fixed target once and sends each call through the lane's call, encoded", async () => {
    const { lane, dialled } = fakeLane();
    await using channel = createRpcChannel({ target: 'here:1', policy: false }, lane);
    expect(dialled.map((c) => c.name)).toEqual(['here:1']);
    (dialled[0] as { outcome: unknown }).outcome = ANSWER;
    const client = createClient(EchoServiceDefinition, channel, { caller: 'tester' });
    expect((await client.echo({ message: 'hi' })).message).toBe('back');
    expect((await client.echo({ message: 'again' })).message).toBe('back');
    expect(dialled).toHaveLength(1);
    expect(dialled[0]?.bodies.map((b) => decodeMessage(EchoRequest, b).message)).toEqual(['hi', 'again']);
  });

  it('opens one connection per discovered instance on its first pick', async () => {
    const { lane, dialled } = fakeLane();
    await using registry = await twoInstances();
    await using channel = createRpcChannel(
      { discovery: registry, service: 'echo', policy: false, balancer: { strategy: 'round-robin' } },
      lane,
    );
    const client = createClient(EchoServiceDefinition, channel, { caller: 'tester' });
    for (let i = 0; i < 4; i++) await client.echo({ message: 'x' });
    expect(dialled.map((c) => c.name).sort()).toEqual(['a', 'b']);
    expect(dialled.map((c) => c.bodies.length)).toEqual([2, 2]);
    expect(channel.connectedInstances().sort()).toEqual(['a', 'b']);
  });

  it('retries an attempt that failed on another instance under its policy', async () => {
    const { lane, dialled } = fakeLane();
    await using registry = await twoInstances();
    const policy = createDefaultPolicy({ name: 'echo', retry: { baseDelayMs: 1 } });
    const retried: string[] = [];
    policy.events.on('retry', (e) => retried.push(e.target ?? ''));
    await using channel = createRpcChannel(
      { discovery: registry, service: 'echo', policy, balancer: { strategy: 'round-robin', outlier: false } },
      lane,
    );
    const client = createClient(EchoServiceDefinition, channel, { caller: 'tester' });
    await client.echo({ message: 'first' }); // opens a connection to the first instance
    const first = dialled[0];
    if (!first) throw new Error('no connection');
    first.outcome = new RefrontError('UNAVAILABLE', 'TEST_DOWN', 'down');
    for (let i = 0; i < 4; i++) expect(await client.echo({ message: 'x' })).toEqual({});
    // Every call that went to the failing instance was retried on the other one.
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((t) => t === `echo/127.0.0.1:${first.name === 'a' ? 1 : 2}`)).toBe(true);
    await policy.close();
  });

  it('refuses a request that does not encode with INVALID_ARGUMENT RPC_REQUEST_ENCODE_FAILED, before any attempt', async () => {
    const { lane, dialled } = fakeLane();
    await using channel = createRpcChannel({ target: 'here:1', policy: false }, lane);
    const echo = methodsOf(EchoServiceDefinition).get('echo') as ClientMethod;
    const call: Call<unknown> = {
      side: 'client',
      method: echo.info,
      request: { message: 123 },
      metadata: {},
      deadline: undefined,
      signal: undefined,
      context: undefined,
      peer: undefined,
    };
    const err = await rejection(channel.unary(echo, call));
    expect(err).toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'RPC_REQUEST_ENCODE_FAILED',
      message: `request for ${echo.info.path} does not encode`,
    });
    expect(dialled[0]?.bodies).toEqual([]);
  });

  it("closes its connections, the connector's hook and the default policy once; a given policy stays open", async () => {
    const own = fakeLane();
    const channel = createRpcChannel({ target: 'here:1' }, own.lane);
    const closePolicy = vi.spyOn(channel.policy as NonNullable<typeof channel.policy>, 'close');
    await Promise.all([channel.close(), channel.close()]);
    await channel[Symbol.asyncDispose]();
    expect(own.dialled[0]?.closed).toBe(true);
    expect(own.closedHooks()).toBe(1);
    expect(closePolicy).toHaveBeenCalledTimes(1);
    const client = createClient(EchoServiceDefinition, channel, { caller: 'tester' });
    expect(await rejection(client.echo({ message: 'late' }))).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'CORE_CLOSED',
      retryable: false,
      unprocessed: true,
    });

    const given = createDefaultPolicy({ name: 'echo' });
    const closeGiven = vi.spyOn(given, 'close');
    await createRpcChannel({ target: 'here:1', policy: given }, fakeLane().lane).close();
    expect(closeGiven).not.toHaveBeenCalled();
    await given.close();
  });
});
