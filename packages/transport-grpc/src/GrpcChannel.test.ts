import type { Call, ServiceInstance } from '@refront/core';
import { type ClientMethod, methodsOf } from '@refront/core/transport';
import { createMemoryRegistry } from '@refront/discovery';
import { createDefaultPolicy } from '@refront/resilience';
import { countingRegistry } from '@refront/rpc-testing';
import { describe, expect, it, vi } from 'vitest';
import { createGrpcClient } from './createGrpcClient.js';
import { createGrpcChannel, createGrpcServer, type GrpcChannel } from './index.js';
import {
  type EchoServer,
  EchoServiceDefinition,
  echoImplementation,
  logger,
  rejection,
  type SleepObservation,
  startEchoServer,
} from './testing/fixtures.js';

function instanceOf(name: string, env: EchoServer): ServiceInstance {
  return { id: name, service: 'echo', address: '127.0.0.1', port: env.server.port, metadata: {} };
}

async function threeInstances() {
  const servers = [await startEchoServer('a'), await startEchoServer('b'), await startEchoServer('c')];
  const memory = createMemoryRegistry();
  const regs = await Promise.all(
    servers.map((s, i) =>
      memory.register(instanceOf(['a', 'b', 'c'][i]!, s), { check: { kind: 'ttl', ttlMs: 60_000 } }),
    ),
  );
  const registry = countingRegistry(memory);
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

const methods = methodsOf(EchoServiceDefinition);
const echo = methods.get('echo')!;
const sleep = methods.get('sleep')!;

/** A call as core's createClient hands it to a channel. */
function callOf(
  method: ClientMethod,
  request: object,
  options: { deadline?: number; signal?: AbortSignal } = {},
): Call<unknown> {
  return {
    side: 'client',
    method: method.info,
    request: method.requestType.fromPartial(request as never),
    metadata: { 'x-refront-caller': 'tester' },
    deadline: options.deadline ?? Date.now() + 5_000,
    signal: options.signal,
    context: undefined,
    peer: undefined,
    target: undefined,
  };
}

/** What `send` reported to its reply: exactly one of ok and fail, counted. */
function outcome(
  channel: GrpcChannel,
  method: ClientMethod,
  call: Call<unknown>,
): Promise<{ value?: unknown; error?: unknown; reports: () => number }> {
  let reports = 0;
  return new Promise((resolve) =>
    channel.send(method, call, {
      ok: (value) => {
        reports++;
        resolve({ value, reports: () => reports });
      },
      fail: (error) => {
        reports++;
        resolve({ error, reports: () => reports });
      },
    }),
  );
}

/** An Echo server whose Sleep handler announces each call it starts (`started()` waits for the next). */
async function sleepServer(): Promise<{
  address: string;
  sleeps: SleepObservation[];
  started: () => Promise<void>;
  close: () => Promise<void>;
}> {
  const sleeps: SleepObservation[] = [];
  const base = echoImplementation('s', sleeps);
  let announce: () => void = () => {};
  const server = createGrpcServer({ service: 'echo', logger, host: '127.0.0.1' });
  server.add(EchoServiceDefinition, {
    ...base,
    sleep(request, ctx) {
      announce();
      return base.sleep(request, ctx);
    },
  });
  await server.start();
  return {
    address: server.address,
    sleeps,
    started: () => new Promise<void>((r) => (announce = r)),
    close: () => server.close(),
  };
}

describe('gRPC channel: send (one object per call)', () => {
  it('reports the decoded response once, sets the target, and unary is send in a promise', async () => {
    await using env = await startEchoServer('a');
    await using channel = createGrpcChannel({ target: env.address, caller: 'tester', logger });
    const call = callOf(echo, { message: 'by send' });
    const out = await outcome(channel, echo, call);
    expect(out.value).toMatchObject({ message: 'by send', seen: { server: 'a', caller: 'tester' } });
    expect(out.reports()).toBe(1);
    expect(call.target).toBe(env.address);
    expect(await channel.unary(echo, callOf(echo, { message: 'by unary' }))).toMatchObject({
      message: 'by unary',
    });
    // Without a policy too: one attempt, the same outcome.
    await using bare = createGrpcChannel({ target: env.address, policy: false, logger });
    expect((await outcome(bare, echo, callOf(echo, { message: 'no policy' }))).value).toMatchObject({
      message: 'no policy',
    });
  });

  it('retries on another instance after UNAVAILABLE, and the call ends on the live one', async () => {
    await using env = await threeInstances();
    await env.servers[0]!.server.close(); // instance a is registered but dead
    const policy = createDefaultPolicy({ name: 'echo' });
    const retriedFrom: string[] = [];
    policy.events.on('retry', (e) => retriedFrom.push(e.target ?? ''));
    await using channel = createGrpcChannel({
      discovery: env.registry,
      service: 'echo',
      policy,
      balancer: { strategy: 'round-robin', outlier: false },
      logger,
    });
    const dead = `echo/127.0.0.1:${env.servers[0]!.server.port}`;
    for (let i = 0; i < 6; i++) {
      const call = callOf(echo, { message: `m${i}` });
      const out = await outcome(channel, echo, call);
      expect(out.error).toBeUndefined();
      expect(['b', 'c']).toContain((out.value as { seen: { server: string } }).seen.server);
      expect(call.target).not.toBe(dead);
    }
    expect(retriedFrom.length).toBeGreaterThan(0);
    expect(retriedFrom.every((t) => t === dead)).toBe(true);
    await policy.close();
  });

  it('cancels the grpc-js call when the caller aborts mid-call, reporting the reason unchanged', async () => {
    const s = await sleepServer();
    try {
      for (const policy of [undefined, false] as const) {
        await using channel = createGrpcChannel({ target: s.address, policy, logger });
        const controller = new AbortController();
        const reason = new Error('caller gave up');
        const started = s.started();
        const pending = outcome(
          channel,
          sleep,
          callOf(sleep, { durationMs: 10_000 }, { signal: controller.signal }),
        );
        await started;
        const seen = s.sleeps.length;
        controller.abort(reason);
        const out = await pending;
        expect(out.error).toBe(reason);
        // The server saw the cancel, and grpc-js's own CANCELLED callback reported nothing more.
        await vi.waitFor(() => expect(s.sleeps.length).toBeGreaterThan(seen));
        expect(s.sleeps.every((o) => o.aborted)).toBe(true);
        await new Promise((r) => setImmediate(r));
        expect(out.reports()).toBe(1);
      }
    } finally {
      await s.close();
    }
  });

  it('fails an aborted call at once without sending it', async () => {
    await using env = await startEchoServer();
    await using channel = createGrpcChannel({ target: env.address, logger });
    const controller = new AbortController();
    const reason = new Error('already gone');
    controller.abort(reason);
    expect(
      (await outcome(channel, echo, callOf(echo, { message: 'x' }, { signal: controller.signal }))).error,
    ).toBe(reason);
  });

  it('ends a call at its deadline with DEADLINE_EXCEEDED, with and without a policy', async () => {
    const s = await sleepServer();
    try {
      for (const policy of [undefined, false] as const) {
        await using channel = createGrpcChannel({ target: s.address, policy, logger });
        const call = callOf(sleep, { durationMs: 10_000 }, { deadline: Date.now() + 150 });
        const out = await outcome(channel, sleep, call);
        expect(out.error).toMatchObject({ status: 'DEADLINE_EXCEEDED' });
      }
    } finally {
      await s.close();
    }
  });

  it('maps a server error and refuses calls at once once closed', async () => {
    await using env = await startEchoServer();
    const channel = createGrpcChannel({ target: env.address, logger });
    const fail = methods.get('fail')!;
    const out = await outcome(
      channel,
      fail,
      callOf(fail, { status: 'NOT_FOUND', reason: 'ECHO_NO_RETRY', message: 'no such thing' }),
    );
    expect(out.error).toMatchObject({ status: 'NOT_FOUND', reason: 'ECHO_NO_RETRY' });
    await channel.close();
    let refused: unknown;
    let reports = 0;
    channel.send(echo, callOf(echo, { message: 'late' }), {
      ok: () => reports++,
      fail: (e) => {
        reports++;
        refused = e;
      },
    });
    expect(reports).toBe(1);
    expect(refused).toMatchObject({ status: 'UNAVAILABLE', reason: 'CORE_CLOSED' });
  });
});
