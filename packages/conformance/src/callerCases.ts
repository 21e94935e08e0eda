import { METADATA_PEER_IDENTITY } from '@refront/core/transport';
import { describe, expect, it } from 'vitest';
import { setupEnv } from './environment.js';
import { refused } from './expectations.js';
import type { TransportFactory } from './TransportFactory.js';

const SLEEP = 'refront.testing.v1.EchoService/Sleep';

/**
 * Registers the declared-caller cases of a lane whose channel presents the caller it is made
 * with (capability `channelCaller`): the same outcomes as the mTLS cases, where the identity is
 * the client certificate's.
 */
export function describeCallerCases<H>(factory: TransportFactory<H>): void {
  describe("declared callers, the channel's caller as identity", () => {
    it("serves a declared caller under its name, the channel's caller as peer identity", async () => {
      await using env = await setupEnv(factory, { auth: { callers: { billing: '*' } }, caller: 'billing' });
      const res = await env.client.echo({ message: 'x' });
      expect(res.seen.caller).toBe('billing');
      expect(res.seen[`md:${METADATA_PEER_IDENTITY}`]).toBe('billing');
    });

    it('refuses a caller not declared for the method PERMISSION_DENIED, not retryable, before any handler', async () => {
      await using env = await setupEnv(factory, {
        auth: { callers: { billing: [SLEEP] } },
        caller: 'billing',
      });
      expect(await env.client.sleep({ durationMs: 0 })).toEqual({ aborted: false });
      const err = await refused(env.client.echo({ message: 'x' }));
      expect([err.status, err.reason, err.retryable]).toEqual([
        'PERMISSION_DENIED',
        'CORE_CALLER_NOT_ALLOWED',
        false,
      ]);
      const stranger = env.connect({ caller: 'invoicing' });
      const other = await refused(stranger.client.sleep({ durationMs: 0 }));
      expect(other.reason).toBe('CORE_CALLER_NOT_ALLOWED');
      expect(env.probe.echoes).toBe(0);
    });

    it('refuses a channel without a caller UNAUTHENTICATED, whatever peer identity its metadata claims', async () => {
      await using env = await setupEnv(factory, { auth: { callers: { billing: '*' } } });
      const err = await refused(
        env.client.echo({ message: 'x' }, { metadata: { [METADATA_PEER_IDENTITY]: 'billing' } }),
      );
      expect([err.status, err.reason, err.retryable]).toEqual([
        'UNAUTHENTICATED',
        'CORE_UNAUTHENTICATED_CALLER',
        false,
      ]);
      expect(env.probe.echoes).toBe(0);
    });

    it("replaces a peer identity the client puts in its metadata by the channel's caller", async () => {
      await using env = await setupEnv(factory, { auth: {}, caller: 'billing' });
      const res = await env.client.echo({ message: 'x' }, { metadata: { [METADATA_PEER_IDENTITY]: 'root' } });
      expect(res.seen.caller).toBe('billing');
      expect(res.seen[`md:${METADATA_PEER_IDENTITY}`]).toBe('billing');
    });
  });
}
