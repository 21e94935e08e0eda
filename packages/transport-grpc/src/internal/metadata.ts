import { Metadata as GrpcMetadata, type MetadataValue } from '@grpc/grpc-js';
import { METADATA_CALLER, type Metadata, RESERVED_METADATA } from '@refront/core/transport';

const RESERVED: ReadonlySet<string> = new Set(RESERVED_METADATA);

/** What a Refront channel puts before grpc-js's own product in `user-agent`: `refront/<caller>`. */
export const CALLER_AGENT_PREFIX = 'refront/';

/** A caller that fits in one `user-agent` product token (printable ASCII, no space). */
const AGENT_CALLER = /^[!-~]+$/;

/**
 * The `grpc.primary_user_agent` that announces `caller` once per connection instead of an
 * `x-refront-caller` header per call, or undefined when the name cannot travel in a product token.
 */
export function callerAgent(caller: string | undefined): string | undefined {
  return caller !== undefined && AGENT_CALLER.test(caller) ? CALLER_AGENT_PREFIX + caller : undefined;
}

/** The caller a Refront channel announced in `user-agent` (`refront/<caller> grpc-node-js/…`), if any. */
export function callerOfAgent(agent: MetadataValue | undefined): string | undefined {
  if (typeof agent !== 'string' || !agent.startsWith(CALLER_AGENT_PREFIX)) return undefined;
  const end = agent.indexOf(' ', CALLER_AGENT_PREFIX.length);
  const caller = agent.slice(CALLER_AGENT_PREFIX.length, end === -1 ? undefined : end);
  return caller === '' ? undefined : caller;
}

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
 *
 * The caller is `x-refront-caller` when the call carries it (any client may send it), else the
 * one a Refront channel announced in `user-agent` for the whole connection.
 */
export function fromGrpcMetadata(md: GrpcMetadata): Metadata {
  const out: Record<string, string> = {};
  const entries = entriesOf(md);
  if (entries) {
    entries.forEach((values, key) => {
      const v = values[0];
      if (typeof v === 'string' && !RESERVED.has(key)) out[key] = v;
    });
  } else {
    const map = md.getMap();
    for (const key in map) {
      const v = map[key];
      if (typeof v === 'string' && !RESERVED.has(key)) out[key] = v;
    }
  }
  if (out[METADATA_CALLER] === undefined) {
    const caller = callerOfAgent(out['user-agent']);
    if (caller !== undefined) out[METADATA_CALLER] = caller;
  }
  return out;
}

/** Keys already accepted by grpc-js (lower case, legal, text): set without its per-call regex checks. */
const knownKeys = new Set<string>();
/** Bound on {@link knownKeys}: metadata keys are a small fixed set in practice; beyond it, grpc-js checks. */
const MAX_KNOWN_KEYS = 256;
/** grpc-js's rule for a text value (printable ASCII), checked here for keys it need not check again. */
const LEGAL_TEXT_VALUE = /^[ -~]*$/;

/**
 * Outbound metadata: every text entry of the call, except `x-refront-caller` when it is the
 * caller the channel announces in `user-agent` (`announced`). A key grpc-js accepted once is
 * written straight into its entries (its `set` lower-cases and regex-checks the key on every
 * call); values are still checked, and a new or odd key goes through `set`, which throws as before.
 */
export function toGrpcMetadata(md: Metadata, announced?: string): GrpcMetadata {
  const out = new GrpcMetadata();
  const entries = entriesOf(out);
  for (const key in md) {
    const value = md[key]!;
    if (key === METADATA_CALLER && value === announced) continue;
    if (entries && knownKeys.has(key) && LEGAL_TEXT_VALUE.test(value)) {
      entries.set(key, [value]);
    } else {
      out.set(key, value);
      if (entries && knownKeys.size < MAX_KNOWN_KEYS && entries.has(key) && !key.endsWith('-bin')) {
        knownKeys.add(key);
      }
    }
  }
  return out;
}

/**
 * Up to this many bytes V8 keeps a typed array's data inside its heap object, and reading its
 * `.buffer` moves the data out to a new backing store (~0.4 µs on a 2-core VM, more than copying
 * a small body into Node's buffer pool).
 */
const IN_HEAP_BYTES = 64;

/** `bytes` as a Buffer: a copy in Node's pool when small (see {@link IN_HEAP_BYTES}), else a view, no copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes.byteLength <= IN_HEAP_BYTES) {
    const out = Buffer.allocUnsafe(bytes.byteLength);
    out.set(bytes);
    return out;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Identity (de)serializer: Refront encodes and decodes with the contract's codec itself. */
export function identity(b: Buffer): Buffer {
  return b;
}
