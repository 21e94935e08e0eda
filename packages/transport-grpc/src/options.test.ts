import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { setupTracing } from '@refront/core';
import {
  DEFAULT_CLIENT_KEEPALIVE_TIME_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_SERVER_KEEPALIVE_TIME_MS,
} from '@refront/rpc';
import { describe, expect, it } from 'vitest';
import {
  channelOptions,
  DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
  DEFAULT_MAX_SEND_MESSAGE_BYTES,
  DEFAULT_MIN_PING_INTERVAL_MS,
  DEFAULT_RECONNECT_INITIAL_BACKOFF_MS,
  DEFAULT_RECONNECT_MAX_BACKOFF_MS,
} from './options.js';
import { echoClient, rejection, startEchoServer } from './testing/fixtures.js';

describe('connection defaults and limits', () => {
  it('applies the documented defaults on each side', () => {
    expect(channelOptions('client', {})).toEqual({
      'grpc.max_receive_message_length': DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
      'grpc.max_send_message_length': DEFAULT_MAX_SEND_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': DEFAULT_CLIENT_KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': DEFAULT_KEEPALIVE_TIMEOUT_MS,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': DEFAULT_RECONNECT_INITIAL_BACKOFF_MS,
      'grpc.max_reconnect_backoff_ms': DEFAULT_RECONNECT_MAX_BACKOFF_MS,
    });
    const server = channelOptions('server', {});
    expect(server['grpc.keepalive_time_ms']).toBe(DEFAULT_SERVER_KEEPALIVE_TIME_MS);
    expect(server['grpc.http2.min_ping_interval_without_data_ms']).toBe(DEFAULT_MIN_PING_INTERVAL_MS);
    expect(DEFAULT_MIN_PING_INTERVAL_MS).toBeLessThan(DEFAULT_CLIENT_KEEPALIVE_TIME_MS);
  });

  it('applies overrides, the server name and raw grpc-js options last', () => {
    const o = channelOptions(
      'client',
      {
        maxReceiveMessageBytes: 1024,
        keepalive: { timeMs: 5_000, timeoutMs: 1_000 },
        grpcOptions: { 'grpc.x': 1 },
      },
      { serverName: 'tickets.internal' },
    );
    expect(o).toMatchObject({
      'grpc.max_receive_message_length': 1024,
      'grpc.keepalive_time_ms': 5_000,
      'grpc.keepalive_timeout_ms': 1_000,
      'grpc.ssl_target_name_override': 'tickets.internal',
      'grpc.default_authority': 'tickets.internal',
      'grpc.x': 1,
    });
    expect(() => channelOptions('server', { keepalive: { timeMs: -1 } })).toThrow(/keepalive.timeMs/);
    expect(
      channelOptions('client', { reconnect: { initialBackoffMs: 50, maxBackoffMs: 800 } }),
    ).toMatchObject({
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 800,
    });
    expect(() =>
      channelOptions('client', { reconnect: { initialBackoffMs: 500, maxBackoffMs: 100 } }),
    ).toThrow(/maxBackoffMs/);
  });

  it('reaches a server restarted on the same port again on its own', async () => {
    const first = await startEchoServer('before');
    const port = first.server.port;
    await using client = echoClient(`127.0.0.1:${port}`, { policy: false });
    expect((await client.echo({ message: 'a' })).seen?.server).toBe('before');
    await first.server.close();
    for (let i = 0; i < 5; i++)
      expect((await rejection(client.echo({ message: 'b' }))).status).toBe('UNAVAILABLE');
    await using second = await startEchoServer('after', { port });
    let reply: string | undefined;
    for (let attempt = 0; reply === undefined && attempt < 200; attempt++) {
      reply = await client.echo({ message: 'c' }).then(
        (r) => r.seen?.server,
        () => new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
      );
    }
    expect(reply).toBe('after');
    expect(second.server.ready()).toBe(true);
  });

  it('refuses a request above the server limit with RESOURCE_EXHAUSTED and keeps serving', async () => {
    await using env = await startEchoServer('small', { maxReceiveMessageBytes: 1024 });
    await using client = echoClient(env.address, { policy: false });
    const err = await rejection(client.echo({ message: 'x', payload: Buffer.alloc(4096) }));
    expect(err.status).toBe('RESOURCE_EXHAUSTED');
    expect((await client.echo({ message: 'small' })).message).toBe('small');
  });

  it('refuses to send a request above the client limit', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false, maxSendMessageBytes: 1024 });
    expect((await rejection(client.echo({ payload: Buffer.alloc(4096) }))).status).toBe('RESOURCE_EXHAUSTED');
  });
});

describe('tracing over gRPC', () => {
  it('makes a CLIENT and a SERVER span in one trace, with rpc semantic conventions', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await setupTracing({ serviceName: 'test', exporter, simple: true });
    try {
      await using env = await startEchoServer();
      await using client = echoClient(env.address);
      const res = await client.echo({ message: 'trace me' });
      const spans = exporter.getFinishedSpans();
      const server = spans.find((s) => s.kind === 1);
      const clientSpan = spans.find((s) => s.kind === 2);
      expect(server?.spanContext().traceId).toBe(clientSpan?.spanContext().traceId);
      expect(server?.parentSpanContext?.spanId).toBe(clientSpan?.spanContext().spanId);
      expect(res.seen.traceId).toBe(server?.spanContext().traceId);
      expect(server?.name).toBe('refront.testing.v1.EchoService/Echo');
      expect(server?.attributes).toMatchObject({
        'rpc.system': 'grpc',
        'rpc.service': 'refront.testing.v1.EchoService',
        'rpc.method': 'Echo',
      });
      expect(clientSpan?.attributes['rpc.system']).toBe('grpc');
      await rejection(client.fail({ status: 'NOT_FOUND', reason: 'X', message: 'y' }));
      const failed = exporter.getFinishedSpans().filter((s) => s.name.endsWith('/Fail'));
      expect(failed.map((s) => s.attributes['rpc.grpc.status_code'])).toEqual([5, 5]);
    } finally {
      await tracing.shutdown();
    }
  });
});
