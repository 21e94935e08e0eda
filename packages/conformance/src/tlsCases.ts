import { METADATA_PEER_IDENTITY } from '@refront/core/transport';
import { TEST_CLIENT_IDENTITY, testCert } from '@refront/rpc-testing';
import { describe, expect, it } from 'vitest';
import { setupEnv } from './environment.js';
import { refused, within } from './expectations.js';
import { describeRotationCases } from './rotationCases.js';
import type { ConformanceClientTls, ConformanceServerTls, TransportFactory } from './TransportFactory.js';

const serverTls: ConformanceServerTls = {
  certFile: testCert('server.crt'),
  keyFile: testCert('server.key'),
};
const mutualTls: ConformanceServerTls = { ...serverTls, clientCaFile: testCert('ca.crt') };
const trusting: ConformanceClientTls = { caFile: testCert('ca.crt') };
const billing: ConformanceClientTls = {
  ...trusting,
  certFile: testCert('client.crt'),
  keyFile: testCert('client.key'),
};
const rogue: ConformanceClientTls = {
  ...trusting,
  certFile: testCert('rogue-client.crt'),
  keyFile: testCert('rogue-client.key'),
};
/** `spiffe://refront.test/billing` → `billing`. */
const lastSegment = (identity: string): string | undefined => identity.split('/').pop();
/** Long enough that a refusal which only comes from the deadline trips the hang guard first. */
const PATIENT_MS = 20_000;

/**
 * Registers the TLS and mTLS cases (capability `tls`): servers on the committed test
 * certificates, dialled by the address the lane's handle names (`127.0.0.1`, in the server
 * certificate's names).
 */
export function describeTlsCases<H>(factory: TransportFactory<H>): void {
  describeRotationCases(factory);
  describe('TLS and mTLS', () => {
    it('round-trips over TLS to a client that trusts the server certificate', async () => {
      await using env = await setupEnv(factory, { tls: serverTls, clientTls: trusting });
      const payload = Buffer.from(Uint8Array.from({ length: 256 }, (_, i) => i));
      const res = await env.client.echo({ message: 'sécurisé 🔒', payload });
      expect(res.message).toBe('sécurisé 🔒');
      expect(Buffer.from(res.payload).equals(payload)).toBe(true);
    });

    it("refuses a client that does not trust the server's CA with UNAVAILABLE, not a hang, and keeps serving", async () => {
      await using env = await setupEnv(factory, { tls: serverTls, clientTls: trusting });
      const distrusting = env.connect({ tls: { caFile: testCert('other-ca.crt') } });
      const err = await within(
        refused(distrusting.client.echo({ message: 'x' }, { timeoutMs: PATIENT_MS })),
        "the distrusting client's refusal",
      );
      expect(err.status).toBe('UNAVAILABLE');
      expect((await env.client.echo({ message: 'still serving' })).message).toBe('still serving');
    });

    it("mTLS: the client certificate's identity becomes the handler's caller and peer identity", async () => {
      await using env = await setupEnv(factory, { tls: mutualTls, auth: {}, clientTls: billing });
      const res = await env.client.echo({ message: 'x' });
      expect(res.seen.caller).toBe(TEST_CLIENT_IDENTITY);
      expect(res.seen[`md:${METADATA_PEER_IDENTITY}`]).toBe(TEST_CLIENT_IDENTITY);
    });

    it("mTLS without `auth`: the certificate's identity still reaches the handler, as peer-identity metadata", async () => {
      await using env = await setupEnv(factory, { tls: mutualTls, clientTls: billing });
      const res = await env.client.echo({ message: 'x' });
      expect(res.seen[`md:${METADATA_PEER_IDENTITY}`]).toBe(TEST_CLIENT_IDENTITY);
    });

    it('mTLS: a peer identity the client puts in its metadata is replaced by its certificate', async () => {
      await using env = await setupEnv(factory, { tls: mutualTls, auth: {}, clientTls: billing });
      const res = await env.client.echo(
        { message: 'x' },
        { metadata: { [METADATA_PEER_IDENTITY]: 'spiffe://refront.test/root' } },
      );
      expect(res.seen.caller).toBe(TEST_CLIENT_IDENTITY);
      expect(res.seen[`md:${METADATA_PEER_IDENTITY}`]).toBe(TEST_CLIENT_IDENTITY);
    });

    it('mTLS with declared callers: a declared certificate is served under its caller name', async () => {
      await using env = await setupEnv(factory, {
        tls: mutualTls,
        auth: { callers: { billing: '*' }, callerName: lastSegment },
        clientTls: billing,
      });
      const res = await env.client.echo({ message: 'x' });
      expect(res.seen.caller).toBe('billing');
      expect(res.seen[`md:${METADATA_PEER_IDENTITY}`]).toBe(TEST_CLIENT_IDENTITY);
    });

    it('mTLS with declared callers: a certificate not declared for the method is PERMISSION_DENIED, not retryable', async () => {
      await using env = await setupEnv(factory, {
        tls: mutualTls,
        auth: { callers: { billing: ['refront.testing.v1.EchoService/Sleep'] }, callerName: lastSegment },
        clientTls: billing,
      });
      expect(await env.client.sleep({ durationMs: 0 })).toEqual({ aborted: false });
      const err = await refused(env.client.echo({ message: 'x' }));
      expect(err.status).toBe('PERMISSION_DENIED');
      expect(err.reason).toBe('CORE_CALLER_NOT_ALLOWED');
      expect(err.retryable).toBe(false);
      expect(env.probe.echoes).toBe(0);
    });

    it('mTLS with declared callers: an identity the rules do not name is PERMISSION_DENIED', async () => {
      await using env = await setupEnv(factory, {
        tls: mutualTls,
        auth: { callers: { invoicing: '*' }, callerName: lastSegment },
        clientTls: billing,
      });
      const err = await refused(
        env.client.echo(
          { message: 'x' },
          { metadata: { [METADATA_PEER_IDENTITY]: 'spiffe://refront.test/invoicing' } },
        ),
      );
      expect(err.status).toBe('PERMISSION_DENIED');
      expect(err.reason).toBe('CORE_CALLER_NOT_ALLOWED');
    });

    it('mTLS: refuses a client without a certificate, or with one from another CA, with UNAVAILABLE, and keeps serving', async () => {
      await using env = await setupEnv(factory, { tls: mutualTls, auth: {}, clientTls: billing });
      expect((await env.client.echo({ message: 'before' })).message).toBe('before');
      for (const [who, tls] of [
        ['a client without a certificate', trusting],
        ['a client whose certificate another CA signed', rogue],
      ] as const) {
        const stranger = env.connect({ tls });
        const err = await within(
          refused(stranger.client.echo({ message: 'x' }, { timeoutMs: PATIENT_MS })),
          `the refusal of ${who}`,
        );
        expect({ who, status: err.status }).toEqual({ who, status: 'UNAVAILABLE' });
      }
      const res = await env.client.echo({ message: 'still serving' });
      expect(res.message).toBe('still serving');
      expect(res.seen.caller).toBe(TEST_CLIENT_IDENTITY);
    });
  });
}
