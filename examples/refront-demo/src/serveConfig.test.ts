import { ConfigError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { identityFromEnv } from './platform/serviceIdentity.js';
import { loadServeConfig, serveConfig, serviceOptionsFromEnv } from './serveConfig.js';

/** The identity files every service process needs with MTLS=on (the default). */
const TLS = { TLS_CA_FILE: '/tls/ca.crt', TLS_CERT_FILE: '/tls/tls.crt', TLS_KEY_FILE: '/tls/tls.key' };

/**
 * A service's environment with its identity files (mutual TLS, the default) and the URL of its own
 * broker user (ownership, the default).
 */
function own(service: string): Record<string, string> {
  return { ...TLS, SERVICE: service, AMQP_URL: `amqp://${service}:dev-only-${service}@127.0.0.1:5672` };
}

/** The fields of every problem `loadServeConfig` reports for `env`, sorted. */
function violations(env: Record<string, string>): string[] {
  try {
    loadServeConfig(env);
  } catch (e: unknown) {
    if (e instanceof ConfigError) return e.violations.map((v) => v.field).sort();
    throw e;
  }
  return [];
}

describe('the config of a service process (serve.ts)', () => {
  it('requires the identity files unless MTLS=off, naming each missing one; checks the trust domain', () => {
    expect(violations({ ...own('tickets'), TLS_CA_FILE: '', TLS_CERT_FILE: '', TLS_KEY_FILE: '' })).toEqual([
      'TLS_CA_FILE',
      'TLS_CERT_FILE',
      'TLS_KEY_FILE',
    ]);
    expect(violations({ SERVICE: 'gateway', DEV_AUTH: 'true', TLS_CA_FILE: '/ca' })).toEqual([
      'TLS_CERT_FILE',
      'TLS_KEY_FILE',
    ]);
    expect(violations({ SERVICE: 'tickets', AMQP_OWNERSHIP: 'off', MTLS: 'off' })).toEqual([]);
    expect(violations({ ...own('tickets'), MTLS: 'yes' })).toEqual(['MTLS']);
    expect(violations({ ...own('tickets'), TRUST_DOMAIN: 'Not A Domain' })).toEqual(['TRUST_DOMAIN']);
    const cfg = loadServeConfig({ ...own('tickets'), TRUST_DOMAIN: 'prod.example.com' });
    expect(identityFromEnv(cfg)).toEqual({
      files: { caFile: '/tls/ca.crt', certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' },
      trustDomain: 'prod.example.com',
    });
    expect(identityFromEnv(loadServeConfig({ ...own('tickets'), MTLS: 'off' }))).toBeUndefined();
  });

  it('has documented defaults: calls on mux, serves gRPC and mux on free ports', () => {
    expect(loadServeConfig(own('tickets'))).toEqual({
      ...own('tickets'),
      MTLS: 'on',
      TRUST_DOMAIN: 'refront.local',
      SERVICE_VERSION: '0.1.0',
      AMQP_URL: 'amqp://tickets:dev-only-tickets@127.0.0.1:5672',
      AMQP_NAMESPACE: 'refront',
      AMQP_OWNERSHIP: 'on',
      AMQP_USER_PREFIX: '',
      CONSOLE_EXPLORER: 'on',
      DATABASE_POOL_SIZE: 10,
      GRPC_HOST: '0.0.0.0',
      GRPC_PORT: 0,
      REFRONT_RPC: 'mux',
      MUX_PORT: 0,
      ADVERTISE_HOST: '127.0.0.1',
      OPS_PORT: 9464,
      GRACE_PERIOD_MS: 10_000,
      CONSOLE_HOST: '127.0.0.1',
      CONSOLE_PORT: 4318,
      GATEWAY_PORT: 8080,
      GATEWAY_HOST: '0.0.0.0',
      DEV_AUTH: false,
      GATEWAY_TRUST_PROXY: false,
      GATEWAY_AUTH_FAILURES_PER_MINUTE: 30,
      RATE_LIMIT_PER_MINUTE: 600,
      GATEWAY_REDIS_PREFIX: 'refront:gateway:',
      GATEWAY_REDIS_TIMEOUT_MS: 100,
      SMTP_PORT: 587,
      SMTP_SECURE: false,
      SMTP_FROM: 'notifications@refront.example',
      NOTIFICATIONS_LEASE_MS: 30_000,
    });
  });

  it('runs the console as an operator identity: its own identity files unless MTLS=off, no broker user of a service', () => {
    const amqp = { SERVICE: 'console', AMQP_URL: 'amqp://refront.console:x@127.0.0.1:5672' };
    // It calls the services (the API explorer), so it proves who it is like every other caller.
    expect(violations(amqp)).toEqual(['TLS_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE']);
    const cfg = loadServeConfig({ ...amqp, ...TLS, GATEWAY_URL: 'http://gateway:8080' });
    expect([cfg.SERVICE, cfg.MTLS, cfg.CONSOLE_PORT, cfg.REFRONT_CONSOLE_TOKEN]).toEqual([
      'console',
      'on',
      4318,
      undefined,
    ]);
    expect(identityFromEnv(cfg)?.files.certFile).toBe('/tls/tls.crt');
    expect([cfg.GATEWAY_URL, cfg.CONSOLE_EXPLORER]).toEqual(['http://gateway:8080', 'on']);
    expect(loadServeConfig({ ...amqp, MTLS: 'off' }).GATEWAY_URL).toBeUndefined();
    expect(loadServeConfig({ ...amqp, MTLS: 'off', CONSOLE_EXPLORER: 'off' }).CONSOLE_EXPLORER).toBe('off');
    expect(violations({ ...amqp, MTLS: 'off', CONSOLE_EXPLORER: 'no' })).toEqual(['CONSOLE_EXPLORER']);
    expect(violations({ ...amqp, MTLS: 'off', GATEWAY_URL: 'gateway:8080' })).toEqual(['GATEWAY_URL']);
  });

  it('reads MUX_PORT, 0 when asked for (a free port, for Consul), and off (no mux server)', () => {
    expect(loadServeConfig({ ...own('tickets'), MUX_PORT: '51051' }).MUX_PORT).toBe(51051);
    expect(loadServeConfig({ ...own('tickets'), MUX_PORT: '0' }).MUX_PORT).toBe(0);
    expect(loadServeConfig({ ...own('tickets'), MUX_PORT: 'off' }).MUX_PORT).toBe('off');
  });

  it('reads an empty MUX_PORT as unset: mux stays on, on a free port', () => {
    expect(loadServeConfig({ ...own('tickets'), MUX_PORT: '' }).MUX_PORT).toBe(0);
    expect(loadServeConfig({ ...own('tickets'), MUX_PORT: '  ' }).MUX_PORT).toBe(0);
  });

  it('goes back to gRPC with REFRONT_RPC=grpc, and still serves mux for callers not yet switched', () => {
    const cfg = loadServeConfig({ ...own('tickets'), REFRONT_RPC: 'grpc', MUX_PORT: '51051' });
    expect(cfg).toMatchObject({ REFRONT_RPC: 'grpc', MUX_PORT: 51051 });
    expect(loadServeConfig({ ...own('tickets'), REFRONT_RPC: 'grpc' }).MUX_PORT).toBe(0);
    expect(violations({ ...own('tickets'), REFRONT_RPC: 'http' })).toEqual(['REFRONT_RPC']);
  });

  it('reads every other empty number as unset, so it keeps its default', () => {
    const cfg = loadServeConfig({
      ...TLS,
      SERVICE: 'gateway',
      DEV_AUTH: 'true',
      DATABASE_POOL_SIZE: '',
      GRPC_PORT: '',
      OPS_PORT: '',
      GRACE_PERIOD_MS: '',
      GATEWAY_PORT: '',
      RATE_LIMIT_PER_MINUTE: '',
      GATEWAY_REDIS_TIMEOUT_MS: '',
      // An empty REDIS_URL (how Compose and Kubernetes clear it) means per-process limits.
      REDIS_URL: '',
    });
    expect(cfg.REDIS_URL).toBeUndefined();
    expect(cfg).toMatchObject({
      DATABASE_POOL_SIZE: 10,
      GRPC_PORT: 0,
      OPS_PORT: 9464,
      GRACE_PERIOD_MS: 10_000,
      GATEWAY_PORT: 8080,
      RATE_LIMIT_PER_MINUTE: 600,
      GATEWAY_REDIS_TIMEOUT_MS: 100,
    });
  });

  it('reads empty strings as unset too: an empty DATABASE_URL is missing, not a bad URL', () => {
    const cfg = loadServeConfig({
      ...own('tickets'),
      DATABASE_URL: '',
      AMQP_NAMESPACE: '',
      REFRONT_RPC: '',
    });
    expect(cfg.DATABASE_URL).toBeUndefined();
    expect(cfg.AMQP_NAMESPACE).toBe('refront');
    expect(cfg.REFRONT_RPC).toBe('mux');
    expect(violations({ ...TLS, SERVICE: '' })).toEqual(['SERVICE']);
  });

  it('reports every bad number by name', () => {
    expect(
      violations({
        ...own('tickets'),
        MUX_PORT: 'mux',
        GRPC_PORT: '70000',
        OPS_PORT: '-1',
        GRACE_PERIOD_MS: '1.5',
        DATABASE_POOL_SIZE: '0',
        GATEWAY_PORT: '65536',
      }),
    ).toEqual(['DATABASE_POOL_SIZE', 'GATEWAY_PORT', 'GRACE_PERIOD_MS', 'GRPC_PORT', 'MUX_PORT', 'OPS_PORT']);
    expect(serveConfig.safeParse({ ...TLS, SERVICE: 'nope' }).success).toBe(false);
  });

  it('gives createService the ops port and grace period from the same schema', () => {
    expect(serviceOptionsFromEnv({ ...own('invoicing'), SERVICE_VERSION: '1.2.3' })).toEqual({
      name: 'invoicing',
      version: '1.2.3',
      opsPort: 9464,
      gracePeriodMs: 10_000,
    });
    expect(
      serviceOptionsFromEnv({ ...own('invoicing'), OPS_PORT: '', GRACE_PERIOD_MS: '', SERVICE_VERSION: '' }),
    ).toEqual({ name: 'invoicing', version: '0.1.0', opsPort: 9464, gracePeriodMs: 10_000 });
    expect(serviceOptionsFromEnv({ ...own('ai'), OPS_PORT: '9500', GRACE_PERIOD_MS: '0' })).toMatchObject({
      opsPort: 9500,
      gracePeriodMs: 0,
    });
  });

  it('leaves an invalid environment to createService, which lists every problem and exits', () => {
    expect(serviceOptionsFromEnv({ ...own('tickets'), OPS_PORT: 'x' })).toEqual({
      name: 'tickets',
      version: '0.1.0',
    });
    expect(serviceOptionsFromEnv({})).toEqual({ name: 'refront-demo', version: '0.1.0' });
  });

  it('runs the gateway checks for SERVICE=gateway, strict with NODE_ENV=production as the image sets it', () => {
    const prod = { ...TLS, SERVICE: 'gateway', NODE_ENV: 'production' };
    expect(violations({ ...prod, DEV_AUTH: 'true' })).toEqual(['DEV_AUTH', 'JWT_AUDIENCE', 'JWT_ISSUER']);
    expect(
      violations({
        ...prod,
        JWT_SECRET: 'CHANGE-ME-to-at-least-32-random-characters',
        JWT_ISSUER: 'https://id.refront.test/',
        JWT_AUDIENCE: 'refront-api',
      }),
    ).toEqual(['JWT_SECRET']);
    expect(
      violations({
        ...prod,
        JWT_SECRET: 'q7Vd3kP9zR2mW8xT5nB1cY6hJ4fL0sAeUgKiOoXvNbMtQpZr',
        JWT_ISSUER: 'https://id.refront.test/',
        JWT_AUDIENCE: 'refront-api',
      }),
    ).toEqual([]);
    expect(violations({ ...TLS, SERVICE: 'gateway' })).toEqual(['JWT_SECRET']);
    expect(violations({ ...TLS, SERVICE: 'gateway', NODE_ENV: 'development', DEV_AUTH: 'true' })).toEqual([]);
    // Services other than the gateway hold no token key and are not asked for one.
    expect(violations({ ...own('tickets'), NODE_ENV: 'production' })).toEqual([]);
  });

  it('asks each service to log in as its own broker user while ownership is on (the default)', () => {
    // The default URL logs in as guest: refused by name, with the way out in the message.
    expect(violations({ ...TLS, SERVICE: 'tickets' })).toEqual(['AMQP_URL']);
    expect(violations({ ...TLS, SERVICE: 'ai', AMQP_URL: 'amqp://tickets:pw@rabbitmq:5672' })).toEqual([
      'AMQP_URL',
    ]);
    expect(() =>
      loadServeConfig({ ...TLS, SERVICE: 'ai', AMQP_URL: 'amqp://tickets:pw@rabbitmq:5672' }),
    ).toThrow(/logs in as "tickets".*"ai".*AMQP_OWNERSHIP=off/s);
    expect(
      violations({ ...TLS, SERVICE: 'time-tracking', AMQP_URL: 'amqp://time-tracking:pw@rabbitmq:5672' }),
    ).toEqual([]);
    // A prefix names the users of one namespace (the local topology's), an encoded name is decoded.
    expect(
      violations({
        ...TLS,
        SERVICE: 'ai',
        AMQP_USER_PREFIX: 'ns1.',
        AMQP_URL: 'amqp://ns1.ai:pw@127.0.0.1:5672',
      }),
    ).toEqual([]);
    expect(
      violations({
        ...TLS,
        SERVICE: 'ai',
        AMQP_USER_PREFIX: 'ns1.',
        AMQP_URL: 'amqp://ai:pw@127.0.0.1:5672',
      }),
    ).toEqual(['AMQP_URL']);
    // No user in the URL: a certificate login, which the broker maps to the user.
    expect(violations({ ...TLS, SERVICE: 'ai', AMQP_URL: 'amqps://rabbitmq:5671' })).toEqual([]);
    // Opting out runs every service as one user, unchecked; the gateway has no broker user.
    expect(violations({ ...TLS, SERVICE: 'ai', AMQP_OWNERSHIP: 'off' })).toEqual([]);
    expect(violations({ ...TLS, SERVICE: 'ai', AMQP_OWNERSHIP: 'maybe' })).toContain('AMQP_OWNERSHIP');
    expect(violations({ ...TLS, SERVICE: 'gateway', NODE_ENV: 'development', DEV_AUTH: 'true' })).toEqual([]);
  });
});
