import { describe, expect, it } from 'vitest';
import { startGateway } from './testing/fixture.js';

describe('gateway: per-tenant rate limit', () => {
  it("limits a tenant's burst with 429 and Retry-After without limiting other tenants", async () => {
    await using gw = await startGateway({ rateLimit: { max: 3, windowMs: 60_000 } });
    const a = await gw.tokenFor('tenant-a');
    const b = await gw.tokenFor('tenant-b');
    const burst = [];
    for (let i = 0; i < 4; i++) burst.push(await gw.call('GET', '/v1/customers', { token: a }));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    const limited = burst[3]!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(limited.json.error).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
      reason: 'GATEWAY_RATE_LIMITED',
      message: 'the tenant made more than 3 requests in 1 minute',
      retryDelayMs: expect.any(Number),
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(burst[0]!.headers.get('x-ratelimit-limit')).toBe('3');
    expect(burst[0]!.headers.get('x-ratelimit-remaining')).toBe('2');

    // Another user of tenant A shares its budget; tenant B has its own.
    const otherUserOfA = await gw.call('GET', '/v1/customers', { token: await gw.tokenFor('tenant-a') });
    expect(otherUserOfA.status).toBe(429);
    expect((await gw.call('GET', '/v1/customers', { token: b })).status).toBe(200);
    expect(gw.fakes.control.seen.filter((s) => s.tenant === 'tenant-a')).toHaveLength(3);
  });

  it('checks the token before the limit: unauthenticated requests do not spend a tenant budget', async () => {
    await using gw = await startGateway({ rateLimit: { max: 2, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await gw.call('GET', '/v1/customers')).status).toBe(401);
    const token = await gw.tokenFor('acme');
    expect((await gw.call('GET', '/v1/customers', { token })).status).toBe(200);
  });

  it('limits the unauthenticated dev token endpoint per client address', async () => {
    await using gw = await startGateway({
      auth: { devTokens: true },
      rateLimit: { max: 2, windowMs: 60_000 },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await gw.call('POST', '/v1/dev/tokens', { body: { tenant: 'acme', user: 'ann' } })).status,
      );
    }
    expect(statuses).toEqual([201, 201, 429]);
  });

  it('behind a trusted proxy, keys clients by X-Forwarded-For: two clients, one proxy, two buckets', async () => {
    const mint = (gw: Awaited<ReturnType<typeof startGateway>>, client: string) =>
      gw.call('POST', '/v1/dev/tokens', {
        body: { tenant: 'acme', user: 'ann' },
        headers: { 'x-forwarded-for': client },
      });
    // Every request comes from 127.0.0.1, the "proxy"; only the forwarded address differs.
    await using trusted = await startGateway({
      auth: { devTokens: true },
      rateLimit: { max: 2, windowMs: 60_000 },
      trustProxy: ['127.0.0.1'],
    });
    const a = [];
    for (let i = 0; i < 3; i++) a.push((await mint(trusted, '203.0.113.1')).status);
    expect(a).toEqual([201, 201, 429]);
    expect((await mint(trusted, '203.0.113.2')).status).toBe(201);

    // The default (false): the proxy's address is the client, so everyone behind it shares one bucket.
    await using untrusted = await startGateway({
      auth: { devTokens: true },
      rateLimit: { max: 2, windowMs: 60_000 },
    });
    const shared = [];
    for (const client of ['203.0.113.1', '203.0.113.1', '203.0.113.2'])
      shared.push((await mint(untrusted, client)).status);
    expect(shared).toEqual([201, 201, 429]);
  });

  it('counts missing and bad tokens per client address, and past the limit answers 429 without verifying', async () => {
    await using gw = await startGateway({
      authFailureLimit: { max: 3, windowMs: 60_000 },
      trustProxy: ['127.0.0.1'],
    });
    const from = (client: string, token?: string) =>
      gw.call('GET', '/v1/customers', { token, headers: { 'x-forwarded-for': client } });
    const statuses = [];
    statuses.push((await from('198.51.100.7')).status);
    statuses.push((await from('198.51.100.7', 'not-a-jwt')).status);
    statuses.push((await from('198.51.100.7', await gw.tokenFor(''))).status);
    const limited = await from('198.51.100.7', 'guess-4');
    statuses.push(limited.status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(limited.json.error).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
      reason: 'GATEWAY_AUTH_FAILURES_LIMITED',
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Refused before the token is read: even a valid one from that address is 429, and reaches nothing.
    expect((await from('198.51.100.7', await gw.tokenFor('acme'))).status).toBe(429);
    expect(gw.fakes.control.seen).toHaveLength(0);
    // Another address keeps its own count.
    expect((await from('198.51.100.8', 'not-a-jwt')).status).toBe(401);
    expect((await from('198.51.100.8', await gw.tokenFor('acme'))).status).toBe(200);
    expect(gw.fakes.control.seen).toHaveLength(1);
  });

  it('does not count valid tokens against the failure limit', async () => {
    await using gw = await startGateway({ authFailureLimit: { max: 1, windowMs: 60_000 } });
    const token = await gw.tokenFor('acme');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gw.call('GET', '/v1/customers', { token })).status);
    statuses.push((await gw.call('GET', '/v1/customers')).status);
    statuses.push((await gw.call('GET', '/v1/customers', { token })).status);
    expect(statuses).toEqual([200, 200, 200, 401, 429]);
  });
});
