import { Metadata as GrpcMetadata } from '@grpc/grpc-js';
import type { Metadata } from '@refront/core';
import { RESERVED_METADATA } from '../auth.js';

/**
 * Inbound gRPC metadata as core's string record: text values only (binary `-bin` keys and
 * transport headers stay with grpc-js), first value per key, and the keys only the server may
 * set dropped so a client cannot claim an identity.
 */
export function fromGrpcMetadata(md: GrpcMetadata): Metadata {
  const map = md.getMap() as Record<string, string | Buffer>;
  for (const key in map) if (typeof map[key] !== 'string') delete map[key];
  for (const key of RESERVED_METADATA) if (key in map) delete map[key];
  return map as Metadata;
}

/** Outbound metadata: every text entry of the call. */
export function toGrpcMetadata(md: Metadata): GrpcMetadata {
  const out = new GrpcMetadata();
  for (const key in md) out.set(key, md[key]!);
  return out;
}

/** A Buffer view of `bytes`, no copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Identity (de)serializer: Refront encodes and decodes with the contract's codec itself. */
export function identity(b: Buffer): Buffer {
  return b;
}
