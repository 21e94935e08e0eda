import { createLogger } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { registryFromEnv } from './registryFromEnv.js';
import { ConsulContractServer } from './testing/ConsulContractServer.js';

const tickets = { id: 't-1', service: 'tickets', address: '127.0.0.1', port: 50_051, metadata: {} };

describe('registryFromEnv', () => {
  it('uses Consul at CONSUL_HTTP_ADDR when it is set', async () => {
    await using server = await ConsulContractServer.start();
    await using registry = registryFromEnv({ env: { CONSUL_HTTP_ADDR: `127.0.0.1:${server.port}` } });
    await registry.register(tickets);
    expect(server.service('t-1')?.status).toBe('passing');
  });

  it('uses DNS when Consul is not set and dns is given', async () => {
    await using registry = registryFromEnv({
      env: {},
      logger: createLogger({ service: 'test', level: 'silent' }),
      dns: { tickets: { name: 'tickets.invalid', port: 1 } },
      services: { tickets: [{ address: '10.0.0.1', port: 1 }] },
    });
    // .invalid never resolves (RFC 6761): DNS answers NXDOMAIN, or fails if no server answers.
    const found = await registry.resolve('tickets').catch(() => []);
    expect(found).toEqual([]);
  });

  it('uses the static list when only services are given', async () => {
    await using registry = registryFromEnv({
      env: {},
      services: { tickets: [{ address: '10.0.0.1', port: 1 }] },
    });
    expect((await registry.resolve('tickets')).map((i) => i.address)).toEqual(['10.0.0.1']);
  });

  it('falls back to the in-memory registry, the monolith default', async () => {
    await using registry = registryFromEnv({ env: { CONSUL_HTTP_ADDR: '' } });
    await registry.register(tickets);
    expect(await registry.resolve('tickets')).toEqual([tickets]);
  });
});
