import { createServer, type Server, type Socket } from 'node:net';
import type { Call, ServiceInstance } from '@refront/core';
import { methodsOf } from '@refront/core/transport';
import { createMemoryRegistry } from '@refront/discovery';
import { describe, expect, it } from 'vitest';
import { createMuxClient } from './createMuxClient.js';
import { encodePreface } from './internal/codec.js';
import { createMuxChannel } from './MuxChannel.js';
import { MUX_PROTOCOL_VERSION } from './protocol.js';
import {
  type EchoServer,
  EchoServiceDefinition,
  echoClient,
  logger,
  rejection,
  startEchoServer,
} from './testing/fixtures.js';

function instanceOf(name: string, env: EchoServer): ServiceInstance {
  return { id: name, service: 'echo', address: '127.0.0.1', port: env.server.port, metadata: {} };
}

async function instances(names: string[]) {
  const servers = await Promise.all(names.map((n) => startEchoServer(n)));
  const registry = createMemoryRegistry();
  await Promise.all(
    servers.map((s, i) =>
      registry.register(instanceOf(names[i]!, s), { check: { kind: 'ttl', ttlMs: 60_000 } }),
    ),
  );
  return {
    servers,
    registry,
    async [Symbol.asyncDispose]() {
      await registry.close();
      await Promise.all(servers.map((s) => s.server.close()));
    },
  };
}

/** A raw server that completes the mux handshake and then never answers anything. */
async function silentServer(): Promise<{
  address: string;
  server: Server;
  sockets: Socket[];
  closed: Socket[];
}> {
  const sockets: Socket[] = [];
  const closed: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.on('close', () => closed.push(s));
    s.resume();
    s.write(encodePreface(MUX_PROTOCOL_VERSION, 1 << 20, 100));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, server, sockets, closed };
}

