import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { createService } from '@refront/core';
import type { ServiceState } from '@refront/core/transport';
import { describe, expect, it } from 'vitest';
import { createGrpcServer } from './GrpcServer.js';
import { CONTRACTS_DIR, healthClient, reflectionClient, VALIDATE_DIR } from './testing/dynamicClients.js';
import {
  EchoServiceDefinition,
  echoClient,
  echoImplementation,
  logger,
  rejection,
  startEchoServer,
} from './testing/fixtures.js';

type Unary = (
  req: object,
  opts: object,
  cb: (e: ServiceError | null, r?: { status: string }) => void,
) => void;

function check(client: object, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    (client as { Check: Unary }).Check({ service }, { deadline: Date.now() + 5_000 }, (err, res) =>
      err ? reject(err) : resolve(res!.status),
    );
  });
}

function watch(
  client: object,
  service: string,
): { seen: string[]; stream: ClientReadableStream<{ status: string }> } {
  const stream = (client as { Watch: (r: object) => ClientReadableStream<{ status: string }> }).Watch({
    service,
  });
  const seen: string[] = [];
  stream.on('data', (m: { status: string }) => seen.push(m.status));
  stream.on('error', () => {});
  return { seen, stream };
}

describe('health, drain and reflection', () => {
  it('answers grpc.health.v1 Check and Watch: SERVING once started, NOT_SERVING from drain', async () => {
    await using env = await startEchoServer();
    const health = healthClient(env.address);
    try {
      expect(await check(health, '')).toBe('SERVING');
      expect(await check(health, 'refront.testing.v1.EchoService')).toBe('SERVING');
      await expect(check(health, 'nope.Service')).rejects.toMatchObject({ code: 5 });
      const w = watch(health, 'refront.testing.v1.EchoService');
      await expect.poll(() => w.seen).toEqual(['SERVING']);
      await env.server.drain();
      await expect.poll(() => w.seen).toEqual(['SERVING', 'NOT_SERVING']);
      expect(await check(health, '')).toBe('NOT_SERVING');
      w.stream.cancel();
    } finally {
      health.close();
    }
  });

  it('drains under load: health NOT_SERVING, new calls UNAVAILABLE, every in-flight call finishes', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const inflight = Array.from({ length: 40 }, () => client.sleep({ durationMs: 300 }));
    await expect.poll(() => env.server.dispatcher.inflight, { timeout: 5_000 }).toBe(40);
    const drained = env.server.drain(AbortSignal.timeout(10_000));
    const refused = await rejection(client.echo({ message: 'late' }));
    expect(refused.status).toBe('UNAVAILABLE');
    expect(refused.reason).toBe('CORE_DRAINING');
    expect(refused.retryable).toBe(true);
    expect(refused.unprocessed).toBe(true);
    expect(env.server.ready()).toBe(false);
    const results = await Promise.all(inflight);
    expect(results.every((r) => r.aborted === false)).toBe(true);
    await drained;
    expect(env.server.dispatcher.inflight).toBe(0);
  });

  it('cancels what is still running when the grace period ends', async () => {
    await using env = await startEchoServer();
    await using client = echoClient(env.address, { policy: false });
    const pending = client.sleep({ durationMs: 10_000 });
    await expect.poll(() => env.server.dispatcher.inflight, { timeout: 5_000 }).toBe(1);
    await env.server.drain(AbortSignal.timeout(100));
    const err = await rejection(pending);
    expect(err).toMatchObject({ status: 'UNAVAILABLE', reason: 'CORE_LOST_IN_FLIGHT', unprocessed: false });
    await expect.poll(() => env.sleeps.length).toBe(1);
    expect(env.sleeps[0]?.aborted).toBe(true);
  });

  it('follows the readiness of a core Service, and works as its component', async () => {
    const service = createService({
      name: 'echo',
      version: '1.0.0',
      opsPort: false,
      handleSignals: false,
      logger,
    });
    const states: ServiceState[] = [];
    service.onStateChange((s) => states.push(s));
    const server = createGrpcServer({ service: 'echo', logger, host: '127.0.0.1', readiness: service });
    server.add(EchoServiceDefinition, echoImplementation('svc'));
    let healthDuringStart = '';
    service.use(server);
    service.use({
      name: 'probe',
      start: async () => {
        const h = healthClient(server.address);
        healthDuringStart = await check(h, '');
        h.close();
      },
    });
    await service.start();
    const health = healthClient(server.address);
    try {
      expect(healthDuringStart).toBe('NOT_SERVING');
      expect(await check(health, '')).toBe('SERVING');
      await service.stop();
      expect(states).toContain('draining');
      expect(await check(health, '').catch((e: unknown) => e)).toMatchObject({ code: 14 });
    } finally {
      health.close();
    }
  });

  it('serves reflection from the contract files', async () => {
    await using env = await startEchoServer('r', {
      reflection: {
        protoFiles: ['refront/testing/v1/echo.proto'],
        includeDirs: [CONTRACTS_DIR, VALIDATE_DIR],
      },
    });
    const client = reflectionClient(env.address);
    try {
      const stream = (
        client as unknown as { ServerReflectionInfo: () => NodeJS.ReadWriteStream & { end(): void } }
      ).ServerReflectionInfo();
      const reply = new Promise<{ listServicesResponse?: { service: { name: string }[] } }>(
        (resolve, reject) => {
          stream.on('data', resolve);
          stream.on('error', reject);
        },
      );
      stream.write({ listServices: '' } as never);
      const res = await reply;
      stream.end();
      expect(res.listServicesResponse?.service.map((s) => s.name)).toContain(
        'refront.testing.v1.EchoService',
      );
    } finally {
      client.close();
    }
  });

  it('rejects reflection files that do not load', () => {
    expect(() =>
      createGrpcServer({ service: 'x', logger, reflection: { protoFiles: ['/nope/missing.proto'] } }),
    ).toThrow(/reflection: cannot load/);
  });

  it('close() is idempotent and ends open health watches', async () => {
    const env = await startEchoServer();
    const health = healthClient(env.address);
    const w = watch(health, '');
    await expect.poll(() => w.seen).toEqual(['SERVING']);
    const ended = new Promise<void>((resolve) => {
      w.stream.on('end', resolve);
      w.stream.on('error', () => resolve());
    });
    await Promise.all([env.server.close(), env.server.close()]);
    await ended;
    expect(w.seen).toEqual(['SERVING', 'NOT_SERVING']);
    health.close();
  });
});
