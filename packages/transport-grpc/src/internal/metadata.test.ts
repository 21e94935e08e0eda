import { Metadata as GrpcMetadata } from '@grpc/grpc-js';
import { METADATA_PEER_IDENTITY, METADATA_PRINCIPAL } from '@refront/core/transport';
import { describe, expect, it } from 'vitest';
import { asBuffer, callerAgent, callerOfAgent, fromGrpcMetadata, toGrpcMetadata } from './metadata.js';

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

  it('does not send the caller the connection announces, and sends any other caller', () => {
    const md = { 'x-refront-caller': 'billing', traceparent: 'tp' };
    expect(toGrpcMetadata(md, 'billing').getMap()).toEqual({ traceparent: 'tp' });
    expect(toGrpcMetadata(md, 'gateway').getMap()).toEqual(md);
  });

  it('sends a known key through the fast path and still refuses an illegal value', () => {
    toGrpcMetadata({ 'x-known': 'once' });
    expect(toGrpcMetadata({ 'x-known': 'twice' }).get('x-known')).toEqual(['twice']);
    expect(() => toGrpcMetadata({ 'x-known': 'line\nbreak' })).toThrow(/illegal characters/);
    expect(() => toGrpcMetadata({ 'Bad Key': 'v' })).toThrow(/illegal characters/);
  });

  it('announces a caller in user-agent only when it fits one product token', () => {
    expect(callerAgent('billing')).toBe('refront/billing');
    expect(callerAgent('spiffe://refront.test/billing')).toBe('refront/spiffe://refront.test/billing');
    expect(callerAgent('two words')).toBeUndefined();
    expect(callerAgent('café')).toBeUndefined();
    expect(callerAgent('')).toBeUndefined();
    expect(callerOfAgent('refront/billing grpc-node-js/1.14.7')).toBe('billing');
    expect(callerOfAgent('refront/billing')).toBe('billing');
    expect(callerOfAgent('grpc-python/1.60 refront/billing')).toBeUndefined();
    expect(callerOfAgent('refront/ grpc-node-js/1.14.7')).toBeUndefined();
  });

  it('reads the caller from user-agent when the call carries no x-refront-caller', () => {
    const md = new GrpcMetadata();
    md.set('user-agent', 'refront/billing grpc-node-js/1.14.7');
    expect(fromGrpcMetadata(md)['x-refront-caller']).toBe('billing');
    md.set('x-refront-caller', 'gateway');
    expect(fromGrpcMetadata(md)['x-refront-caller']).toBe('gateway');
  });

  it('gives a body as a Buffer: a small one copied, a large one viewed, a Buffer as it is', () => {
    const small = new Uint8Array([1, 2, 3]);
    const copied = asBuffer(small);
    expect(Buffer.isBuffer(copied)).toBe(true);
    expect([...copied]).toEqual([1, 2, 3]);
    small[0] = 9;
    expect(copied[0]).toBe(1);
    const backing = new Uint8Array(200).fill(5);
    const large = backing.subarray(10, 110);
    const viewed = asBuffer(large);
    expect(viewed.length).toBe(100);
    backing[10] = 7;
    expect(viewed[0]).toBe(7);
    const buf = Buffer.from([4]);
    expect(asBuffer(buf)).toBe(buf);
  });
});
