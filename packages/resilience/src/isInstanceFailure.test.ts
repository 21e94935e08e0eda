import { RefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
// From the package's entry, so these cases do not depend on which file defines each name.
import {
  createCircuitBreakerPool,
  createDefaultPolicy,
  createRetry,
  isInstanceFailure,
  policy,
} from './index.js';

describe('isInstanceFailure', () => {
  it('counts unavailability, timeouts and server faults against the instance, not answers', () => {
    for (const status of ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'INTERNAL', 'RESOURCE_EXHAUSTED'] as const)
      expect(isInstanceFailure(new RefrontError(status, 'X', 'x'))).toBe(true);
    for (const status of ['NOT_FOUND', 'INVALID_ARGUMENT', 'PERMISSION_DENIED', 'CANCELLED'] as const)
      expect(isInstanceFailure(new RefrontError(status, 'X', 'x'))).toBe(false);
    expect(isInstanceFailure(new Error('a bug in the caller'))).toBe(false);
  });

  it("follows the failureStatuses of the policy's breaker, so balancer and breaker agree", () => {
    const internal = new RefrontError('INTERNAL', 'X', 'x');
    const conflict = new RefrontError('ABORTED', 'X', 'x');
    const strict = policy(createCircuitBreakerPool({ failureStatuses: ['UNAVAILABLE', 'ABORTED'] }));
    expect(isInstanceFailure(internal, strict)).toBe(false);
    expect(isInstanceFailure(conflict, strict)).toBe(true);
    const defaults = createDefaultPolicy();
    expect(isInstanceFailure(internal, defaults)).toBe(true);
    expect(isInstanceFailure(conflict, defaults)).toBe(false);
    // A policy without a breaker layer: the defaults.
    expect(isInstanceFailure(internal, policy(createRetry()))).toBe(true);
  });
});
