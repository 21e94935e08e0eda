import { Metadata as GrpcMetadata, type MetadataValue } from '@grpc/grpc-js';
import type { Metadata } from '@refront/core';
import { RESERVED_METADATA } from '../auth.js';

const RESERVED: ReadonlySet<string> = new Set(RESERVED_METADATA);

/** grpc-js keeps the entries in a protected map; reading it spares getMap()'s copy of every binary value. */
function entriesOf(md: GrpcMetadata): Map<string, MetadataValue[]> | undefined {
  const repr = (md as unknown as { readonly internalRepr?: unknown }).internalRepr;
  return repr instanceof Map ? (repr as Map<string, MetadataValue[]>) : undefined;
}

/**
 * Inbound gRPC metadata as core's string record: text values only (binary `-bin` keys and
 * transport headers stay with grpc-js), first value per key, and the keys only the server may
 * set dropped so a client cannot claim an identity. A fresh object filled once (no `delete`,
 * which would turn it into a slow dictionary for every later read).
 */
export function fromGrpcMetadata(md: GrpcMetadata): Metadata {
  const out: Record<string, string> = {};
  const entries = entriesOf(md);
  if (entries) {
    for (const [key, values] of entries) {
      const v = values[0];
      if (typeof v === 'string' && !RESERVED.has(key)) out[key] = v;
    }
  } else {
    const map = md.getMap();
    for (const key in map) {
      const v = map[key];
      if (typeof v === 'string' && !RESERVED.has(key)) out[key] = v;
    }
  }
  return out;
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
