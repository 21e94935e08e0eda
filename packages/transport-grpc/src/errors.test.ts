import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { RefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { fromGrpcError, STATUS_DETAILS_KEY, toGrpcStatus } from './errors.js';

/** What grpc-js hands a client for a status sent by `toGrpcStatus`. */
function wire(error: RefrontError): ServiceError {
  const s = toGrpcStatus(error, 'tickets');
  return Object.assign(new Error(`${s.code} ${s.details}`), {
    code: s.code!,
    details: s.details!,
    metadata: s.metadata!,
  }) as ServiceError;
}

describe('error mapping: RefrontError ⇄ gRPC status with google.rpc details', () => {
  it.each([
    new RefrontError('NOT_FOUND', 'TICKETS_NOT_FOUND', 'ticket t-1 does not exist'),
    new RefrontError('INVALID_ARGUMENT', 'TICKETS_INVALID', 'bad ticket', {
      details: {
        fieldViolations: [
          { field: 'title', description: 'must not be empty' },
          { field: 'lines.0.amount', description: 'must be > 0', reason: 'int64.gt' },
        ],
      },
    }),
    new RefrontError('RESOURCE_EXHAUSTED', 'TICKETS_RATE_LIMITED', 'slow down', {
      details: { retryDelayMs: 2_250, metadata: { limit: '5/s' } },
    }),
    new RefrontError('UNAVAILABLE', 'TICKETS_MAINTENANCE', 'down for maintenance', { retryable: false }),
    new RefrontError('FAILED_PRECONDITION', 'TICKETS_CLOSED', 'ticket is closed', { retryable: true }),
  ])('rebuilds $status $reason identically', (original) => {
    const rebuilt = fromGrpcError(wire(original));
    expect(rebuilt.toJSON()).toEqual(original.toJSON());
    expect(rebuilt.retryable).toBe(original.retryable);
    expect(rebuilt.code).toBe(original.code);
  });

  it('maps a status without details to GRPC_STATUS or the matching core reason', () => {
    const bare = (code: number, details: string) =>
      Object.assign(new Error(details), { code, details, metadata: new Metadata() }) as ServiceError;
    expect(fromGrpcError(bare(14, 'No connection established'))).toMatchObject({
      status: 'UNAVAILABLE',
      reason: 'GRPC_STATUS',
      message: 'No connection established',
      retryable: true,
      unprocessed: true,
    });
    expect(fromGrpcError(bare(12, 'unknown method')).reason).toBe('CORE_UNIMPLEMENTED');
    expect(fromGrpcError(bare(4, 'Deadline exceeded')).reason).toBe('CORE_DEADLINE_EXCEEDED');
    expect(fromGrpcError(bare(1, 'Cancelled')).reason).toBe('CORE_CANCELLED');
    expect(fromGrpcError(bare(99, 'odd')).status).toBe('UNKNOWN');
  });

  it("tells grpc-js's never-sent UNAVAILABLE from a connection dropped under the call", () => {
    const bare = (details: string) =>
      Object.assign(new Error(details), { code: 14, details, metadata: new Metadata() }) as ServiceError;
    for (const neverSent of [
      'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ',
      'round_robin: No connection established. Last error: null',
      'Name resolution failed for target dns:tickets:50051',
      'Stream refused by server',
    ]) {
      expect(fromGrpcError(bare(neverSent))).toMatchObject({ reason: 'GRPC_STATUS', unprocessed: true });
    }
    for (const lost of ['Connection dropped', 'read ECONNRESET']) {
      const e = fromGrpcError(bare(lost));
      expect(e).toMatchObject({ status: 'UNAVAILABLE', reason: 'CORE_LOST_IN_FLIGHT', unprocessed: false });
      expect(e.message).toContain(lost);
    }
    // Anything else (a foreign server's or a proxy's UNAVAILABLE): delivery unknown, the safe side.
    expect(fromGrpcError(bare('Received HTTP status code 503'))).toMatchObject({
      reason: 'GRPC_STATUS',
      unprocessed: false,
    });
  });

  it("reads a Refront server's CORE_DRAINING as its refusal before dispatch, and nothing else", () => {
    const draining = fromGrpcError(
      wire(new RefrontError('UNAVAILABLE', 'CORE_DRAINING', 'tickets is shutting down')),
    );
    expect(draining).toMatchObject({ reason: 'CORE_DRAINING', unprocessed: true });
    const dependency = fromGrpcError(
      wire(new RefrontError('UNAVAILABLE', 'CORE_DEPENDENCY_UNAVAILABLE', 'billing is shutting down')),
    );
    expect(dependency.unprocessed).toBe(false);
  });

  it('keeps code and message when the details trailer is garbage', () => {
    const md = new Metadata();
    md.set(STATUS_DETAILS_KEY, Buffer.from([0xff, 0xff, 0xff]));
    const e = Object.assign(new Error('x'), { code: 5, details: 'gone', metadata: md }) as ServiceError;
    expect(fromGrpcError(e)).toMatchObject({ status: 'NOT_FOUND', reason: 'GRPC_STATUS', message: 'gone' });
  });

  it('wraps what is not a gRPC error as INTERNAL and keeps RefrontErrors', () => {
    const original = new RefrontError('ABORTED', 'X_Y', 'z');
    expect(fromGrpcError(original)).toBe(original);
    expect(fromGrpcError('weird')).toMatchObject({ status: 'INTERNAL', reason: 'CORE_INTERNAL' });
  });
});
