import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { createRequestContext, runWithContext } from '@refront/core';
import { describe, expect, it, vi } from 'vitest';
import { fromGrpcError } from './errors.js';
import { EchoServiceDefinition, echoClient, logger, rejection, startEchoServer } from './testing/fixtures.js';

/** Sends raw bytes to `path`, as a foreign or broken client would. */
function rawCall(address: string, path: string, body: Buffer, md = new Metadata()): Promise<Buffer> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest<Buffer, Buffer>(
      path,
      (b) => b,
      (b) => b,
      body,
      md,
      { deadline: Date.now() + 5_000 },
      (err?: ServiceError | null, res?: Buffer) => {
        client.close();
        if (err) reject(err);
        else resolve(res as Buffer);
      },
    );
  });
}

describe('gRPC server: typed handlers in the request context', () => {
  it('serves a typed call and runs the handler with caller, tenant, deadline and trace', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address);
    const ctx = createRequestContext({ service: 'caller-svc', logger, tenant: 'acme' });
    const payload = Buffer.from([1, 2, 3, 250]);
    const res = await runWithContext(ctx, () =>
      client.echo({ message: 'hello', payload }, { timeoutMs: 3_000 }),
    );
    expect(res.message).toBe('hello');
    expect(Buffer.from(res.payload).equals(payload)).toBe(true);
    expect(res.seen.caller).toBe('tester');
    expect(res.seen.tenant).toBe('acme');
    expect(res.seen.traceId).toMatch(/^[0-9a-f]{32}$/);
    const deadline = Number(res.seen.deadline);
    expect(deadline).toBeGreaterThan(Date.now());
    expect(deadline).toBeLessThanOrEqual(Date.now() + 3_000);
    expect(res.seen['md:traceparent']).toMatch(new RegExp(`^00-${res.seen.traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it('answers a body that does not decode with INVALID_ARGUMENT and keeps serving', async () => {
    await using env = await startEchoServer();
    // Field 1 announced as 5 bytes long, then the body ends.
    const err = await rawCall(
      env.address,
      '/refront.testing.v1.EchoService/Echo',
      Buffer.from([0x0a, 0x05, 0x61]),
    ).catch((e: unknown) => e);
    const mapped = fromGrpcError(err);
    expect((err as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    expect(mapped.reason).toBe('CORE_DECODE_FAILED');
    await using client = echoClient(env.address);
    expect((await client.echo({ message: 'still here' })).message).toBe('still here');
  });

  it('answers an unknown method with UNIMPLEMENTED', async () => {
    await using env = await startEchoServer();
    const err = (await rawCall(env.address, '/refront.testing.v1.EchoService/Nope', Buffer.alloc(0)).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect(err.code).toBe(status.UNIMPLEMENTED);
    expect(fromGrpcError(err).reason).toBe('CORE_UNIMPLEMENTED');
    const unknownService = (await rawCall(env.address, '/x.Other/Echo', Buffer.alloc(0)).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect(unknownService.code).toBe(status.UNIMPLEMENTED);
  });

  it('rebuilds the handler error on the client: status, reason, message and field violations', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address);
    const err = await rejection(
      client.fail({ status: 'INVALID_ARGUMENT', reason: 'ECHO_EMPTY', message: 'message is empty' }),
    );
    expect(err.status).toBe('INVALID_ARGUMENT');
    expect(err.code).toBe(3);
    expect(err.reason).toBe('ECHO_EMPTY');
    expect(err.message).toBe('message is empty');
    expect(err.details).toEqual({
      fieldViolations: [{ field: 'message', description: 'must not be empty' }],
    });
    expect(err.retryable).toBe(false);
    expect((err.cause as ServiceError).code).toBe(status.INVALID_ARGUMENT);
  });

  it('carries retry delay, metadata and a non-default retryable flag', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const limited = await rejection(
      client.fail({ status: 'RESOURCE_EXHAUSTED', reason: 'ECHO_LIMITED', message: 'slow down' }),
    );
    expect(limited.details).toEqual({ retryDelayMs: 1_500, metadata: { limit: '10/s' } });
    expect(limited.retryable).toBe(true);
    const final = await rejection(
      client.fail({ status: 'UNAVAILABLE', reason: 'ECHO_GONE_NO_RETRY', message: 'gone' }),
    );
    expect(final.status).toBe('UNAVAILABLE');
    expect(final.retryable).toBe(false);
    expect(final.details).toEqual({});
  });

  it('turns a plain throw into INTERNAL with the trace id and no internals', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address);
    const err = await rejection(client.fail({ status: 'THROW_PLAIN' }));
    expect(err.status).toBe('INTERNAL');
    expect(err.reason).toBe('CORE_INTERNAL');
    expect(err.message).not.toContain('boom');
    expect(err.details.metadata?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect((await client.echo({ message: 'ok' })).message).toBe('ok');
  });

  it('answers an expired deadline with DEADLINE_EXCEEDED and aborts the handler signal', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const err = await rejection(client.sleep({ durationMs: 5_000 }, { timeoutMs: 150 }));
    expect(err.status).toBe('DEADLINE_EXCEEDED');
    await expect.poll(() => env.sleeps.length, { timeout: 5_000 }).toBe(1);
    expect(env.sleeps[0]?.aborted).toBe(true);
    expect(env.sleeps[0]?.reason).toMatchObject({ status: 'DEADLINE_EXCEEDED' });
    expect((await client.echo({ message: 'alive' })).message).toBe('alive');
  });

  it('aborts the handler signal when the caller cancels, and rethrows the caller reason unchanged', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address);
    const controller = new AbortController();
    const reason = new Error('user navigated away');
    const pending = client.sleep({ durationMs: 5_000 }, { signal: controller.signal });
    await expect.poll(() => env.server.dispatcher.inflight, { timeout: 5_000 }).toBe(1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect.poll(() => env.sleeps.length, { timeout: 5_000 }).toBe(1);
    expect(env.sleeps[0]).toMatchObject({ aborted: true, reason: { status: 'CANCELLED' } });
  });

  /**
   * The client cancels at its own deadline (grpc-js sends RST_STREAM CANCEL, as for a user's
   * cancel); the server's deadline is the client's plus the request's transit, so that cancel
   * can arrive just before it. Only the clock is faked (sockets and timers stay real), so the
   * server's deadline equals the client's and the cancel arrives at a chosen instant before it.
   */
  async function cancelAt(msBeforeDeadline: number): Promise<unknown> {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await using env = await startEchoServer();
      const client = new Client(env.address, credentials.createInsecure());
      const sleep = EchoServiceDefinition.methods.sleep;
      const deadline = Date.now() + 10_000;
      const call = client.makeUnaryRequest<Buffer, Buffer>(
        '/refront.testing.v1.EchoService/Sleep',
        (b) => b,
        (b) => b,
        Buffer.from(sleep.requestType.encode(sleep.requestType.fromPartial({ durationMs: 60_000 })).finish()),
        new Metadata(),
        { deadline },
        () => {},
      );
      await expect.poll(() => env.server.dispatcher.inflight, { interval: 5 }).toBe(1);
      vi.setSystemTime(deadline - msBeforeDeadline);
      call.cancel();
      await expect.poll(() => env.sleeps.length, { interval: 5 }).toBe(1);
      client.close();
      expect(env.sleeps[0]?.aborted).toBe(true);
      return env.sleeps[0]?.reason;
    } finally {
      vi.useRealTimers();
    }
  }

  it("reads the client's cancel at its own deadline, arriving before the server's, as DEADLINE_EXCEEDED", async () => {
    expect(await cancelAt(5)).toMatchObject({
      status: 'DEADLINE_EXCEEDED',
      reason: 'CORE_DEADLINE_EXCEEDED',
    });
  });

  it('reads a cancel well before the deadline as CANCELLED', async () => {
    expect(await cancelAt(5_000)).toMatchObject({ status: 'CANCELLED', reason: 'CORE_CANCELLED' });
  });

  it('records RED metrics on both sides by method and status', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { metrics: env.metrics });
    await client.echo({ message: 'a' });
    await rejection(client.fail({ status: 'NOT_FOUND', reason: 'ECHO_NONE', message: 'none' }));
    const text = await env.metrics.metrics();
    expect(text).toMatch(
      /refront_rpc_server_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="OK"[^}]*\} 1/,
    );
    expect(text).toMatch(/refront_rpc_server_duration_seconds_count\{[^}]*status="NOT_FOUND"[^}]*\} 1/);
    expect(text).toMatch(/refront_rpc_client_duration_seconds_count\{[^}]*status="NOT_FOUND"[^}]*\} 1/);
  });

  it('refuses add() after start() and a second add of the same service', async () => {
    await using env = await startEchoServer();
    expect(() => env.server.add({ name: 'X', fullName: 'x.X', methods: {} }, {})).toThrow(/before start/);
  });

  it('fails start() with GRPC_BIND_FAILED when the port is taken', async () => {
    await using env = await startEchoServer();
    const { createGrpcServer } = await import('./GrpcServer.js');
    const second = createGrpcServer({ service: 'echo', logger, host: '127.0.0.1', port: env.server.port });
    await expect(second.start()).rejects.toMatchObject({ reason: 'GRPC_BIND_FAILED', status: 'UNAVAILABLE' });
    await second.close();
  });
});
