import { ConfigError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { gatewayEnvSchema, gatewayOptionsFromEnv, loadGatewayEnv } from './config.js';

const SECRET = 'x'.repeat(32);
/** A secret as `openssl rand -base64 48` makes one. */
const STRONG = 'q7Vd3kP9zR2mW8xT5nB1cY6hJ4fL0sAeUgKiOoXvNbMtQpZr';

/** The variable and message of every problem `loadGatewayEnv` reports for `env`. */
function problems(env: Record<string, string>): Record<string, string> {
  try {
    loadGatewayEnv(env);
  } catch (e: unknown) {
    if (e instanceof ConfigError)
      return Object.fromEntries(e.violations.map((v) => [v.field, v.description]));
    throw e;
  }
  return {};
}

describe('gateway config', () => {
  it('has documented defaults', () => {
    const env = loadGatewayEnv({ JWT_SECRET: SECRET });
    expect(env).toEqual({
      GATEWAY_PORT: 8080,
      GATEWAY_HOST: '0.0.0.0',
      JWT_SECRET: SECRET,
      DEV_AUTH: false,
      GATEWAY_TRUST_PROXY: false,
      GATEWAY_AUTH_FAILURES_PER_MINUTE: 30,
      RATE_LIMIT_PER_MINUTE: 600,
      GATEWAY_REDIS_PREFIX: 'refront:gateway:',
      GATEWAY_REDIS_TIMEOUT_MS: 100,
    });
    expect(gatewayOptionsFromEnv(env).limitStore).toBeUndefined();
    expect(gatewayOptionsFromEnv(env)).toEqual({
      host: '0.0.0.0',
      port: 8080,
      rateLimit: { max: 600, windowMs: 60_000 },
      authFailureLimit: { max: 30, windowMs: 60_000 },
      trustProxy: false,
      auth: {
        hs256Secret: SECRET,
        jwksUrl: undefined,
        issuer: undefined,
        audience: undefined,
        devTokens: false,
      },
    });
  });

  it('reads every variable', () => {
    const env = loadGatewayEnv({
      GATEWAY_PORT: '9090',
      GATEWAY_HOST: '127.0.0.1',
      JWKS_URL: 'https://id.example.com/jwks.json',
      JWT_ISSUER: 'https://id.example.com/',
      JWT_AUDIENCE: 'api',
      RATE_LIMIT_PER_MINUTE: '60',
    });
    expect(gatewayOptionsFromEnv(env)).toMatchObject({
      host: '127.0.0.1',
      port: 9090,
      rateLimit: { max: 60, windowMs: 60_000 },
      auth: {
        jwksUrl: 'https://id.example.com/jwks.json',
        issuer: 'https://id.example.com/',
        audience: 'api',
      },
    });
    expect(loadGatewayEnv({ DEV_AUTH: 'true' }).DEV_AUTH).toBe(true);
  });

  it('shares the limits through REDIS_URL, under its prefix and timeout; refuses a URL that is not Redis by name', () => {
    const env = loadGatewayEnv({
      JWT_SECRET: SECRET,
      REDIS_URL: 'rediss://:pw@redis.internal:6380',
      GATEWAY_REDIS_PREFIX: 'acme:',
      GATEWAY_REDIS_TIMEOUT_MS: '250',
    });
    expect(gatewayOptionsFromEnv(env).limitStore).toEqual({
      redisUrl: 'rediss://:pw@redis.internal:6380',
      keyPrefix: 'acme:',
      timeoutMs: 250,
    });
    expect(
      gatewayOptionsFromEnv(loadGatewayEnv({ JWT_SECRET: SECRET, REDIS_URL: 'redis://r:6379' })).limitStore,
    ).toEqual({
      redisUrl: 'redis://r:6379',
      keyPrefix: 'refront:gateway:',
      timeoutMs: 100,
    });
    expect(
      problems({
        JWT_SECRET: SECRET,
        REDIS_URL: 'http://redis:6379',
        GATEWAY_REDIS_TIMEOUT_MS: '0',
        GATEWAY_REDIS_PREFIX: '',
      }),
    ).toEqual({
      REDIS_URL: 'must be a redis:// or rediss:// URL',
      GATEWAY_REDIS_TIMEOUT_MS: expect.any(String),
      GATEWAY_REDIS_PREFIX: expect.any(String),
    });
  });

  it('reports every bad variable by name, with the auth combinations', () => {
    const violations = (env: Record<string, string>) => {
      try {
        loadGatewayEnv(env);
      } catch (e: unknown) {
        if (e instanceof ConfigError) return e.violations.map((v) => v.field).sort();
        throw e;
      }
      return [];
    };
    expect(violations({ GATEWAY_PORT: '70000', JWT_SECRET: 'short', RATE_LIMIT_PER_MINUTE: '0' })).toEqual([
      'GATEWAY_PORT',
      'JWT_SECRET',
      'RATE_LIMIT_PER_MINUTE',
    ]);
    expect(violations({})).toEqual(['JWT_SECRET']);
    expect(violations({ JWT_SECRET: SECRET, JWKS_URL: 'https://x/jwks' })).toEqual(['JWKS_URL']);
    expect(violations({ JWKS_URL: 'https://x/jwks', DEV_AUTH: 'true' })).toEqual(['DEV_AUTH']);
    expect(violations({ JWKS_URL: 'not a url' })).toEqual(['JWKS_URL']);
    expect(gatewayEnvSchema.safeParse({ DEV_AUTH: 'maybe' }).success).toBe(false);
  });

  it('reads GATEWAY_TRUST_PROXY as Fastify does: false, true, hops, addresses and CIDRs', () => {
    const read = (v: string) =>
      loadGatewayEnv({ JWT_SECRET: SECRET, GATEWAY_TRUST_PROXY: v }).GATEWAY_TRUST_PROXY;
    expect(read('false')).toBe(false);
    expect(read('true')).toBe(true);
    expect(read('2')).toBe(2);
    expect(read('10.0.0.0/8, 127.0.0.1,fd00::/8,loopback')).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      'fd00::/8',
      'loopback',
    ]);
    for (const bad of ['yes', '10.0.0.0/33', '10.0.0.1,', 'ingress.local', '-1']) {
      expect(problems({ JWT_SECRET: SECRET, GATEWAY_TRUST_PROXY: bad }), bad).toHaveProperty(
        'GATEWAY_TRUST_PROXY',
      );
    }
  });

  describe('with NODE_ENV=production (decision 0067)', () => {
    const prod = {
      NODE_ENV: 'production',
      JWT_ISSUER: 'https://id.refront.test/',
      JWT_AUDIENCE: 'refront-api',
    };

    it('accepts a random secret with iss and aud checked, and a JWKS URL', () => {
      expect(problems({ ...prod, JWT_SECRET: STRONG })).toEqual({});
      expect(problems({ ...prod, JWKS_URL: 'https://id.refront.test/jwks.json' })).toEqual({});
    });

    it('refuses dev tokens at start-up, naming DEV_AUTH', () => {
      expect(problems({ ...prod, JWT_SECRET: STRONG, DEV_AUTH: 'true' })).toEqual({
        DEV_AUTH: 'must be false with NODE_ENV=production: dev tokens are signed for any tenant',
      });
    });

    it('refuses the placeholder of deploy/k8s/secret.yaml, a short and a low-entropy secret', () => {
      expect(problems({ ...prod, JWT_SECRET: 'CHANGE-ME-to-at-least-32-random-characters' })).toEqual({
        JWT_SECRET: 'is refused with NODE_ENV=production: it looks like a placeholder (contains "changeme")',
      });
      expect(Object.keys(problems({ ...prod, JWT_SECRET: STRONG.slice(0, 31) }))).toEqual(['JWT_SECRET']);
      expect(problems({ ...prod, JWT_SECRET: SECRET }).JWT_SECRET).toMatch(/only 1 distinct characters/);
    });

    it('requires JWT_ISSUER and JWT_AUDIENCE', () => {
      expect(problems({ NODE_ENV: 'production', JWT_SECRET: STRONG })).toEqual({
        JWT_ISSUER: 'missing (required with NODE_ENV=production)',
        JWT_AUDIENCE: 'missing (required with NODE_ENV=production)',
      });
    });

    it('allows all of it outside production (createGateway warns instead)', () => {
      for (const NODE_ENV of ['development', 'test', 'Production']) {
        expect(
          problems({ NODE_ENV, DEV_AUTH: 'true', JWT_SECRET: 'CHANGE-ME-to-at-least-32-random-characters' }),
        ).toEqual({});
      }
      expect(problems({ DEV_AUTH: 'true' })).toEqual({});
    });
  });
});
