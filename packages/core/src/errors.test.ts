import { describe, expect, it } from 'vitest';
import { CoreReason, toRefrontError } from './coreErrors.js';
import {
  asUnprocessed,
  HTTP_STATUS,
  isRefrontError,
  RefrontError,
  STATUS_CODES,
  statusFromCode,
} from './errors.js';

describe('RefrontError', () => {
  it('maps every status to one gRPC code and one HTTP status', () => {
    const e = new RefrontError('NOT_FOUND', 'TEST_NOT_FOUND', 'nope');
    expect(e.code).toBe(5);
    expect(e.httpStatus).toBe(404);
    expect(new RefrontError('FAILED_PRECONDITION', 'X', 'resolved').httpStatus).toBe(409);
    expect(new RefrontError('RESOURCE_EXHAUSTED', 'X', 'slow down').httpStatus).toBe(429);
    expect(new RefrontError('UNAUTHENTICATED', 'X', 'who?').httpStatus).toBe(401);
    expect(new RefrontError('UNAVAILABLE', 'X', 'down').httpStatus).toBe(503);
    for (const [name, code] of Object.entries(STATUS_CODES)) {
      if (name === 'OK') continue;
      expect(statusFromCode(code)).toBe(name);
      expect(HTTP_STATUS[name as keyof typeof HTTP_STATUS]).toBeGreaterThanOrEqual(400);
    }
    expect(statusFromCode(99)).toBe('UNKNOWN');
  });

  it('is retryable by default only for UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED', () => {
    expect(new RefrontError('UNAVAILABLE', 'X', '').retryable).toBe(true);
    expect(new RefrontError('RESOURCE_EXHAUSTED', 'X', '').retryable).toBe(true);
    expect(new RefrontError('ABORTED', 'X', '').retryable).toBe(true);
    expect(new RefrontError('INTERNAL', 'X', '').retryable).toBe(false);
    expect(new RefrontError('INVALID_ARGUMENT', 'X', '', { retryable: true }).retryable).toBe(true);
  });

  it('round-trips through JSON with details, without cause or stack', () => {
    const e = new RefrontError('INVALID_ARGUMENT', 'TEST_BAD', 'bad input', {
      details: { fieldViolations: [{ field: 'title', description: 'required' }] },
      cause: new Error('secret internals'),
    });
    const json = JSON.parse(JSON.stringify(e));
    expect(json).toEqual({
      status: 'INVALID_ARGUMENT',
      reason: 'TEST_BAD',
      message: 'bad input',
      details: { fieldViolations: [{ field: 'title', description: 'required' }] },
    });
    const back = RefrontError.fromJSON(json);
    expect(back.details.fieldViolations?.[0]?.field).toBe('title');
    expect(back.status).toBe('INVALID_ARGUMENT');
  });

  it('is recognised through its Symbol.for brand, even from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@refront/core/RefrontError')]: true });
    expect(isRefrontError(foreign)).toBe(true);
    expect(isRefrontError(new Error('x'))).toBe(false);
    expect(isRefrontError(null)).toBe(false);
  });

  it('turns anything thrown into a typed error, keeping the original as cause', () => {
    const plain = new Error('boom');
    const mapped = toRefrontError(plain);
    expect(mapped.status).toBe('INTERNAL');
    expect(mapped.cause).toBe(plain);
    expect(toRefrontError(AbortSignal.abort().reason).status).toBe('CANCELLED');
    const timeout = new DOMException('timed out', 'TimeoutError');
    expect(toRefrontError(timeout).status).toBe('DEADLINE_EXCEEDED');
    const typed = new RefrontError('NOT_FOUND', 'X', 'y');
    expect(toRefrontError(typed)).toBe(typed);
  });

  it('is not unprocessed unless the transport says so, and never says it on the wire', () => {
    expect(new RefrontError('UNAVAILABLE', 'X', 'down').unprocessed).toBe(false);
    const refused = new RefrontError('UNAVAILABLE', CoreReason.DRAINING, 'draining', { unprocessed: true });
    expect(refused.unprocessed).toBe(true);
    const json = JSON.parse(JSON.stringify(refused));
    expect(json).toEqual({ status: 'UNAVAILABLE', reason: 'CORE_DRAINING', message: 'draining' });
    expect(RefrontError.fromJSON(json).unprocessed).toBe(false);
  });

  it('marks a copy unprocessed, keeping everything else', () => {
    const cause = new Error('refused');
    const e = new RefrontError('UNAVAILABLE', CoreReason.DRAINING, 'going away', {
      details: { metadata: { target: 't' } },
      retryable: false,
      cause,
    });
    const marked = asUnprocessed(e);
    expect(marked).not.toBe(e);
    expect(marked).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'CORE_DRAINING',
      message: 'going away',
      details: { metadata: { target: 't' } },
      retryable: false,
      unprocessed: true,
    });
    expect(marked.cause).toBe(cause);
    expect(marked.stack).toBe(e.stack);
    expect(asUnprocessed(marked)).toBe(marked);
  });
});
