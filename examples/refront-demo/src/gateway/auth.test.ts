import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, isRefrontError } from '@refront/core';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { authWeaknesses, createAuthenticator } from './auth.js';
import { signToken, startGateway, TEST_SECRET } from './testing/fixture.js';

describe('gateway: HS256 bearer auth', () => {
  it('answers 401 with a WWW-Authenticate challenge without a token', async () => {
    await using gw = await startGateway();
    const res = await gw.call('GET', '/v1/tickets');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="refront"');
    expect(res.json.error).toMatchObject({ status: 'UNAUTHENTICATED', reason: 'GATEWAY_TOKEN_MISSING' });
    const basic = await gw.call('GET', '/v1/tickets', { headers: { authorization: 'Basic dXNlcjpwdw==' } });
    expect(basic.status).toBe(401);
    expect(basic.json.error.reason).toBe('GATEWAY_TOKEN_INVALID');
    expect(gw.fakes.control.seen).toEqual([]);
  });

  it('refuses a bad signature, an expired token, a wrong issuer or audience, and missing claims', async () => {
    await using gw = await startGateway({
      auth: { hs256Secret: TEST_SECRET, issuer: 'https://id.test/', audience: 'refront-api' },
    });
    const good = { tenant: 'acme', user: 'ann', issuer: 'https://id.test/', audience: 'refront-api' };
    const cases: [string, string, string][] = [
      [
        await signToken({ ...good, secret: 'another-secret-that-is-long-enough-too!' }),
        'GATEWAY_TOKEN_INVALID',
        'does not verify',
      ],
      [await signToken({ ...good, expiresInSec: -3_600 }), 'GATEWAY_TOKEN_EXPIRED', 'expired'],
      [await signToken({ ...good, issuer: 'https://evil.test/' }), 'GATEWAY_TOKEN_INVALID', 'iss'],
      [await signToken({ ...good, audience: 'someone-else' }), 'GATEWAY_TOKEN_INVALID', 'aud'],
      [await signToken({ ...good, tenant: undefined }), 'GATEWAY_TOKEN_CLAIMS', 'tenant'],
      [await signToken({ ...good, tenant: 'no spaces allowed' }), 'GATEWAY_TOKEN_CLAIMS', 'tenant'],
      [await signToken({ ...good, user: undefined }), 'GATEWAY_TOKEN_INVALID', 'sub'],
      ['not.a.jwt', 'GATEWAY_TOKEN_INVALID', 'does not verify'],
    ];
    for (const [token, reason, text] of cases) {
      const res = await gw.call('GET', '/v1/customers', { token });
      expect(res.status, reason).toBe(401);
      expect(res.json.error.reason).toBe(reason);
      expect(res.json.error.message).toContain(text);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="refront", error="invalid_token"/);
    }
    expect((await gw.call('GET', '/v1/customers', { token: await signToken(good) })).status).toBe(200);
    expect(gw.fakes.control.seen).toHaveLength(1);
  });

  it('serves dev tokens only when they are on', async () => {
    await using off = await startGateway();
    const refused = await off.call('POST', '/v1/dev/tokens', { body: { tenant: 'acme', user: 'ann' } });
    expect(refused.status).toBe(404);
    expect(refused.json.error.reason).toBe('GATEWAY_ROUTE_NOT_FOUND');

    await using on = await startGateway({ auth: { devTokens: true } });
    const issued = await on.call('POST', '/v1/dev/tokens', { body: { tenant: 'acme', user: 'ann' } });
    expect(issued.status).toBe(201);
    expect(Date.parse(issued.json.expiresAt)).toBeGreaterThan(Date.now() + 3_500_000);
    const res = await on.call('GET', '/v1/customers', { token: issued.json.token });
    expect(res.status).toBe(200);
    expect(on.fakes.control.seen[0]).toMatchObject({ tenant: 'acme' });
    // Dev tokens use a per-process secret here: a token signed with any other key is refused.
    expect((await on.call('GET', '/v1/customers', { token: await on.tokenFor('acme') })).status).toBe(401);
    const bad = await on.call('POST', '/v1/dev/tokens', { body: { tenant: 'a b' } });
    expect(bad.json.error.fieldViolations).toEqual(
      expect.arrayContaining([
        { field: 'user', description: 'is required' },
        expect.objectContaining({ field: 'tenant' }),
      ]),
    );
  });
});

