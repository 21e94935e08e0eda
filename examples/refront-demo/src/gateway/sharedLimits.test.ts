import { Writable } from 'node:stream';
import { refusingAddress } from '@refront/conformance';
import { createLogger } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { LIMIT_STORE_ERRORS_METRIC } from './limitStore.js';
import { type GatewayFixture, startGateway } from './testing/fixture.js';
import { REDIS_TEST_URL, redisAvailable, redisPrefix, startOwnRedis } from './testing/redis.js';

const infra = await redisAvailable();

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: { level: string; msg: string }[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: createLogger({ service: 'gateway-test', level: 'info', destination }), lines };
}

async function storeErrors(gw: GatewayFixture, limit: string): Promise<number> {
  const metric = await gw.metrics.getSingleMetric(LIMIT_STORE_ERRORS_METRIC)?.get();
  return metric?.values.find((v) => v.labels.limit === limit)?.value ?? 0;
}

const minute = 60_000;

describe.skipIf(!infra)('gateway: limits shared by replicas through Redis', () => {
  it('two gateways on one Redis allow a tenant N requests in all, not N each; other tenants keep theirs', async () => {
    await using keys = await redisPrefix();
    // A generous timeout: these cases are about sharing, and a loaded machine must not turn them local.
    const limitStore = { redisUrl: REDIS_TEST_URL, keyPrefix: keys.prefix, timeoutMs: 2_000 };
    await using a = await startGateway({ rateLimit: { max: 4, windowMs: minute }, limitStore });
    await using b = await startGateway({ rateLimit: { max: 4, windowMs: minute }, limitStore });
    const token = await a.tokenFor('tenant-a');
    const answers = [];
    for (let i = 0; i < 8; i++)
      answers.push(await (i % 2 === 0 ? a : b).call('GET', '/v1/customers', { token }));
    console.log('alternating A/B, limit 4:', answers.map((r) => r.status).join(' '));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    for (const limited of answers.slice(4)) {
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(limited.json.error).toMatchObject({
        status: 'RESOURCE_EXHAUSTED',
        reason: 'GATEWAY_RATE_LIMITED',
        message: 'the tenant made more than 4 requests in 1 minute',
        retryDelayMs: expect.any(Number),
      });
    }
    expect(answers.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual([
      '3',
      '2',
      '1',
      '0',
      '0',
      '0',
      '0',
      '0',
    ]);
    // Counted where the requests land: four reached the services, two through each gateway.
    const served = [a, b].map((g) => g.fakes.control.seen.filter((s) => s.tenant === 'tenant-a').length);
    expect(served).toEqual([2, 2]);

    const other = await b.tokenFor('tenant-b');
    expect((await b.call('GET', '/v1/customers', { token: other })).status).toBe(200);
    expect((await a.call('GET', '/v1/customers', { token: other })).status).toBe(200);
    expect(await keys.keys()).toEqual([
      `${keys.prefix}requests:tenant:tenant-a`,
      `${keys.prefix}requests:tenant:tenant-b`,
    ]);
    expect(await storeErrors(a, 'requests')).toBe(0);
  });

  it('two gateways on one Redis count one address’s failed authentications together', async () => {
    await using keys = await redisPrefix();
    const options = {
      authFailureLimit: { max: 3, windowMs: minute },
      trustProxy: ['127.0.0.1'],
      limitStore: { redisUrl: REDIS_TEST_URL, keyPrefix: keys.prefix, timeoutMs: 2_000 },
    };
    await using a = await startGateway(options);
    await using b = await startGateway(options);
    const from = (gw: GatewayFixture, client: string, token: string | undefined) =>
      gw.call('GET', '/v1/customers', { token, headers: { 'x-forwarded-for': client } });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await from(i % 2 === 0 ? a : b, '198.51.100.7', `guess-${i}`)).status);
    console.log('alternating A/B bad tokens, limit 3:', statuses.join(' '));
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Refused on either gateway before the token is read, even a valid one.
    const limited = await from(b, '198.51.100.7', await b.tokenFor('acme'));
    expect(limited.status).toBe(429);
    expect(limited.json.error).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
      reason: 'GATEWAY_AUTH_FAILURES_LIMITED',
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(a.fakes.control.seen.length + b.fakes.control.seen.length).toBe(0);
    // Another address is not affected.
    expect((await from(a, '198.51.100.8', await a.tokenFor('acme'))).status).toBe(200);
    expect(await keys.keys()).toContain(`${keys.prefix}auth-failures:198.51.100.7`);
  });

  it('with Redis refusing connections, starts and limits each replica on its own, counting and logging the failure once', async () => {
    const { logger, lines } = capturedLogger();
    const dead = await refusingAddress();
    await using gw = await startGateway({
      logger,
      rateLimit: { max: 2, windowMs: minute },
      limitStore: { redisUrl: `redis://${dead}`, keyPrefix: 'unused:' },
    });
    const token = await gw.tokenFor('acme');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gw.call('GET', '/v1/customers', { token })).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Each protected request also asks the failure count first (one more decision Redis missed).
    expect(await storeErrors(gw, 'requests')).toBe(3);
    expect(await storeErrors(gw, 'auth-failures')).toBe(3);
    const warnings = lines.filter((l) => l.level === 'warn' && l.msg.includes('shared store'));
    expect(warnings).toHaveLength(1);
  });

  it('when Redis freezes mid-traffic, answers from its own count instead of waiting, then shares again once Redis is back', async () => {
    await using redis = await startOwnRedis();
    const { logger, lines } = capturedLogger();
    const limitStore = { redisUrl: redis.url, timeoutMs: 200 };
    await using a = await startGateway({ logger, rateLimit: { max: 3, windowMs: minute }, limitStore });
    await using b = await startGateway({ rateLimit: { max: 3, windowMs: minute }, limitStore });
    const token = await a.tokenFor('acme');
    const get = (gw: GatewayFixture) => gw.call('GET', '/v1/customers', { token });
    expect((await get(a)).status).toBe(200);
    expect((await get(b)).status).toBe(200); // two of three shared

    redis.freeze();
    // Each replica now counts alone from zero: A gets three more, the fourth is refused.
    const frozen = [];
    for (let i = 0; i < 4; i++) frozen.push((await get(a)).status);
    expect(frozen).toEqual([200, 200, 200, 429]);
    expect(await storeErrors(a, 'requests')).toBe(4);
    expect(lines.filter((l) => l.level === 'warn' && l.msg.includes('shared store'))).toHaveLength(1);

    redis.thaw();
    // Back on the shared count: another tenant's requests through both replicas make one count.
    const other = await a.tokenFor('globex');
    const shared = [];
    for (let i = 0; i < 4; i++)
      shared.push((await (i % 2 === 0 ? a : b).call('GET', '/v1/customers', { token: other })).status);
    expect(shared).toEqual([200, 200, 200, 429]);
    expect(await storeErrors(a, 'requests')).toBe(4);
    expect(lines.filter((l) => l.msg.includes('shared again'))).toHaveLength(1);
  });
});
