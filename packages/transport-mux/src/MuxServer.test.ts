import { connect, type Socket } from 'node:net';
import type { TokenVerifier } from '@refront/core';
import { CLIENT_CHANNEL } from '@refront/rpc';
import { describe, expect, it } from 'vitest';
import { encodePreface, encodeRequest } from './internal/codec.js';
import { MUX_PROTOCOL_VERSION, MUX_SYSTEM } from './protocol.js';
import {
  capturingLogger,
  EchoServiceDefinition,
  echoClient,
  rejection,
  startEchoServer,
} from './testing/fixtures.js';

/** Opens a raw socket, sends `bytes`, and resolves with what came back once the server closed it. */
function rawExchange(address: string, bytes: Buffer): Promise<Buffer> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s: Socket = connect({ host: host!, port: Number(port) }, () => s.write(bytes));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

describe('mux server: calls over a real socket', () => {
  it('round-trips a call with its payload and the metadata the handler saw', async () => {
    await using env = await startEchoServer('a');
    await using client = echoClient(env.address);
    const payload = Buffer.from([1, 2, 3, 250]);
    const res = await client.echo(
      { message: 'héllo', payload },
      { metadata: { 'x-refront-tenant': 'acme', 'x-custom-key': 'välue' } },
    );
    expect(res.message).toBe('héllo');
    expect([...res.payload]).toEqual([1, 2, 3, 250]);
    expect(res.seen).toMatchObject({
      server: 'a',
      caller: 'tester',
      tenant: 'acme',
      'md:x-custom-key': 'välue',
    });
    expect(res.seen['md:traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(res.seen.traceId).toBe(res.seen['md:traceparent']!.split('-')[1]);
    expect(Number(res.seen.deadline)).toBeGreaterThan(Date.now());
    expect(MUX_SYSTEM).toBe('refront_mux');
  });

  it('multiplexes many concurrent calls on one connection', async () => {
    await using env = await startEchoServer('a');
    await using client = echoClient(env.address, { policy: false });
    const all = await Promise.all(Array.from({ length: 500 }, (_, i) => client.echo({ message: `m${i}` })));
    expect(all.map((r) => r.message)).toEqual(Array.from({ length: 500 }, (_, i) => `m${i}`));
    expect(env.server.connections).toBe(1);
  });

  it('brings the handler error to the caller with status, reason, details and retryable', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const invalid = await rejection(
      client.fail({ status: 'INVALID_ARGUMENT', reason: 'TEST_BAD', message: 'bad input' }),
    );
    expect(invalid).toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'TEST_BAD',
      message: 'bad input',
      retryable: false,
    });
    expect(invalid.details.fieldViolations).toEqual([{ field: 'message', description: 'must not be empty' }]);
    const limited = await rejection(
      client.fail({ status: 'RESOURCE_EXHAUSTED', reason: 'TEST_LIMIT', message: 'slow down' }),
    );
    expect(limited.details).toEqual({ retryDelayMs: 1_500, metadata: { limit: '10/s' } });
    expect(limited.retryable).toBe(true);
    const noRetry = await rejection(
      client.fail({ status: 'UNAVAILABLE', reason: 'TEST_NO_RETRY', message: 'x' }),
    );
    expect(noRetry.retryable).toBe(false);
    const plain = await rejection(client.fail({ status: 'THROW_PLAIN', reason: '', message: '' }));
    expect(plain).toMatchObject({ status: 'INTERNAL', reason: 'CORE_INTERNAL' });
    expect(plain.message).not.toContain('boom');
  });

  it('enforces the deadline on the server: the handler is aborted and the caller gets DEADLINE_EXCEEDED', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const err = await rejection(client.sleep({ durationMs: 5_000 }, { timeoutMs: 150 }));
    expect(err).toMatchObject({ status: 'DEADLINE_EXCEEDED', reason: 'CORE_DEADLINE_EXCEEDED' });
    await expect.poll(() => env.sleeps.length).toBe(1);
    expect(env.sleeps[0]).toMatchObject({
      aborted: true,
      reason: expect.objectContaining({ status: 'DEADLINE_EXCEEDED' }),
    });
    expect(env.server.dispatcher.inflight).toBe(0);
  });

  it('sends a cancel frame when the caller aborts: the handler signal aborts, the caller gets its own reason', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const controller = new AbortController();
    const pending = client.sleep({ durationMs: 10_000 }, { signal: controller.signal });
    await expect.poll(() => env.server.dispatcher.inflight).toBe(1);
    const reason = new Error('user left');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect.poll(() => env.sleeps.length).toBe(1);
    expect(env.sleeps[0]).toMatchObject({
      aborted: true,
      reason: expect.objectContaining({ status: 'CANCELLED' }),
    });
  });

  it('authenticates bearer tokens: principal becomes the caller, the token is not shown to the handler', async () => {
    const verifyToken: TokenVerifier = (t) =>
      t === 'good' ? { id: 'gateway', claims: { role: 'admin' } } : undefined;
    await using env = await startEchoServer('a', { auth: { verifyToken } });
    await using anonymous = echoClient(env.address, { policy: false });
    expect(await rejection(anonymous.echo({ message: 'x' }))).toMatchObject({
      status: 'UNAUTHENTICATED',
      reason: 'CORE_MISSING_TOKEN',
      retryable: false,
    });
    await using forged = echoClient(env.address, { token: 'forged', policy: false });
    expect(await rejection(forged.echo({ message: 'x' }))).toMatchObject({ reason: 'CORE_BAD_TOKEN' });
    await using authed = echoClient(env.address, { token: 'good' });
    const res = await authed.echo(
      { message: 'ok' },
      { metadata: { 'x-refront-principal': 'spoofed', 'x-refront-peer-identity': 'spoofed' } },
    );
    expect(res.seen).toMatchObject({
      caller: 'gateway',
      'md:x-refront-principal': 'gateway',
      'md:x-refront-claim-role': 'admin',
    });
    expect(res.seen['md:authorization']).toBeUndefined();
    expect(res.seen['md:x-refront-peer-identity']).toBeUndefined();
  });

  it('answers an unknown method with UNIMPLEMENTED and a body that does not decode with INVALID_ARGUMENT', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const mc = client[CLIENT_CHANNEL];
    const method = {
      info: { service: 'nope.Service', name: 'Missing', path: '/nope.Service/Missing', idempotent: false },
      requestType: EchoServiceDefinition.methods.echo.requestType,
      responseType: EchoServiceDefinition.methods.echo.responseType,
    };
    const call = {
      side: 'client' as const,
      method: method.info,
      request: { message: 'x', payload: Buffer.alloc(0) },
      metadata: {},
      deadline: Date.now() + 2_000,
      signal: undefined,
      context: undefined,
      peer: undefined,
    };
    expect(await rejection(mc.unary(method, call))).toMatchObject({
      status: 'UNIMPLEMENTED',
      reason: 'CORE_UNIMPLEMENTED',
    });
    const garbage = {
      ...method,
      info: { ...method.info, path: '/refront.testing.v1.EchoService/Echo' },
      requestType: {
        ...method.requestType,
        encode: () => ({ finish: () => new Uint8Array([0x0a, 0xff, 0xff]) }),
      },
    } as unknown as typeof method;
    expect(await rejection(mc.unary(garbage, { ...call, method: garbage.info }))).toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'CORE_DECODE_FAILED',
    });
    expect((await client.echo({ message: 'still fine' })).message).toBe('still fine');
  });

  it('closes only the connection that sends an oversized frame, with a logged reason', async () => {
    const cap = capturingLogger();
    await using env = await startEchoServer('a', { logger: cap.logger, maxFrameBytes: 2_048 });
    await using client = echoClient(env.address, { policy: false });
    expect((await client.echo({ message: 'before' })).message).toBe('before');
    const huge = Buffer.alloc(10);
    huge.writeUInt32BE(1_000_000, 0);
    const back = await rawExchange(
      env.address,
      Buffer.concat([encodePreface(MUX_PROTOCOL_VERSION, 4096, 10), huge]),
    );
    expect(back.length).toBe(16); // only the server's preface
    expect(cap.lines.some((l) => String(l.reason).includes('exceeds the limit of 2048'))).toBe(true);
    expect((await client.echo({ message: 'after' })).message).toBe('after');
    const big = await rejection(client.echo({ message: 'x', payload: Buffer.alloc(4_000) }));
    expect(big).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
      reason: 'MUX_FRAME_TOO_LARGE',
      retryable: false,
    });
    expect(env.server.connections).toBe(1);
  });

  it('fails a protocol version mismatch clearly on both sides and closes the connection', async () => {
    const cap = capturingLogger();
    await using env = await startEchoServer('a', { logger: cap.logger });
    const request = encodeRequest(1, 1, '/refront.testing.v1.EchoService/Echo', 1000, {}, new Uint8Array())!;
    const back = await rawExchange(env.address, Buffer.concat([encodePreface(9, 4096, 10), request]));
    expect(back.readUInt8(4)).toBe(MUX_PROTOCOL_VERSION);
    expect(back.toString('utf8', 26)).toContain('MUX_VERSION_MISMATCH');
    expect(cap.lines.some((l) => String(l.reason).includes('speaks mux protocol version 9'))).toBe(true);
    expect(env.server.dispatcher.inflight).toBe(0);
  });

  it('refuses metadata keys that cannot go on the wire before sending anything', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const err = await rejection(client.echo({ message: 'x' }, { metadata: { 'Upper Case': 'v' } }));
    expect(err).toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'MUX_INVALID_METADATA',
      retryable: false,
    });
    expect((await client.echo({ message: 'ok' })).message).toBe('ok');
  });

  it('checks add() after start() and a bad option', async () => {
    await using env = await startEchoServer();
    expect(() => env.server.add(EchoServiceDefinition, {} as never)).toThrow(
      expect.objectContaining({ status: 'FAILED_PRECONDITION', reason: 'CORE_INVALID_STATE' }),
    );
    const { createMuxServer } = await import('./MuxServer.js');
    expect(() =>
      createMuxServer({ service: 'x', logger: capturingLogger().logger, maxFrameBytes: 10 }),
    ).toThrow(/maxFrameBytes/);
  });
});