/** A local JWKS endpoint serving `keys`, or failing with `status`. */
async function jwksServer(
  keys: JWK[],
  status = 200,
): Promise<{ url: string; server: Server } & AsyncDisposable> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    server,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('gateway: JWKS bearer auth', () => {
  it('verifies tokens signed with a key of the JWKS and refuses others', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    await using jwks = await jwksServer([jwk]);
    await using gw = await startGateway({ auth: { jwksUrl: jwks.url, issuer: 'https://id.test/' } });
    const sign = (key: Parameters<SignJWT['sign']>[0], kid: string) =>
      new SignJWT({ tenant: 'acme' })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setSubject('ann')
        .setIssuer('https://id.test/')
        .setExpirationTime('5m')
        .sign(key);

    expect((await gw.call('GET', '/v1/customers', { token: await sign(privateKey, 'k1') })).status).toBe(200);
    const forged = await gw.call('GET', '/v1/customers', { token: await sign(other.privateKey, 'k1') });
    expect(forged.status).toBe(401);
    // An HS256 token must not verify against a JWKS (algorithm confusion).
    const hs = await gw.call('GET', '/v1/customers', {
      token: await signToken({ tenant: 'acme', user: 'ann' }),
    });
    expect(hs.status).toBe(401);
  });

  it('answers 503 when the JWKS cannot be read', async () => {
    await using jwks = await jwksServer([], 500);
    await using gw = await startGateway({ auth: { jwksUrl: jwks.url } });
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ tenant: 'acme' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('ann')
      .setExpirationTime('5m')
      .sign(privateKey);
    const res = await gw.call('GET', '/v1/customers', { token });
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ status: 'UNAVAILABLE', reason: 'GATEWAY_JWKS_UNAVAILABLE' });
  });
});

describe('createAuthenticator options', () => {
  it.each([
    [{}, 'set hs256Secret, jwksUrl or devTokens'],
    [{ hs256Secret: TEST_SECRET, jwksUrl: 'http://x/jwks' }, 'not both'],
    [{ hs256Secret: 'short' }, 'at least 32'],
    [{ jwksUrl: 'not a url' }, 'not a URL'],
    [{ jwksUrl: 'http://x/jwks', devTokens: true }, 'cannot be combined'],
    [{ devTokens: true, devTokenTtlSec: 0 }, 'positive integer'],
  ])('refuses %j', (options, message) => {
    let thrown: unknown;
    try {
      createAuthenticator(options);
    } catch (e: unknown) {
      thrown = e;
    }
    expect(isRefrontError(thrown) && thrown.reason).toBe('CORE_INVALID_OPTION');
    expect(String(thrown)).toContain(message);
  });

  it('has no dev token issuer unless dev tokens are on', () => {
    expect(createAuthenticator({ hs256Secret: TEST_SECRET }).issueDevToken).toBeUndefined();
    expect(createAuthenticator({ hs256Secret: TEST_SECRET, devTokens: true }).issueDevToken).toBeTypeOf(
      'function',
    );
  });
});

describe('gateway: auth that is not production-safe (decision 0067)', () => {
  it('names every weakness: dev tokens, a placeholder secret, unchecked iss and aud', () => {
    expect(
      authWeaknesses({ hs256Secret: 'CHANGE-ME-to-at-least-32-random-characters', devTokens: true }),
    ).toEqual([
      'dev tokens are on: POST /v1/dev/tokens signs a token for any tenant',
      'the HS256 secret looks like a placeholder (contains "changeme")',
      'the iss claim of tokens is not checked',
      'the aud claim of tokens is not checked',
    ]);
    expect(
      authWeaknesses({
        hs256Secret: 'q7Vd3kP9zR2mW8xT5nB1cY6hJ4fL0sAeUgKiOoXvNbMtQpZr',
        issuer: 'https://id.refront.test/',
        audience: 'refront-api',
      }),
    ).toEqual([]);
  });

  it('starts anyway outside production, and logs each weakness as a warning', async () => {
    const lines: { level: string; msg: string; weakness?: string }[] = [];
    const logger = createLogger({
      service: 'gateway-test',
      level: 'warn',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
    await using gw = await startGateway({ logger, auth: { devTokens: true } });
    expect((await gw.call('POST', '/v1/dev/tokens', { body: { tenant: 'acme', user: 'ann' } })).status).toBe(
      201,
    );
    expect(
      lines.filter((l) => l.msg === 'gateway auth is not production-safe').map((l) => [l.level, l.weakness]),
    ).toEqual([
      ['warn', 'dev tokens are on: POST /v1/dev/tokens signs a token for any tenant'],
      ['warn', 'the iss claim of tokens is not checked'],
      ['warn', 'the aud claim of tokens is not checked'],
    ]);
  });
});