describe('mux channel: discovery, drain, reconnect, keepalive', () => {
  it('drains under load: in-flight calls finish, new ones get UNAVAILABLE, the policy retries elsewhere', async () => {
    await using env = await instances(['a', 'b']);
    const [a] = env.servers;
    await using direct = echoClient(a!.address, { policy: false });
    await using balanced = createMuxClient(EchoServiceDefinition, {
      discovery: env.registry,
      service: 'echo',
      caller: 't',
      logger,
    });
    await Promise.all(Array.from({ length: 20 }, () => balanced.echo({ message: 'warm' })));
    const inflight = Array.from({ length: 30 }, () => direct.sleep({ durationMs: 300 }));
    await expect.poll(() => a!.server.dispatcher.inflight, { timeout: 5_000 }).toBe(30);
    const drained = a!.server.drain(AbortSignal.timeout(10_000));
    expect(a!.server.ready()).toBe(false);
    const refused = await rejection(direct.echo({ message: 'late' }));
    expect(refused).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'CORE_DRAINING',
      retryable: true,
      unprocessed: true,
    });
    const after = await Promise.all(Array.from({ length: 40 }, () => balanced.echo({ message: 'after' })));
    expect(after.every((r) => r.seen.server === 'b')).toBe(true);
    const results = await Promise.all(inflight);
    expect(results.every((r) => r.aborted === false)).toBe(true);
    await drained;
    expect(a!.server.dispatcher.inflight).toBe(0);
  });

  it('cancels what still runs when the grace period ends', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const pending = client.sleep({ durationMs: 10_000 });
    await expect.poll(() => env.server.dispatcher.inflight).toBe(1);
    await env.server.drain(AbortSignal.timeout(100));
    expect(await rejection(pending)).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'CORE_LOST_IN_FLIGHT',
      unprocessed: false,
    });
    await expect.poll(() => env.sleeps.length).toBe(1);
    expect(env.sleeps[0]?.aborted).toBe(true);
  });

  it('reconnects with backoff after the server restarts on the same port', async () => {
    const first = await startEchoServer('first');
    const port = first.server.port;
    await using client = echoClient(first.address, {
      policy: false,
      reconnect: { baseDelayMs: 20, maxDelayMs: 50 },
    });
    expect((await client.echo({ message: 'x' })).seen.server).toBe('first');
    await first.server.close();
    const down = await rejection(client.echo({ message: 'x' }));
    expect(down).toMatchObject({ status: 'UNAVAILABLE', retryable: true });
    await using second = await startEchoServer('second', { port });
    await expect
      .poll(async () => (await client.echo({ message: 'x' }).catch(() => undefined))?.seen.server, {
        timeout: 5_000,
        interval: 30,
      })
      .toBe('second');
    expect(second.server.connections).toBe(1);
  });

  it('detects a peer that stops answering: the connection is dropped and calls fail UNAVAILABLE', async () => {
    const silent = await silentServer();
    try {
      await using client = echoClient(silent.address, {
        policy: false,
        keepalive: { timeMs: 50, timeoutMs: 50 },
      });
      const err = await rejection(client.echo({ message: 'x' }, { timeoutMs: 20_000 }));
      // The request was written: lost in flight, with the keepalive timeout as its cause.
      expect(err).toMatchObject({ status: 'UNAVAILABLE', reason: 'CORE_LOST_IN_FLIGHT', retryable: true });
      expect(err.cause).toMatchObject({ reason: 'MUX_KEEPALIVE_TIMEOUT' });
      await expect.poll(() => silent.closed.length).toBe(1);
    } finally {
      for (const s of silent.sockets) s.destroy();
      await new Promise((r) => silent.server.close(r));
    }
  });

  it('enforces the deadline on the client even when the server never answers', async () => {
    const silent = await silentServer();
    try {
      await using client = echoClient(silent.address, { policy: false });
      const err = await rejection(client.echo({ message: 'x' }, { timeoutMs: 100 }));
      expect(err).toMatchObject({ status: 'DEADLINE_EXCEEDED', reason: 'CORE_DEADLINE_EXCEEDED' });
    } finally {
      for (const s of silent.sockets) s.destroy();
      await new Promise((r) => silent.server.close(r));
    }
  });

  it('fails fast with UNAVAILABLE when nothing listens, and spreads calls over several connections', async () => {
    await using none = echoClient('127.0.0.1:1', { policy: false });
    expect(await rejection(none.echo({ message: 'x' }))).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'MUX_CONNECTION_FAILED',
    });
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false, connectionsPerInstance: 3 });
    await Promise.all(Array.from({ length: 30 }, () => client.echo({ message: 'x' })));
    expect(env.server.connections).toBe(3);
  });

  it('reports to a reply through send what unary resolves or rejects with, and refuses at once once closed', async () => {
    await using env = await startEchoServer();
    const channel = createMuxChannel({ target: env.address, logger });
    const method = methodsOf(EchoServiceDefinition).get('echo')!;
    const call = (message: string): Call<unknown> => ({
      side: 'client',
      method: method.info,
      request: method.requestType.fromPartial({ message } as never),
      metadata: {},
      deadline: Date.now() + 5_000,
      signal: undefined,
      context: undefined,
      peer: undefined,
    });
    const outcome = (c: Call<unknown>) =>
      new Promise<{ value?: unknown; error?: unknown }>((resolve) =>
        channel.send(method, c, { ok: (value) => resolve({ value }), fail: (error) => resolve({ error }) }),
      );
    const sent = call('by send');
    expect((await outcome(sent)).value).toMatchObject({ message: 'by send' });
    expect(sent.target).toBe(env.address);
    expect(await channel.unary(method, call('by unary'))).toMatchObject({ message: 'by unary' });
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await outcome({ ...call('aborted'), signal: controller.signal })).toEqual({ error: reason });
    await channel.close();
    let refused: unknown;
    channel.send(method, call('late'), { ok: () => {}, fail: (e) => (refused = e) });
    expect(refused).toMatchObject({ status: 'UNAVAILABLE', reason: 'CORE_CLOSED' });
  });

  it('rejects bad options', () => {
    expect(() => echoClient('nohost', {})).toThrow(/host:port/);
    expect(() => createMuxClient(EchoServiceDefinition, { logger })).toThrow(/either target or discovery/);
    expect(() => echoClient('127.0.0.1:1', { connectionsPerInstance: 0 })).toThrow(/connectionsPerInstance/);
  });
});
