import { EchoRequest, EchoServiceDefinition } from '@refront/test-contracts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { METADATA_PEER_IDENTITY, METADATA_PRINCIPAL } from './auth.js';
import type { CallerRules } from './callerPolicy.js';
import { createRequestContext, runWithContext } from './context.js';
import { createClient } from './createClient.js';
import { isRefrontError, type RefrontError } from './errors.js';
import { createInProcessNetwork } from './InProcessNetwork.js';
import type { Interceptor } from './Interceptor.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { echoImplementation, sleepObservations } from './testing/echo.js';
import { useInMemoryTracing } from './testing/inMemoryTracing.js';

const logger = createLogger({ service: 'test', level: 'silent' });

async function setup(opts: { interceptors?: Interceptor[]; timeoutMs?: number } = {}) {
  const network = createInProcessNetwork();
  const metrics = createMetricsRegistry({ processMetrics: false });
  const server = network.createServer({
    service: 'echo',
    logger,
    metrics,
    interceptors: opts.interceptors ?? [],
  });
  server.add(EchoServiceDefinition, echoImplementation);
  await server.start();
  const client = createClient(EchoServiceDefinition, network.channel(), {
    caller: 'tester',
    metrics,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
  return { network, server, client, metrics, [Symbol.asyncDispose]: () => server.close() };
}

async function rejection(p: Promise<unknown>): Promise<RefrontError> {
  try {
    await p;
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('in-process transport: requests', () => {
  beforeEach(() => {
    sleepObservations.length = 0;
  });

  it('round-trips a typed request and carries caller, tenant and a deadline', async () => {
    await using env = await setup();
    const ctx = createRequestContext({ service: 'gateway', logger, tenant: 'acme' });
    const res = await runWithContext(ctx, () =>
      env.client.echo({ message: 'hi', payload: Buffer.from([1, 2]) }),
    );
    expect(res.message).toBe('hi');
    expect([...res.payload]).toEqual([1, 2]);
    expect(res.seen).toMatchObject({ caller: 'tester', tenant: 'acme', hasDeadline: 'true' });
    expect(res.seen.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('copies messages through protobuf so services share no objects', async () => {
    await using env = await setup();
    const payload = Buffer.from([9]);
    const res = await env.client.echo({ message: 'x', payload });
    expect(res.payload).not.toBe(payload);
    expect([...res.payload]).toEqual([9]);
  });

  it('aborts the handler at the deadline and answers DEADLINE_EXCEEDED', async () => {
    await using env = await setup();
    const err = await rejection(env.client.sleep({ durationMs: 5_000 }, { timeoutMs: 50 }));
    expect(err.status).toBe('DEADLINE_EXCEEDED');
    // The handler ends when its signal aborts (it would otherwise sleep the full 5 s and record
    // aborted: false): wait for what it recorded, not for a fixed time.
    await vi.waitFor(() => expect(sleepObservations).toHaveLength(1));
    expect(sleepObservations[0]!.aborted).toBe(true);
    expect((sleepObservations[0]!.reason as RefrontError).status).toBe('DEADLINE_EXCEEDED');
  });

  it('propagates the earlier deadline of the request context', async () => {
    await using env = await setup();
    const ctx = createRequestContext({ service: 'gateway', logger, deadline: Date.now() + 40 });
    const err = await runWithContext(ctx, () =>
      rejection(env.client.sleep({ durationMs: 5_000 }, { timeoutMs: 10_000 })),
    );
    expect(err.status).toBe('DEADLINE_EXCEEDED');
  });

  it('fails fast when the deadline already passed, without calling the server', async () => {
    await using env = await setup();
    const ctx = createRequestContext({ service: 'gateway', logger, deadline: Date.now() - 1 });
    const err = await runWithContext(ctx, () => rejection(env.client.echo({ message: 'late' })));
    expect(err.status).toBe('DEADLINE_EXCEEDED');
    expect(env.server.dispatcher.inflight).toBe(0);
  });

  it("rethrows the caller's abort reason unchanged and aborts the handler", async () => {
    await using env = await setup();
    const controller = new AbortController();
    const reason = new Error('user went away');
    const pending = env.client.sleep({ durationMs: 5_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
    await new Promise((r) => setTimeout(r, 10));
    expect(sleepObservations[0]?.aborted).toBe(true);
  });

  it("gives the handler a CANCELLED reason carrying the caller's abort reason", async () => {
    await using env = await setup();
    const controller = new AbortController();
    const reason = new Error('user went away');
    const pending = env.client.sleep({ durationMs: 5_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
    await new Promise((r) => setTimeout(r, 10));
    expect(sleepObservations).toHaveLength(1);
    expect(sleepObservations[0]!.reason).toMatchObject({ status: 'CANCELLED', cause: reason });
    expect(env.server.dispatcher.inflight).toBe(0);
  });

  it('answers the same through unary() (a client with interceptors of its own) as through send()', async () => {
    await using env = await setup();
    let intercepted = 0;
    const counting: Interceptor = (call, next) => {
      intercepted++;
      return next(call);
    };
    const client = createClient(EchoServiceDefinition, env.network.channel(), {
      caller: 'tester',
      interceptors: [counting],
    });
    expect((await client.echo({ message: 'via unary' })).message).toBe('via unary');
    const err = await rejection(client.sleep({ durationMs: 5_000 }, { timeoutMs: 50 }));
    expect(err.status).toBe('DEADLINE_EXCEEDED');
    expect(intercepted).toBe(2);
    await new Promise((r) => setTimeout(r, 10));
    expect(sleepObservations).toHaveLength(1);
    expect((sleepObservations[0]!.reason as RefrontError).status).toBe('DEADLINE_EXCEEDED');
  });

  it('ends a call at its deadline on a server without the default chain, as gRPC and mux do', async () => {
    const network = createInProcessNetwork();
    const server = network.createServer({ service: 'echo', logger, defaultInterceptors: false });
    let answered = 0;
    server.add(EchoServiceDefinition, {
      ...echoImplementation,
      async sleep(request) {
        await new Promise((r) => setTimeout(r, request.durationMs));
        answered++;
        return { aborted: false };
      },
    });
    await server.start();
    try {
      const client = createClient(EchoServiceDefinition, network.channel(), { caller: 'tester' });
      const err = await rejection(client.sleep({ durationMs: 300 }, { timeoutMs: 50 }));
      expect(err.status).toBe('DEADLINE_EXCEEDED');
      expect(answered).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('maps a typed handler error with its status, reason and field violations', async () => {
    await using env = await setup();
    const err = await rejection(
      env.client.fail({ status: 'INVALID_ARGUMENT', reason: 'ECHO_BAD', message: 'bad' }),
    );
    expect(err.status).toBe('INVALID_ARGUMENT');
    expect(err.reason).toBe('ECHO_BAD');
    expect(err.httpStatus).toBe(400);
    expect(err.details.fieldViolations).toEqual([{ field: 'message', description: 'must not be empty' }]);
  });

  it('turns an unexpected throw into INTERNAL with the trace id, and keeps serving', async () => {
    await using env = await setup();
    const err = await rejection(env.client.fail({ status: 'THROW_PLAIN' }));
    expect(err.status).toBe('INTERNAL');
    expect(err.message).not.toContain('boom');
    expect(err.details.metadata?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const ok = await env.client.echo({ message: 'still here' });
    expect(ok.message).toBe('still here');
  });

  it('answers UNAVAILABLE when no server runs the service', async () => {
    const network = createInProcessNetwork();
    const client = createClient(EchoServiceDefinition, network.channel(), { caller: 'tester' });
    const err = await rejection(client.echo({ message: 'anyone?' }));
    expect(err.status).toBe('UNAVAILABLE');
    expect(err.reason).toBe('CORE_NO_SERVER');
    expect(err.retryable).toBe(true);
    expect(err.unprocessed).toBe(true);
  });

  it('drains: a slow call finishes, new calls get UNAVAILABLE', async () => {
    await using env = await setup();
    const slow = env.client.sleep({ durationMs: 100 });
    await new Promise((r) => setTimeout(r, 10));
    const drained = env.server.drain(AbortSignal.timeout(5_000));
    const refused = await rejection(env.client.echo({ message: 'late' }));
    expect(refused.status).toBe('UNAVAILABLE');
    expect(refused.reason).toBe('CORE_DRAINING');
    expect(refused.unprocessed).toBe(true);
    await expect(slow).resolves.toEqual({ aborted: false });
    await drained;
    expect(env.server.dispatcher.inflight).toBe(0);
  });

  it('aborts in-flight handlers when the grace period ends', async () => {
    await using env = await setup();
    const slow = rejection(env.client.sleep({ durationMs: 5_000 }));
    await new Promise((r) => setTimeout(r, 10));
    await env.server.drain(AbortSignal.timeout(30));
    const err = await slow;
    expect(err.status).toBe('UNAVAILABLE');
    // The handler ran: not a refusal, so a call that is not idempotent is not retried.
    expect(err).toMatchObject({ reason: 'CORE_LOST_IN_FLIGHT', unprocessed: false });
    expect(sleepObservations[0]?.aborted).toBe(true);
  });

  it("answers a handler's rethrown CORE_DRAINING as CORE_DEPENDENCY_UNAVAILABLE, not as its own refusal", async () => {
    await using env = await setup();
    const err = await rejection(
      env.client.fail({
        status: 'UNAVAILABLE',
        reason: 'CORE_DRAINING',
        message: 'tickets is shutting down',
      }),
    );
    expect(err).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'CORE_DEPENDENCY_UNAVAILABLE',
      message: 'tickets is shutting down',
      retryable: true,
      unprocessed: false,
    });
  });

  it('runs user interceptors after the defaults, in order, with the request context', async () => {
    const seen: string[] = [];
    const a: Interceptor = async (call, next) => {
      seen.push(`a:${call.context?.caller}`);
      return next(call);
    };
    const b: Interceptor = async (call, next) => {
      seen.push('b');
      return next(call);
    };
    await using env = await setup({ interceptors: [a, b] });
    await env.client.echo({ message: 'x' });
    expect(seen).toEqual(['a:tester', 'b']);
  });

  it('records RED metrics for both sides', async () => {
    await using env = await setup();
    await env.client.echo({ message: 'x' });
    await rejection(env.client.fail({ status: 'NOT_FOUND', reason: 'ECHO_NONE', message: 'no' }));
    const text = await env.metrics.metrics();
    expect(text).toMatch(
      /refront_rpc_server_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="OK"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /refront_rpc_server_duration_seconds_count\{[^}]*rpc_method="Fail"[^}]*status="NOT_FOUND"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /refront_rpc_client_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="OK"[^}]*\} 1/,
    );
  });

  it('refuses a request that does not decode with INVALID_ARGUMENT', async () => {
    await using env = await setup();
    const broken = { ...EchoRequest, encode: () => ({ finish: () => new Uint8Array([0x0a, 0xff]) }) };
    const def = {
      ...EchoServiceDefinition,
      methods: {
        ...EchoServiceDefinition.methods,
        echo: { ...EchoServiceDefinition.methods.echo, requestType: broken },
      },
    };
    const client = createClient(def, env.network.channel(), { caller: 'tester' });
    const err = await rejection(client.echo({ message: 'x' }));
    expect(err.status).toBe('INVALID_ARGUMENT');
    expect(err.reason).toBe('CORE_DECODE_FAILED');
  });
});

describe('in-process transport: tracing', () => {
  const exporter = useInMemoryTracing();

  it('makes a client and a server span in one trace, the server span a child of the client span', async () => {
    await using env = await setup();
    exporter.reset();
    const res = await env.client.echo({ message: 'trace me' });
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.kind === 1);
    const client = spans.find((s) => s.kind === 2);
    expect(server && client).toBeTruthy();
    expect(server!.spanContext().traceId).toBe(client!.spanContext().traceId);
    expect(server!.parentSpanContext?.spanId).toBe(client!.spanContext().spanId);
    expect(res.seen.traceId).toBe(client!.spanContext().traceId);
    expect(server!.attributes['rpc.method']).toBe('Echo');
    expect(server!.attributes['rpc.system']).toBe('refront_inproc');
  });
});

describe('in-process transport: callers', () => {
  const SLEEP = 'refront.testing.v1.EchoService/Sleep';

  async function guarded(callers: CallerRules) {
    const network = createInProcessNetwork();
    const ran: string[] = [];
    const server = network.createServer({
      service: 'echo',
      logger,
      auth: { callers },
      interceptors: [
        (call, next) => {
          ran.push(call.method.name);
          return next(call);
        },
      ],
    });
    server.add(EchoServiceDefinition, echoImplementation);
    await server.start();
    const as = (caller: string | undefined, claimed = caller ?? 'anonymous') =>
      createClient(EchoServiceDefinition, network.channel(caller === undefined ? {} : { caller }), {
        caller: claimed,
      });
    return { network, ran, as, [Symbol.asyncDispose]: () => server.close() };
  }

  it("serves a declared caller under the channel's caller, whatever the client claims", async () => {
    await using env = await guarded({ billing: '*' });
    const res = await env.as('billing', 'someone-else').echo({ message: 'x' });
    expect(res.seen.caller).toBe('billing');
    expect(env.ran).toEqual(['Echo']);
  });

  it('refuses an undeclared caller PERMISSION_DENIED before any handler, as a network lane does', async () => {
    await using env = await guarded({ billing: [SLEEP], gateway: '*' });
    const err = await rejection(env.as('invoicing', 'gateway').echo({ message: 'x' }));
    expect([err.status, err.reason, err.retryable]).toEqual([
      'PERMISSION_DENIED',
      'CORE_CALLER_NOT_ALLOWED',
      false,
    ]);
    expect(err.message).toBe('invoicing is not a declared caller of /refront.testing.v1.EchoService/Echo');
    const notThisMethod = await rejection(env.as('billing').echo({ message: 'x' }));
    expect(notThisMethod.reason).toBe('CORE_CALLER_NOT_ALLOWED');
    expect(env.ran).toEqual([]);
    expect(await env.as('billing').sleep({ durationMs: 0 })).toEqual({ aborted: false });
  });

  it('refuses a channel without a caller UNAUTHENTICATED, even when its metadata claims a peer identity', async () => {
    await using env = await guarded({ billing: '*' });
    const err = await rejection(
      env
        .as(undefined, 'billing')
        .echo({ message: 'x' }, { metadata: { [METADATA_PEER_IDENTITY]: 'billing' } }),
    );
    expect([err.status, err.reason, err.retryable]).toEqual([
      'UNAUTHENTICATED',
      'CORE_UNAUTHENTICATED_CALLER',
      false,
    ]);
    expect(env.ran).toEqual([]);
  });

  it("replaces a peer identity the client puts in its metadata by the channel's caller", async () => {
    await using env = await guarded({ billing: '*', invoicing: '*' });
    const seen: (string | undefined)[] = [];
    const res = await env
      .as('billing')
      .echo(
        { message: 'x' },
        { metadata: { [METADATA_PEER_IDENTITY]: 'invoicing', [METADATA_PRINCIPAL]: 'root' } },
      );
    expect(res.seen.caller).toBe('billing');
    const network = createInProcessNetwork();
    const server = network.createServer({
      service: 'echo',
      logger,
      interceptors: [
        (call, next) => {
          seen.push(call.metadata[METADATA_PEER_IDENTITY], call.metadata[METADATA_PRINCIPAL]);
          return next(call);
        },
      ],
    });
    server.add(EchoServiceDefinition, echoImplementation);
    await server.start();
    const forged = { [METADATA_PEER_IDENTITY]: 'invoicing', [METADATA_PRINCIPAL]: 'root' };
    await createClient(EchoServiceDefinition, network.channel({ caller: 'billing' }), { caller: 'x' }).echo(
      { message: 'x' },
      { metadata: forged },
    );
    await createClient(EchoServiceDefinition, network.channel(), { caller: 'x' }).echo(
      { message: 'x' },
      { metadata: forged },
    );
    await server.close();
    // Without `auth` too: the channel's caller reaches the handler, what the client forged does not.
    expect(seen).toEqual(['billing', undefined, undefined, undefined]);
  });
});
