import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, isRefrontError, type ServiceInstance } from '@refront/core';
import { describe, expect, it } from 'vitest';
import {
  type ConsulRegistryOptions,
  createConsulRegistry,
  DEFAULT_CONSUL_WAIT_MS,
} from './ConsulRegistry.js';
import { ConsulContractServer } from './testing/ConsulContractServer.js';
import { recordWatch } from './testing/collect.js';
import { registryContract } from './testing/registryContract.js';

const silent = createLogger({ service: 'test', level: 'silent' });
const fast: ConsulRegistryOptions = {
  waitMs: 500,
  retryBaseDelayMs: 20,
  retryMaxDelayMs: 200,
  logger: silent,
};

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'warn',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

const tickets = (n: number, extra: Partial<ServiceInstance> = {}): ServiceInstance => ({
  id: `tickets-${n}`,
  service: 'tickets',
  address: '127.0.0.1',
  port: 50_000 + n,
  metadata: {},
  ...extra,
});

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e: unknown) {
    return isRefrontError(e) ? e.reason : `not a RefrontError: ${String(e)}`;
  }
  return 'resolved';
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function withServer() {
  const server = await ConsulContractServer.start();
  const registry = createConsulRegistry({ url: server.url, ...fast });
  return {
    server,
    registry,
    async [Symbol.asyncDispose]() {
      await registry.close();
      await server.close();
    },
  };
}

registryContract(
  'consul (contract server)',
  { registers: true, reapsQuickly: true, observes: true },
  async () => {
    const server = await ConsulContractServer.start();
    const registry = createConsulRegistry({ url: server.url, ...fast });
    const observer = createConsulRegistry({ url: server.url, ...fast });
    return {
      registry,
      observer,
      async [Symbol.asyncDispose]() {
        await registry.close();
        await observer.close();
        await server.close();
      },
    };
  },
);

describe.skipIf(!process.env.CONSUL_HTTP_ADDR)('real Consul agent (set CONSUL_HTTP_ADDR to run)', () => {
  registryContract(
    'consul (agent at CONSUL_HTTP_ADDR)',
    { registers: true, checkIntervalMs: 1_000, observes: true },
    async () => {
      const options = { url: process.env.CONSUL_HTTP_ADDR, token: process.env.CONSUL_HTTP_TOKEN, ...fast };
      const registry = createConsulRegistry(options);
      const observer = createConsulRegistry(options);
      return {
        registry,
        observer,
        async [Symbol.asyncDispose]() {
          await registry.close();
          await observer.close();
        },
      };
    },
  );
});

