import { isRefrontError } from '@refront/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOCK_TOLERANCE_SEC, createAuthenticator } from './auth.js';
import { signToken, TEST_SECRET } from './testing/fixture.js';
import { VERIFIED_TOKEN_MAX_AGE_SEC } from './verifiedTokens.js';

/** The reason of the error `p` rejects with. */
async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e: unknown) {
    return isRefrontError(e) ? e.reason : String(e);
  }
}

describe('gateway: verified tokens are not verified again', () => {
  // jose verifies HS256 with WebCrypto: its calls count the verifications actually made.
  let verifications: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    verifications = vi.spyOn(globalThis.crypto.subtle, 'verify');
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('answers a token seen before from the cache, and only the same bytes', async () => {
    const auth = createAuthenticator({ hs256Secret: TEST_SECRET });
    const token = await signToken({ tenant: 'acme', user: 'ann' });
    expect(await auth.authenticate(`Bearer ${token}`)).toMatchObject({ tenant: 'acme', user: 'ann' });
    expect(await auth.authenticate(`Bearer ${token}`)).toMatchObject({ tenant: 'acme', user: 'ann' });
    expect(verifications).toHaveBeenCalledTimes(1);

    // Another payload with the cached token's signature is verified, and refused.
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'ann', tenant: 'evil', exp: 4_000_000_000 })).toString(
      'base64url',
    );
    expect(await reasonOf(auth.authenticate(`Bearer ${header}.${forged}.${signature}`))).toBe(
      'GATEWAY_TOKEN_INVALID',
    );
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('never keeps a failure', async () => {
    const auth = createAuthenticator({ hs256Secret: TEST_SECRET });
    const bad = await signToken({
      tenant: 'acme',
      user: 'ann',
      secret: 'another-secret-that-is-long-enough-too!',
    });
    for (let i = 0; i < 2; i++)
      expect(await reasonOf(auth.authenticate(`Bearer ${bad}`))).toBe('GATEWAY_TOKEN_INVALID');
    const noTenant = await signToken({ user: 'ann' });
    for (let i = 0; i < 2; i++)
      expect(await reasonOf(auth.authenticate(`Bearer ${noTenant}`))).toBe('GATEWAY_TOKEN_CLAIMS');
    expect(verifications).toHaveBeenCalledTimes(4);
  });

  it('refuses a cached token once it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = createAuthenticator({ hs256Secret: TEST_SECRET });
    const token = await signToken({ tenant: 'acme', user: 'ann', expiresInSec: 60 });
    await auth.authenticate(`Bearer ${token}`);
    vi.setSystemTime(Date.now() + (60 + CLOCK_TOLERANCE_SEC - 2) * 1000);
    expect(await auth.authenticate(`Bearer ${token}`)).toMatchObject({ tenant: 'acme' });
    expect(verifications).toHaveBeenCalledTimes(1);
    vi.setSystemTime(Date.now() + 3_000);
    expect(await reasonOf(auth.authenticate(`Bearer ${token}`))).toBe('GATEWAY_TOKEN_EXPIRED');
  });

  it('verifies a long-lived token again after the cache age, and keeps none with size 0', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = createAuthenticator({ hs256Secret: TEST_SECRET });
    const token = await signToken({ tenant: 'acme', user: 'ann', expiresInSec: 3_600 });
    await auth.authenticate(`Bearer ${token}`);
    vi.setSystemTime(Date.now() + (VERIFIED_TOKEN_MAX_AGE_SEC + 1) * 1000);
    await auth.authenticate(`Bearer ${token}`);
    expect(verifications).toHaveBeenCalledTimes(2);

    const uncached = createAuthenticator({ hs256Secret: TEST_SECRET, verifiedTokenCacheSize: 0 });
    await uncached.authenticate(`Bearer ${token}`);
    await uncached.authenticate(`Bearer ${token}`);
    expect(verifications).toHaveBeenCalledTimes(4);
    expect(() => createAuthenticator({ hs256Secret: TEST_SECRET, verifiedTokenCacheSize: -1 })).toThrow(
      /verifiedTokenCacheSize/,
    );
  });

  it('forgets the least recently used token when full', async () => {
    const auth = createAuthenticator({ hs256Secret: TEST_SECRET, verifiedTokenCacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((t) => signToken({ tenant: t, user: 'ann' })));
    for (const t of [a, b, c, b, c]) await auth.authenticate(`Bearer ${t}`);
    expect(verifications).toHaveBeenCalledTimes(3);
    await auth.authenticate(`Bearer ${a}`);
    expect(verifications).toHaveBeenCalledTimes(4);
  });
});
