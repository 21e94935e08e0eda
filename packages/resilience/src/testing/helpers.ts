import { isRefrontError, RefrontError } from '@refront/core';
import { expect, vi } from 'vitest';
import { timeoutWheel } from '../Timeout.js';

/** A failure of the target that never reached it (unprocessed): retryable for every operation. */
export function unavailable(message = 'target down'): RefrontError {
  return new RefrontError('UNAVAILABLE', 'TEST_DOWN', message, { unprocessed: true });
}

/** Settles `p` into a value or an error, so fake-timer tests can advance time before awaiting. */
export function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** The reason of a RefrontError, or undefined for anything else. */
export function reasonOf(e: unknown): string | undefined {
  return isRefrontError(e) ? e.reason : undefined;
}

/** An operation that never settles until its signal aborts, then rejects with the signal's reason. */
export function hang(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Asserts a settled execution left nothing behind: the timeout wheel tracks no entry and holds
 * the process open no longer, and no other timer is pending (the wheel's own timer may stay
 * armed, unref'd, and fire once for nothing: re-arming it per call would cost what it saves).
 */
export function expectNothingPending(): void {
  expect(timeoutWheel.size).toBe(0);
  expect(timeoutWheel.holdsProcess).toBe(false);
  expect(vi.getTimerCount() - (timeoutWheel.armed ? 1 : 0)).toBe(0);
}
