import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { createLogger, isRefrontError } from '@refront/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createDnsRegistry,
  DEFAULT_DNS_REFRESH_INTERVAL_MS,
  type DnsAnswer,
  type DnsLookup,
} from './DnsRegistry.js';
import { recordWatch } from './testing/collect.js';
import { registryContract } from './testing/registryContract.js';

const NAME = 'tickets.default.svc.cluster.local';

function dnsError(code: string): Error {
  return Object.assign(new Error(`query failed: ${code}`), { code });
}

/** A lookup the test scripts: answers per call, or an error to throw. */
function scripted(initial: readonly DnsAnswer[] | Error) {
  let next: readonly DnsAnswer[] | Error = initial;
  const calls: string[] = [];
  const lookup: DnsLookup = async (name, type) => {
    calls.push(`${type} ${name}`);
    if (next instanceof Error) throw next;
    return next;
  };
  return {
    lookup,
    calls,
    answer: (a: readonly DnsAnswer[] | Error) => {
      next = a;
    },
  };
}

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

registryContract(
  'dns',
  {
    registers: false,
    seeded: { service: 'tickets', ids: ['tickets-10.0.0.7:50051', 'tickets-10.0.0.8:50051'] },
  },
  async () => {
    const { lookup } = scripted([{ address: '10.0.0.7' }, { address: '10.0.0.8' }]);
    const registry = createDnsRegistry({ services: { tickets: { name: NAME, port: 50_051 } }, lookup });
    return { registry, [Symbol.asyncDispose]: () => registry.close() };
  },
);

