import { createService, isRefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { createGateway } from './createGateway.js';
import { startGateway } from './testing/fixture.js';

describe('gateway: lifecycle', () => {
  it('runs as a service component: listens on start, is ready, drains on stop', async () => {
    await using gw = await startGateway();
    const service = createService({
      name: 'gateway-host',
      version: '0.0.0',
      opsPort: false,
      handleSignals: false,
      logger: gw.gateway.app.log as never,
    });
    const gateway = await createGateway({
      channel: gw.network.channel(),
      logger: service.logger,
      metrics: service.metrics,
      auth: { devTokens: true },
      host: '127.0.0.1',
      port: 0,
    });
    expect(gateway.ready()).toBe(false);
    service.use(gateway);
    await service.start();
    expect(gateway.ready()).toBe(true);
    const issued = await fetch(`${gateway.url}/v1/dev/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', user: 'ann' }),
    });
    expect(issued.status).toBe(201);
    const { token } = (await issued.json()) as { token: string };

    // A request in flight when the stop begins still gets its answer before the gateway closes.
    gw.fakes.control.hang.add('ListCustomers');
    const pending = fetch(`${gateway.url}/v1/customers`, { headers: { authorization: `Bearer ${token}` } });
    await expect.poll(() => gw.fakes.control.seen.length).toBe(1);
    const stopping = service.stop();
    expect(gateway.ready()).toBe(false);
    await expect.poll(() => service.state).toBe('draining');
    gw.fakes.control.releaseHung();
    expect((await pending).status).toBe(200);
    await stopping;
    expect(service.state).toBe('stopped');
    await expect(fetch(`${gateway.url}/v1/customers`)).rejects.toThrow();
  });

  it('refuses unusable options at construction', async () => {
    await using gw = await startGateway();
    const base = { channel: gw.network.channel(), logger: gw.gateway.app.log as never, metrics: gw.metrics };
    for (const bad of [
      { auth: {} },
      { auth: { devTokens: true }, port: 70_000 },
      { auth: { devTokens: true }, rateLimit: { max: 0, windowMs: 1_000 } },
      { auth: { devTokens: true }, bodyLimitBytes: -1 },
      { auth: { devTokens: true }, requestTimeoutMs: 0 },
      { auth: { devTokens: true }, limitStore: { redisUrl: 'http://127.0.0.1:6379' } },
      { auth: { devTokens: true }, limitStore: { redisUrl: 'not a url' } },
      { auth: { devTokens: true }, limitStore: { redisUrl: 'redis://127.0.0.1:6379', timeoutMs: 0 } },
    ]) {
      const err = await createGateway({ ...base, ...bad }).catch((e: unknown) => e);
      expect(isRefrontError(err) && err.reason, JSON.stringify(bad)).toBe('CORE_INVALID_OPTION');
    }
  });

  it('closes idempotently and refuses to listen once closed', async () => {
    await using gw = await startGateway();
    await Promise.all([gw.gateway.close(), gw.gateway.close()]);
    expect(gw.gateway.ready()).toBe(false);
    await expect(gw.gateway.listen()).rejects.toMatchObject({ status: 'FAILED_PRECONDITION' });
  });
});