describe('createConsulRegistry', () => {
  it('heartbeats a TTL check every ttl/3 so it stays passing, and stops after deregister', async () => {
    await using t = await withServer();
    const reg = await t.registry.register(tickets(1), { check: { kind: 'ttl', ttlMs: 150 } });
    expect(t.server.service('tickets-1')?.status).toBe('passing');
    await new Promise((r) => setTimeout(r, 450));
    expect(t.server.service('tickets-1')?.status).toBe('passing');
    const beats = () =>
      t.server.requests.filter((r) => r.startsWith('PUT /v1/agent/check/pass/service%3Atickets-1'));
    expect(beats().length).toBeGreaterThanOrEqual(5);
    await reg.deregister();
    const after = beats().length;
    await new Promise((r) => setTimeout(r, 200));
    expect(beats().length).toBe(after);
    expect(t.server.service('tickets-1')).toBeUndefined();
  });

  it('drops a critical TTL instance from a running watch; the next heartbeat brings it back', async () => {
    await using t = await withServer();
    await t.registry.register(tickets(1), { check: { kind: 'ttl', ttlMs: 600 } });
    await using rec = recordWatch((signal) => t.registry.watch('tickets', { signal }));
    await expect.poll(() => rec.latestIds()).toEqual(['tickets-1']);
    t.server.setCheck('service:tickets-1', 'critical');
    await expect.poll(() => rec.latestIds()).toEqual([]);
    await expect.poll(() => rec.latestIds(), { timeout: 2_000 }).toEqual(['tickets-1']);
  });

  it('resumes a watch after the agent restarts empty, and the heartbeat registers the instance again', async () => {
    await using t = await withServer();
    const { logger, lines } = capturedLogger();
    await using registry = createConsulRegistry({ url: t.server.url, ...fast, logger });
    await registry.register(tickets(1), { check: { kind: 'ttl', ttlMs: 300 } });
    await using rec = recordWatch((signal) => registry.watch('tickets', { signal }));
    await expect.poll(() => rec.latestIds()).toEqual(['tickets-1']);
    await t.server.restart();
    await expect.poll(() => t.server.service('tickets-1')?.status, { timeout: 3_000 }).toBe('passing');
    await expect.poll(() => rec.latestIds(), { timeout: 3_000 }).toEqual(['tickets-1']);
    expect(lines.some((l) => l.msg === 'consul heartbeat failed' && l.reregister === true)).toBe(true);
    await registry.deregister('tickets-1');
    await expect.poll(() => rec.latestIds(), { timeout: 3_000 }).toEqual([]);
  });

  it('resumes a watch after the agent restarts with its state and an index that went backwards', async () => {
    await using t = await withServer();
    await t.registry.register(tickets(1));
    await t.registry.register(tickets(2));
    for (let i = 3; i < 30; i++) await t.registry.register(tickets(i, { service: 'other' }));
    await using rec = recordWatch((signal) => t.registry.watch('tickets', { signal }));
    await expect.poll(() => rec.latestIds()).toEqual(['tickets-1', 'tickets-2']);
    await t.server.restart({ keepState: true });
    await t.registry.deregister('tickets-2');
    await expect.poll(() => rec.latestIds(), { timeout: 5_000 }).toEqual(['tickets-1']);
    const queries = t.server.requests.filter((r) => r.startsWith('GET /v1/health/service/tickets'));
    expect(queries.some((q) => q.includes('index=0&'))).toBe(true);
  });

  it('fails with DISCOVERY_UNREACHABLE when nothing listens, and a watch recovers once the agent is up', async () => {
    const port = await closedPort();
    const { logger, lines } = capturedLogger();
    await using registry = createConsulRegistry({ port, ...fast, logger });
    const e = await registry.resolve('tickets').catch((x: unknown) => x);
    expect(isRefrontError(e) && [e.status, e.reason, e.retryable]).toEqual([
      'UNAVAILABLE',
      'DISCOVERY_UNREACHABLE',
      true,
    ]);
    expect(await reasonOf(registry.register(tickets(1)))).toBe('DISCOVERY_UNREACHABLE');
    await using rec = recordWatch((signal) => registry.watch('tickets', { signal }));
    await expect
      .poll(
        () => lines.filter((l) => l.msg === 'consul watch query failed; keeping the last good set').length,
      )
      .toBeGreaterThan(1);
    await using server = await ConsulContractServer.start(port);
    await using other = createConsulRegistry({ port, ...fast });
    await other.register(tickets(1));
    await expect.poll(() => rec.latestIds(), { timeout: 3_000 }).toEqual(['tickets-1']);
    expect(server.port).toBe(port);
  });

  it('fails with DISCOVERY_BAD_RESPONSE on malformed JSON, a wrong shape or a missing index', async () => {
    await using t = await withServer();
    for (const fault of ['malformed-json', 'wrong-shape', 'no-index'] as const) {
      t.server.fault(fault);
      const e = await t.registry.resolve('tickets').catch((x: unknown) => x);
      expect(isRefrontError(e) && [e.status, e.reason, e.retryable]).toEqual([
        'UNAVAILABLE',
        'DISCOVERY_BAD_RESPONSE',
        false,
      ]);
    }
    t.server.fault('http-500');
    expect(await reasonOf(t.registry.resolve('tickets'))).toBe('DISCOVERY_UNREACHABLE');
    expect(await t.registry.resolve('tickets')).toEqual([]);
  });

  it('fails with DISCOVERY_REJECTED, INTERNAL whatever the 4xx, when the agent refuses the request', async () => {
    await using t = await withServer();
    t.server.fault('http-403');
    const e = await t.registry.resolve('tickets').catch((x: unknown) => x);
    // A bad ACL token is the service's configuration, not its caller's: never a 403 at the gateway.
    expect(isRefrontError(e) && [e.status, e.reason, e.retryable, e.details.metadata]).toEqual([
      'INTERNAL',
      'DISCOVERY_REJECTED',
      false,
      { httpStatus: '403' },
    ]);
    expect(await t.registry.resolve('tickets')).toEqual([]);
  });

  it('keeps the last good set through malformed answers in a watch, logs them, and goes on', async () => {
    await using t = await withServer();
    const { logger, lines } = capturedLogger();
    await using registry = createConsulRegistry({ url: t.server.url, ...fast, logger });
    await registry.register(tickets(1));
    await using rec = recordWatch((signal) => registry.watch('tickets', { signal }));
    await expect.poll(() => rec.latestIds()).toEqual(['tickets-1']);
    t.server.fault('malformed-json', 2);
    t.server.fault('wrong-shape', 1);
    await registry.register(tickets(2));
    await expect.poll(() => rec.latestIds(), { timeout: 3_000 }).toEqual(['tickets-1', 'tickets-2']);
    expect(rec.sets.map((s) => s.length)).toEqual([1, 2]);
    const reasons = lines.map((l) => (l.err as { reason?: string } | undefined)?.reason);
    expect(reasons.filter((r) => r === 'DISCOVERY_BAD_RESPONSE')).toHaveLength(3);
  });

  it('aborts the in-flight blocking query when a watch is stopped', async () => {
    await using t = await withServer();
    await using registry = createConsulRegistry({ url: t.server.url, logger: silent });
    const rec = recordWatch((signal) => registry.watch('tickets', { signal }));
    await expect.poll(() => rec.sets.length).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await rec.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(t.server.requests.at(-1)).toContain(`wait=${DEFAULT_CONSUL_WAIT_MS}ms`);
  });

  it('maps deregisterCriticalAfterMs to DeregisterCriticalServiceAfter, so the agent reaps it', async () => {
    await using t = await withServer();
    await t.registry.register(tickets(1), {
      check: { kind: 'ttl', ttlMs: 60_000 },
      deregisterCriticalAfterMs: 100,
    });
    t.server.setCheck('service:tickets-1', 'critical');
    await expect.poll(() => t.server.service('tickets-1'), { timeout: 2_000 }).toBeUndefined();
  });

  it('rejects metadata keys Consul does not accept with DISCOVERY_INVALID_INSTANCE', async () => {
    await using t = await withServer();
    const e = await t.registry
      .register(tickets(1, { metadata: { 'dns.name': 'x' } }))
      .catch((x: unknown) => x);
    expect(isRefrontError(e) && e.details.fieldViolations?.[0]?.field).toBe('metadata.dns.name');
    expect(t.server.requests).toEqual([]);
  });

  it('accepts CONSUL_HTTP_ADDR forms with and without a scheme', async () => {
    await using t = await withServer();
    await using bare = createConsulRegistry({ url: `127.0.0.1:${t.server.port}`, ...fast });
    expect(await bare.resolve('tickets')).toEqual([]);
  });

  it('defaults to 127.0.0.1:8500', async () => {
    await using registry = createConsulRegistry({ logger: silent, requestTimeoutMs: 500 });
    const e = await registry.resolve('tickets').catch((x: unknown) => x);
    expect(isRefrontError(e) && e.cause).toMatchObject({
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 8500,
    });
    expect(isRefrontError(e) ? e.reason : e).toBe('DISCOVERY_UNREACHABLE');
  });

  it('rejects bad options at construction with CORE_INVALID_OPTION', () => {
    const reason = (o: ConsulRegistryOptions) => {
      try {
        createConsulRegistry(o);
      } catch (e: unknown) {
        return isRefrontError(e) ? e.reason : String(e);
      }
      return 'no error';
    };
    expect(reason({ url: 'http://a:1', port: 2 })).toBe('CORE_INVALID_OPTION');
    expect(reason({ url: 'ftp://a:1' })).toBe('CORE_INVALID_OPTION');
    expect(reason({ port: 70_000 })).toBe('CORE_INVALID_OPTION');
    expect(reason({ waitMs: 600_001 })).toBe('CORE_INVALID_OPTION');
    expect(reason({ requestTimeoutMs: 0 })).toBe('CORE_INVALID_OPTION');
    expect(reason({ retryBaseDelayMs: -1 })).toBe('CORE_INVALID_OPTION');
  });
});