describe('createDnsRegistry', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('looks the name up again every refreshIntervalMs and a running watch sees the change', async () => {
    const dns = scripted([{ address: '10.0.0.7' }]);
    await using registry = createDnsRegistry({
      services: { tickets: { name: NAME, port: 50_051 } },
      lookup: dns.lookup,
      refreshIntervalMs: 20,
    });
    await using rec = recordWatch((signal) => registry.watch('tickets', { signal }));
    await expect.poll(() => rec.latestIds()).toEqual(['tickets-10.0.0.7:50051']);
    dns.answer([{ address: '10.0.0.7' }, { address: '10.0.0.9' }]);
    await expect.poll(() => rec.latestIds()).toEqual(['tickets-10.0.0.7:50051', 'tickets-10.0.0.9:50051']);
    expect(dns.calls[0]).toBe(`A ${NAME}`);
  });

  it(`refreshes every ${DEFAULT_DNS_REFRESH_INTERVAL_MS} ms by default`, async () => {
    vi.useFakeTimers();
    const dns = scripted([{ address: '10.0.0.7' }]);
    await using registry = createDnsRegistry({
      services: { tickets: { name: NAME, port: 1 } },
      lookup: dns.lookup,
    });
    await registry.resolve('tickets');
    await vi.advanceTimersByTimeAsync(DEFAULT_DNS_REFRESH_INTERVAL_MS - 1);
    expect(dns.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(dns.calls).toHaveLength(2);
  });

  it('keeps the last good set when a lookup fails, and logs the failure', async () => {
    const dns = scripted([{ address: '10.0.0.7' }]);
    const { logger, lines } = capturedLogger();
    await using registry = createDnsRegistry({
      services: { tickets: { name: NAME, port: 50_051 } },
      lookup: dns.lookup,
      refreshIntervalMs: 10,
      logger,
    });
    await using rec = recordWatch((signal) => registry.watch('tickets', { signal }));
    await expect.poll(() => rec.sets.length).toBe(1);
    dns.answer(dnsError('ETIMEOUT'));
    await expect
      .poll(() => lines.filter((l) => l.msg === 'DNS lookup failed; keeping the last good set').length)
      .toBeGreaterThan(1);
    const logged = lines.find((l) => l.level === 'warn');
    expect(logged).toMatchObject({
      target: 'tickets',
      name: NAME,
      keptInstances: 1,
      err: { code: 'ETIMEOUT' },
    });
    expect((await registry.resolve('tickets')).map((i) => i.id)).toEqual(['tickets-10.0.0.7:50051']);
    dns.answer(dnsError('ENOTFOUND'));
    await new Promise((r) => setTimeout(r, 50));
    expect(rec.sets).toHaveLength(1);
  });

  it('throws DISCOVERY_UNREACHABLE when the first lookup fails and nothing was resolved before', async () => {
    const dns = scripted(dnsError('ECONNREFUSED'));
    await using registry = createDnsRegistry({
      services: { tickets: { name: NAME, port: 1 } },
      lookup: dns.lookup,
      logger: capturedLogger().logger,
    });
    const e = await registry.resolve('tickets').catch((x: unknown) => x);
    expect(isRefrontError(e) && [e.status, e.reason, e.retryable]).toEqual([
      'UNAVAILABLE',
      'DISCOVERY_UNREACHABLE',
      true,
    ]);
    expect(isRefrontError(e) && (e.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('resolves to an empty set when DNS first answers that the name does not exist', async () => {
    const dns = scripted(dnsError('ENOTFOUND'));
    await using registry = createDnsRegistry({
      services: { tickets: { name: NAME, port: 1 } },
      lookup: dns.lookup,
      logger: capturedLogger().logger,
    });
    expect(await registry.resolve('tickets')).toEqual([]);
  });

  it('takes ports, priority and weight from SRV records and addresses from AAAA records', async () => {
    const srv = scripted([
      { address: 'pod-a.tickets.default.svc.cluster.local', port: 50_051, priority: 10, weight: 5 },
    ]);
    const aaaa = scripted([{ address: 'fd00::7' }]);
    await using a = createDnsRegistry({
      services: { t: { name: `_grpc._tcp.${NAME}`, type: 'SRV' } },
      lookup: srv.lookup,
    });
    await using b = createDnsRegistry({
      services: { t: { name: NAME, type: 'AAAA', port: 9 } },
      lookup: aaaa.lookup,
    });
    expect(await a.resolve('t')).toEqual([
      {
        id: 't-pod-a.tickets.default.svc.cluster.local:50051',
        service: 't',
        address: 'pod-a.tickets.default.svc.cluster.local',
        port: 50_051,
        metadata: { 'dns.name': `_grpc._tcp.${NAME}`, 'dns.priority': '10', 'dns.weight': '5' },
      },
    ]);
    expect(srv.calls).toEqual([`SRV _grpc._tcp.${NAME}`]);
    expect((await b.resolve('t'))[0]).toMatchObject({ id: 't-[fd00::7]:9', address: 'fd00::7', port: 9 });
  });

  it('rejects bad service entries and intervals at construction with CORE_INVALID_OPTION', () => {
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e: unknown) {
        return isRefrontError(e) ? e.reason : String(e);
      }
      return 'no error';
    };
    const lookup = scripted([]).lookup;
    expect(reason(() => createDnsRegistry({ services: { t: { name: NAME } }, lookup }))).toBe(
      'CORE_INVALID_OPTION',
    );
    expect(
      reason(() => createDnsRegistry({ services: { t: { name: NAME, type: 'SRV', port: 1 } }, lookup })),
    ).toBe('CORE_INVALID_OPTION');
    expect(reason(() => createDnsRegistry({ services: { t: { name: '', port: 1 } }, lookup }))).toBe(
      'CORE_INVALID_OPTION',
    );
    expect(
      reason(() =>
        createDnsRegistry({ services: { t: { name: NAME, port: 1 } }, lookup, refreshIntervalMs: 0 }),
      ),
    ).toBe('CORE_INVALID_OPTION');
  });

  it('uses node:dns by default and gives a typed error when the DNS server does not answer', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const port = (socket.address() as AddressInfo).port;
    socket.close();
    await using registry = createDnsRegistry({
      services: { tickets: { name: NAME, port: 1 } },
      servers: [`127.0.0.1:${port}`],
      queryTimeoutMs: 100,
      logger: capturedLogger().logger,
    });
    const e = await registry.resolve('tickets').catch((x: unknown) => x);
    expect(isRefrontError(e) && e.reason).toBe('DISCOVERY_UNREACHABLE');
  });
});
