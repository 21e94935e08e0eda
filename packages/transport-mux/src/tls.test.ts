import { describe, expect, it } from 'vitest';
import { capturingLogger, echoClient, rejection, startEchoServer, testCert } from './testing/fixtures.js';

const serverTls = { certFile: testCert('server.crt'), keyFile: testCert('server.key') };
const mtls = { ...serverTls, clientCaFile: testCert('ca.crt') };

describe('mux over TLS', () => {
  it('serves over TLS to a client that trusts the CA, and refuses one that does not', async () => {
    await using env = await startEchoServer('tls', { tls: serverTls });
    await using client = echoClient(env.address, { tls: { caFile: testCert('ca.crt') }, policy: false });
    expect((await client.echo({ message: 'secret' })).message).toBe('secret');
    await using wrongCa = echoClient(env.address, {
      tls: { caFile: testCert('other-ca.crt') },
      policy: false,
    });
    expect(await rejection(wrongCa.echo({ message: 'x' }))).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'MUX_CONNECTION_FAILED',
    });
    await using wrongName = echoClient(env.address, {
      tls: { caFile: testCert('ca.crt'), serverName: 'billing' },
      policy: false,
    });
    expect(await rejection(wrongName.echo({ message: 'x' }))).toMatchObject({ status: 'UNAVAILABLE' });
  });

  it('mTLS: the client certificate identity (SPIFFE URI) becomes the caller; no certificate, no call', async () => {
    const cap = capturingLogger();
    await using env = await startEchoServer('mtls', { tls: mtls, auth: {}, logger: cap.logger });
    await using billing = echoClient(env.address, {
      tls: { caFile: testCert('ca.crt'), certFile: testCert('client.crt'), keyFile: testCert('client.key') },
      policy: false,
    });
    const res = await billing.echo({ message: 'hi' });
    expect(res.seen.caller).toBe('spiffe://refront.test/billing');
    expect(res.seen['md:x-refront-peer-identity']).toBe('spiffe://refront.test/billing');
    await using anonymous = echoClient(env.address, { tls: { caFile: testCert('ca.crt') }, policy: false });
    expect(await rejection(anonymous.echo({ message: 'x' }))).toMatchObject({ status: 'UNAVAILABLE' });
    await using rogue = echoClient(env.address, {
      tls: {
        caFile: testCert('ca.crt'),
        certFile: testCert('rogue-client.crt'),
        keyFile: testCert('rogue-client.key'),
      },
      policy: false,
    });
    expect(await rejection(rogue.echo({ message: 'x' }))).toMatchObject({ status: 'UNAVAILABLE' });
    expect((await billing.echo({ message: 'still' })).message).toBe('still');
  });

  it('rejects unreadable PEM files and half a client key pair at construction', () => {
    expect(() => echoClient('127.0.0.1:1', { tls: { caFile: '/nope.crt' } })).toThrow(/cannot read caFile/);
    expect(() => echoClient('127.0.0.1:1', { tls: { certFile: testCert('client.crt') } })).toThrow(
      /go together/,
    );
  });
});
