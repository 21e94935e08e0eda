import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { TokenVerifier } from '@refront/core';
import { RefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { dynamicEchoClient } from './testing/dynamicClients.js';
import { echoClient, rejection, startEchoServer, testCert } from './testing/fixtures.js';

const verifyToken: TokenVerifier = (token) => {
  if (token === 'idp-down')
    throw new RefrontError('UNAVAILABLE', 'TEST_IDP_DOWN', 'identity provider is down');
  if (token === 'crash') throw new Error('verifier bug');
  return token === 'good-token' ? { id: 'gateway', claims: { role: 'admin' } } : undefined;
};

const serverTls = { certFile: testCert('server.crt'), keyFile: testCert('server.key') };
const mtls = { ...serverTls, clientCaFile: testCert('ca.crt') };
const clientCert = {
  caFile: testCert('ca.crt'),
  certFile: testCert('client.crt'),
  keyFile: testCert('client.key'),
};

describe('authentication: bearer tokens', () => {
  it('answers a missing token with UNAUTHENTICATED and keeps serving', async () => {
    await using env = await startEchoServer('a', { auth: { verifyToken } });
    await using anonymous = echoClient(env.address);
    const err = await rejection(anonymous.echo({ message: 'x' }));
    expect(err).toMatchObject({ status: 'UNAUTHENTICATED', reason: 'CORE_MISSING_TOKEN', retryable: false });
    await using authed = echoClient(env.address, { token: 'good-token' });
    expect((await authed.echo({ message: 'ok' })).message).toBe('ok');
  });

  it('answers a bad token, a non-bearer header or a crashing verifier with UNAUTHENTICATED', async () => {
    await using env = await startEchoServer('a', { auth: { verifyToken } });
    await using bad = echoClient(env.address, { token: 'forged' });
    expect(await rejection(bad.echo({ message: 'x' }))).toMatchObject({
      status: 'UNAUTHENTICATED',
      reason: 'CORE_BAD_TOKEN',
    });
    await using crash = echoClient(env.address, { token: () => 'crash' });
    expect(await rejection(crash.echo({ message: 'x' }))).toMatchObject({ reason: 'CORE_BAD_TOKEN' });
    await using basic = echoClient(env.address);
    const err = await rejection(
      basic.echo({ message: 'x' }, { metadata: { authorization: 'Basic dXNlcjpwdw==' } }),
    );
    expect(err).toMatchObject({ status: 'UNAUTHENTICATED', reason: 'CORE_MISSING_TOKEN' });
  });

  it('passes a RefrontError from the verifier through', async () => {
    await using env = await startEchoServer('a', { auth: { verifyToken } });
    await using client = echoClient(env.address, { token: 'idp-down', policy: false });
    expect(await rejection(client.echo({ message: 'x' }))).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'TEST_IDP_DOWN',
    });
  });

  it('makes the principal the caller, exposes claims, hides the token and ignores spoofed identity', async () => {
    await using env = await startEchoServer('a', { auth: { verifyToken } });
    await using client = echoClient(env.address, {
      token: async () => 'good-token',
      caller: 'claims-to-be-billing',
    });
    const res = await client.echo(
      { message: 'x' },
      { metadata: { 'x-refront-principal': 'root', 'x-refront-peer-identity': 'spiffe://evil' } },
    );
    expect(res.seen.caller).toBe('gateway');
    expect(res.seen['md:x-refront-principal']).toBe('gateway');
    expect(res.seen['md:x-refront-claim-role']).toBe('admin');
    expect(res.seen['md:x-refront-caller']).toBe('gateway');
    expect(res.seen['md:authorization']).toBeUndefined();
    expect(res.seen['md:x-refront-peer-identity']).toBeUndefined();
  });

  it('counts refused calls in the RED metrics', async () => {
    await using env = await startEchoServer('a', { auth: { verifyToken } });
    await using client = echoClient(env.address);
    await rejection(client.echo({ message: 'x' }));
    expect(await env.metrics.metrics()).toMatch(
      /refront_rpc_server_duration_seconds_count\{[^}]*status="UNAUTHENTICATED"[^}]*\} 1/,
    );
  });
});

