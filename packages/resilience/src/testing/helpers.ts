import { isRefrontError, RefrontError } from '@refront/core';

/** A failure of the target, retryable for every operation. */
export function unavailable(message = 'target down'): RefrontError {
  return new RefrontError('UNAVAILABLE', 'TEST_DOWN', message);
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
