/**
 * A gateway listening on 127.0.0.1:0 in front of the fake services, driven over real HTTP.
 * Acquire with `await using gw = await startGateway()`.
 */
import {
  createInProcessNetwork,
  createLogger,
  createMetricsRegistry,
  type InProcessNetwork,
  type MetricsRegistry,
} from '@refront/core';
import { SignJWT } from 'jose';
import { createGateway, type Gateway, type GatewayOptions } from '../createGateway.js';
import { type FakeServices, startFakeServices } from './fakeServices.js';

/** The HS256 secret of the fixture's tokens. */
export const TEST_SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

/** Claims and settings of a test token. */
export interface TokenSpec {
  readonly tenant?: string | undefined;
  readonly user?: string | undefined;
  readonly secret?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Expiry as seconds from now (negative: already expired). @default 300 */
  readonly expiresInSec?: number;
  readonly extra?: Record<string, unknown>;
}

/** Signs an HS256 token. */
export async function signToken(spec: TokenSpec = {}): Promise<string> {
  const claims: Record<string, unknown> = { ...spec.extra };
  if (spec.tenant !== undefined) claims.tenant = spec.tenant;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (spec.expiresInSec ?? 300));
  if (spec.user !== undefined) jwt = jwt.setSubject(spec.user);
  if (spec.issuer) jwt = jwt.setIssuer(spec.issuer);
  if (spec.audience) jwt = jwt.setAudience(spec.audience);
  return jwt.sign(new TextEncoder().encode(spec.secret ?? TEST_SECRET));
}

/** Options of a request made through the fixture. */
export interface CallSpec {
  /** Bearer token; undefined sends no Authorization header. */
  readonly token?: string | undefined;
  /** JSON body (serialised), or a raw string sent as is. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A parsed HTTP answer. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  readonly json: any;
}

export interface GatewayFixture extends AsyncDisposable {
  readonly gateway: Gateway;
  readonly url: string;
  readonly network: InProcessNetwork;
  readonly fakes: FakeServices;
  readonly metrics: MetricsRegistry;
  /** A valid token for `tenant` (user `u-<tenant>`), with `roles` in its `roles` claim. @default roles: none (a member) */
  tokenFor(tenant: string, roles?: readonly string[]): Promise<string>;
  call(method: string, path: string, spec?: CallSpec): Promise<Answer>;
}

/** Starts fakes and a gateway (HS256 auth with {@link TEST_SECRET} unless `auth` is given). */
export async function startGateway(
  overrides: Partial<Omit<GatewayOptions, 'channel'>> = {},
): Promise<GatewayFixture> {
  const logger = createLogger({ service: 'gateway-test', level: 'silent' });
  const metrics = overrides.metrics ?? createMetricsRegistry({ processMetrics: false });
  const network = createInProcessNetwork();
  const fakes = await startFakeServices(network, logger);
  const gateway = await createGateway({
    logger,
    auth: { hs256Secret: TEST_SECRET },
    ...overrides,
    metrics,
    channel: network.channel(),
    host: '127.0.0.1',
    port: 0,
  });
  const url = await gateway.listen();
  return {
    gateway,
    url,
    network,
    fakes,
    metrics,
    tokenFor: (tenant, roles = []) =>
      signToken({ tenant, user: `u-${tenant}`, ...(roles.length > 0 ? { extra: { roles } } : {}) }),
    async call(method, path, spec = {}) {
      const headers: Record<string, string> = { ...spec.headers };
      if (spec.token !== undefined) headers.authorization = `Bearer ${spec.token}`;
      let body: string | undefined;
      if (spec.body !== undefined) {
        body = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      const json = text !== '' && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
      return { status: res.status, headers: res.headers, json };
    },
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await fakes.close();
    },
  };
}
