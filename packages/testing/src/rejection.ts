import { isRefrontError, type RefrontError } from '@refront/core';

/**
 * The `RefrontError` that `promise` rejects with, to assert on its status, reason and details;
 * throws (failing the test) when it resolves or rejects with anything else.
 *
 * @throws Error when `promise` resolves, or rejects with something that is not a RefrontError.
 * @example
 * const e = await rejection(tickets.getTicket({ id: 'nope' }));
 * expect([e.status, e.reason]).toEqual(['NOT_FOUND', 'TICKETS_NOT_FOUND']);
 */
export async function rejection(promise: Promise<unknown>): Promise<RefrontError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome))
    throw new Error(`expected a RefrontError, the promise resolved with ${String(outcome.value)}`);
  if (!isRefrontError(outcome.error))
    throw new Error(`expected a RefrontError, got ${String(outcome.error)}`);
  return outcome.error;
}
