/**
 * Wire constants of the Refront mux protocol, version 1 (docs/mux-protocol.md is the spec).
 * Everything here is shared by the codec, the server and the channel.
 */

/** The 4 bytes every connection starts with, in both directions: ASCII `RFMX`. */
export const MUX_MAGIC = 0x52464d58;
/** The protocol version this package speaks. */
export const MUX_PROTOCOL_VERSION = 1;
/** Bytes of the preface: magic (4), version (1), flags (1), reserved (2), max frame bytes (4), max concurrent requests (4). */
export const PREFACE_BYTES = 16;
/** Bytes of every frame header: length (4), kind (1), flags (1), id (4). */
export const HEADER_BYTES = 10;
/** Bytes of the frame header counted by its length field (kind, flags, id). */
export const HEADER_AFTER_LENGTH = HEADER_BYTES - 4;

/** `rpc.system` of the spans of mux calls. */
export const MUX_SYSTEM = 'refront_mux';

/** Frame kinds. */
export const FrameKind = {
  REQUEST: 1,
  RESPONSE: 2,
  ERROR: 3,
  CANCEL: 4,
  PING: 5,
  PONG: 6,
  GOAWAY: 7,
} as const;

/** Request flag: the frame carries the method path and binds it to its method id on this connection. */
export const FLAG_METHOD_PATH = 0x01;

/** Well-known metadata keys, sent as one byte (0 = the key follows as text). */
export const WELL_KNOWN_KEYS: readonly string[] = [
  '',
  'traceparent',
  'x-refront-caller',
  'x-refront-tenant',
  'authorization',
  'tracestate',
];

/** Largest method id a connection may bind (u16). */
export const MAX_METHOD_ID = 0xffff;
/** Largest request id before a connection stops taking new calls and is replaced (u32). */
export const MAX_REQUEST_ID = 0xffffffff;
/** Largest relative deadline on the wire, in ms (u32: ~49 days). */
export const MAX_TIMEOUT_MS = 0xffffffff;

/** Largest frame accepted by default, in bytes (length field; gRPC's default message limit). */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Smallest `maxFrameBytes` allowed: a request with its metadata must fit. */
export const MIN_MAX_FRAME_BYTES = 1024;
/** Requests a server runs at once per connection before it stops reading that connection. */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 1_000;
/** Time a peer has to send its preface, in ms. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Bytes queued on a socket above which a server stops reading it until it drains. */
export const DEFAULT_WRITE_HIGH_WATER_BYTES = 1024 * 1024;
/** Most frames written by one `socket.write` (write coalescing). */
export const MAX_BATCH_FRAMES = 16;
/** Most bytes written by one `socket.write` (write coalescing), unless one frame is larger. */
export const MAX_BATCH_BYTES = 64 * 1024;
