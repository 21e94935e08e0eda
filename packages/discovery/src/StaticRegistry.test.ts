import { isRefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { createStaticRegistry } from './StaticRegistry.js';
import { registryContract } from './testing/registryContract.js';

const services = {
  tickets: [
    { address: '10.0.0.7', port: 50_051 },
    {
      address: '10.0.0.8',
      port: 50_051,
      id: 'tickets-b',
      version: '2.0.0',
      zone: 'b',
      metadata: { protocol: 'grpc' },
    },
  ],
};

registryContract(
  'static',
  { registers: false, seeded: { service: 'tickets', ids: ['tickets-10.0.0.7:50051', 'tickets-b'] } },
  async () => {
    const registry = createStaticRegistry({ services });
    return { registry, [Symbol.asyncDispose]: () => registry.close() };
  },
);

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e: unknown) {
    return isRefrontError(e) ? e.reason : String(e);
  }
  return undefined;
}

describe('createStaticRegistry', () => {
  it('fills id and metadata defaults and keeps the given version, zone and metadata', async () => {
    await using registry = createStaticRegistry({ services });
    expect(await registry.resolve('tickets')).toEqual([
      { id: 'tickets-10.0.0.7:50051', service: 'tickets', address: '10.0.0.7', port: 50_051, metadata: {} },
      {
        id: 'tickets-b',
        service: 'tickets',
        address: '10.0.0.8',
        port: 50_051,
        version: '2.0.0',
        zone: 'b',
        metadata: { protocol: 'grpc' },
      },
    ]);
  });

  it('brackets IPv6 addresses in default ids', async () => {
    await using registry = createStaticRegistry({ services: { a: [{ address: '::1', port: 1 }] } });
    expect((await registry.resolve('a'))[0]?.id).toBe('a-[::1]:1');
  });

  it('rejects an endpoint without a valid port, a duplicate, or a non-object at construction', () => {
    expect(reasonOf(() => createStaticRegistry({ services: { a: [{ address: 'h', port: 0 }] } }))).toBe(
      'CORE_INVALID_OPTION',
    );
    expect(reasonOf(() => createStaticRegistry({ services: { a: [{ address: '', port: 80 }] } }))).toBe(
      'CORE_INVALID_OPTION',
    );
    const twice = {
      a: [
        { address: 'h', port: 80 },
        { address: 'h', port: 80 },
      ],
    };
    expect(reasonOf(() => createStaticRegistry({ services: twice }))).toBe('CORE_INVALID_OPTION');
    expect(reasonOf(() => createStaticRegistry({ services: null as never }))).toBe('CORE_INVALID_OPTION');
  });
});