describe('TLS and mutual TLS from PEM files', () => {
  it('serves over TLS to a client that trusts the CA, and refuses a client that does not', async () => {
    await using env = await startEchoServer('tls', { tls: serverTls });
    await using trusting = echoClient(`localhost:${env.server.port}`, {
      tls: { caFile: testCert('ca.crt') },
    });
    expect((await trusting.echo({ message: 'secure' })).message).toBe('secure');
    await using wrongCa = echoClient(`localhost:${env.server.port}`, {
      tls: { caFile: testCert('other-ca.crt') },
      policy: false,
    });
    expect(await rejection(wrongCa.echo({ message: 'x' }, { timeoutMs: 3_000 }))).toMatchObject({
      status: 'UNAVAILABLE',
    });
  });

  it('verifies the server name given when dialling by IP', async () => {
    await using env = await startEchoServer('tls', { tls: serverTls });
    await using client = echoClient(`127.0.0.1:${env.server.port}`, {
      tls: { caFile: testCert('ca.crt'), serverName: 'localhost' },
    });
    expect((await client.echo({ message: 'by ip' })).message).toBe('by ip');
  });

  it('with mTLS, gives the handler the peer identity from the client certificate as caller', async () => {
    await using env = await startEchoServer('mtls', { tls: mtls, auth: {} });
    await using client = echoClient(`localhost:${env.server.port}`, {
      tls: clientCert,
      caller: 'says-anything',
    });
    const res = await client.echo({ message: 'x' });
    expect(res.seen.caller).toBe('spiffe://refront.test/billing');
    expect(res.seen['md:x-refront-peer-identity']).toBe('spiffe://refront.test/billing');
  });

  it('with mTLS and a token verifier, the token principal is the caller and the peer identity reaches the verifier', async () => {
    const peers: (string | undefined)[] = [];
    await using env = await startEchoServer('mtls', {
      tls: mtls,
      auth: {
        verifyToken: (token, info) => {
          peers.push(info.peerIdentity);
          return token === 'good-token' ? { id: 'gateway' } : undefined;
        },
      },
    });
    await using client = echoClient(`localhost:${env.server.port}`, { tls: clientCert, token: 'good-token' });
    const res = await client.echo({ message: 'x' });
    expect(res.seen.caller).toBe('gateway');
    expect(res.seen['md:x-refront-peer-identity']).toBe('spiffe://refront.test/billing');
    expect(peers).toEqual(['spiffe://refront.test/billing']);
  });

  it('refuses a client without a certificate, or with one from another CA', async () => {
    await using env = await startEchoServer('mtls', { tls: mtls });
    await using noCert = echoClient(`localhost:${env.server.port}`, {
      tls: { caFile: testCert('ca.crt') },
      policy: false,
    });
    expect(await rejection(noCert.echo({ message: 'x' }, { timeoutMs: 3_000 }))).toMatchObject({
      status: 'UNAVAILABLE',
    });
    await using rogue = echoClient(`localhost:${env.server.port}`, {
      tls: {
        caFile: testCert('ca.crt'),
        certFile: testCert('rogue-client.crt'),
        keyFile: testCert('rogue-client.key'),
      },
      policy: false,
    });
    expect(await rejection(rogue.echo({ message: 'x' }, { timeoutMs: 3_000 }))).toMatchObject({
      status: 'UNAVAILABLE',
    });
  });

  it('lets a proto-loader client with a client certificate call an mTLS server', async () => {
    await using env = await startEchoServer('mtls', { tls: mtls, auth: {} });
    const { readFileSync } = await import('node:fs');
    const creds = credentials.createSsl(
      readFileSync(testCert('ca.crt')),
      readFileSync(testCert('client.key')),
      readFileSync(testCert('client.crt')),
    );
    const client = dynamicEchoClient(`localhost:${env.server.port}`, creds);
    try {
      const res = await new Promise<{ seen: Record<string, string> }>((resolve, reject) =>
        (client as unknown as Record<string, (...a: unknown[]) => void>).Echo!(
          { message: 'x' },
          new Metadata(),
          (err: ServiceError | null, r: { seen: Record<string, string> }) => (err ? reject(err) : resolve(r)),
        ),
      );
      expect(res.seen.caller).toBe('spiffe://refront.test/billing');
    } finally {
      client.close();
    }
  });

  it('fails at construction when a PEM file is missing', async () => {
    await expect(
      startEchoServer('x', { tls: { certFile: '/nope.crt', keyFile: '/nope.key' } }),
    ).rejects.toMatchObject({
      reason: 'GRPC_BAD_CREDENTIALS',
    });
  });
});
