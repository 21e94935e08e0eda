import { Metadata as GrpcMetadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { METADATA_PEER_IDENTITY, METADATA_PRINCIPAL } from '../auth.js';
import { fromGrpcMetadata, toGrpcMetadata } from './metadata.js';

function inbound(): GrpcMetadata {
  const md = new GrpcMetadata();
  md.set('x-refront-caller', 'billing');
  md.add('x-multi', 'first');
  md.add('x-multi', 'second');
  md.set('trace-bin', Buffer.from([1, 2, 3]));
  md.set(METADATA_PRINCIPAL, 'forged');
  md.set(METADATA_PEER_IDENTITY, 'spiffe://forged');
  return md;
}

describe('metadata conversion at the gRPC edge', () => {
  it('keeps the first text value per key and drops binary keys and the keys only the server sets', () => {
    expect(fromGrpcMetadata(inbound())).toEqual({ 'x-refront-caller': 'billing', 'x-multi': 'first' });
  });

  it('gives the same record through getMap() when the entries are not reachable', () => {
    const md = inbound();
    const opaque = { getMap: () => md.getMap() } as unknown as GrpcMetadata;
    expect(fromGrpcMetadata(opaque)).toEqual({ 'x-refront-caller': 'billing', 'x-multi': 'first' });
  });

  it('leaves the grpc-js metadata as it was', () => {
    const md = inbound();
    fromGrpcMetadata(md);
    expect(md.get(METADATA_PRINCIPAL)).toEqual(['forged']);
    expect(md.get('trace-bin')).toHaveLength(1);
  });

  it('sends every text entry of the call', () => {
    const md = toGrpcMetadata({ 'x-refront-caller': 'billing', traceparent: 'tp' });
    expect(md.getMap()).toEqual({ 'x-refront-caller': 'billing', traceparent: 'tp' });
  });
});
