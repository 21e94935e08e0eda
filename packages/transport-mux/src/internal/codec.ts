import { isUtf8 } from 'node:buffer';
import type { Metadata } from '@refront/core/transport';
import {
  FLAG_METHOD_PATH,
  FrameKind,
  HEADER_AFTER_LENGTH,
  HEADER_BYTES,
  MUX_MAGIC,
  PREFACE_BYTES,
  WELL_KNOWN_KEYS,
} from '../protocol.js';

/** What a peer announced in its preface. */
export interface Preface {
  readonly version: number;
  readonly maxFrameBytes: number;
  readonly maxConcurrentRequests: number;
}

const KEY_IDS = new Map<string, number>(WELL_KNOWN_KEYS.map((k, i) => [k, i]));
KEY_IDS.delete('');

/** The 16-byte preface each side sends first. */
export function encodePreface(version: number, maxFrameBytes: number, maxConcurrentRequests: number): Buffer {
  const b = Buffer.alloc(PREFACE_BYTES);
  b.writeUInt32BE(MUX_MAGIC, 0);
  b[4] = version;
  b.writeUInt32BE(maxFrameBytes, 8);
  b.writeUInt32BE(maxConcurrentRequests, 12);
  return b;
}

/** Reads a preface; a string names what is wrong with it. */
export function decodePreface(b: Buffer, at: number): Preface | string {
  if (b.readUInt32BE(at) !== MUX_MAGIC) return 'bad preface: not a Refront mux peer';
  const maxFrameBytes = b.readUInt32BE(at + 8);
  const maxConcurrentRequests = b.readUInt32BE(at + 12);
  if (maxFrameBytes < HEADER_AFTER_LENGTH || maxConcurrentRequests === 0) return 'bad preface: zero limits';
  return { version: b[at + 4]!, maxFrameBytes, maxConcurrentRequests };
}

function header(kind: number, flags: number, id: number, payloadBytes: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES + payloadBytes);
  b.writeUInt32BE(HEADER_AFTER_LENGTH + payloadBytes, 0);
  b[4] = kind;
  b[5] = flags;
  b.writeUInt32BE(id, 6);
  return b;
}

/** A frame with no payload (cancel, ping, pong). */
export function encodeControl(kind: number, id: number): Buffer {
  return header(kind, 0, id, 0);
}

/** A frame whose payload is `body` (response) or UTF-8 text (error, goaway). */
export function encodeBody(kind: number, id: number, body: Uint8Array | string): Buffer {
  if (typeof body === 'string') {
    const n = Buffer.byteLength(body);
    const b = header(kind, 0, id, n);
    b.write(body, HEADER_BYTES, 'utf8');
    return b;
  }
  const b = header(kind, 0, id, body.byteLength);
  b.set(body, HEADER_BYTES);
  return b;
}

/**
 * Metadata values up to this many characters are copied in JS when they are ASCII (a
 * `traceparent`, a caller name): a loop over them costs less than the native `buf.write` it
 * replaces on every value of every request; the loop also measures them (one pass per value).
 */
const SHORT_VALUE_CHARS = 128;

/** Writes `value` as UTF-8 at `at` (room for `3 * value.length` bytes is there); returns the bytes written. */
function writeValue(b: Buffer, value: string, at: number): number {
  const n = value.length;
  if (n <= SHORT_VALUE_CHARS) {
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) break;
      b[at + i] = c;
    }
    if (i === n) return n;
  }
  return b.write(value, at, 'utf8');
}

/** Literal keys (no well-known id) already checked: a service sends the same few on every request. */
const checkedKeys = new Set<string>();
const MAX_CHECKED_KEYS = 64;

function isWireKey(key: string): boolean {
  if (checkedKeys.has(key)) return true;
  if (key.length === 0 || key.length > 255 || key === '__proto__') return false;
  for (let i = 0; i < key.length; i++) if (!validKeyByte(key.charCodeAt(i))) return false;
  if (checkedKeys.size < MAX_CHECKED_KEYS) checkedKeys.add(key);
  return true;
}

/** Most bytes a metadata section may hold (its length is a u16). */
const MAX_METADATA_BYTES = 0xffff;

/**
 * Where the metadata section is written first, in one pass over each value (measuring and writing
 * together), then copied into the frame once its size is known. It grows to the largest section
 * written, at most about 256 KiB (a section that cannot fit the u16 length is refused early).
 */
let scratch = Buffer.allocUnsafe(1024);

/** Writes the metadata section of a request into `scratch`; returns its bytes, or -1 when it cannot go on the wire. */
function writeMetadata(md: Metadata): number {
  let at = 0;
  for (const key in md) {
    const value = md[key]!;
    // A value of more UTF-16 units than the section's bytes cannot fit in any encoding.
    if (value.length > MAX_METADATA_BYTES) return -1;
    const room = at + 259 + 3 * value.length;
    if (room > scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, scratch.length * 2));
      scratch.copy(grown, 0, 0, at);
      scratch = grown;
    }
    const b = scratch;
    const known = KEY_IDS.get(key);
    if (known === undefined) {
      if (!isWireKey(key)) return -1;
      b[at++] = 0;
      b[at++] = key.length;
      for (let i = 0; i < key.length; i++) b[at++] = key.charCodeAt(i);
    } else {
      b[at++] = known;
    }
    const n = writeValue(b, value, at + 2);
    b[at] = n >>> 8;
    b[at + 1] = n & 0xff;
    at += 2 + n;
    if (at > MAX_METADATA_BYTES) return -1;
  }
  return at;
}

/**
 * A request frame. `path` binds `methodId` on the connection (first use); `timeoutMs` 0 means no
 * deadline. Returns undefined when the metadata does not fit the format (a key that is not
 * lower-case ASCII or is over 255 bytes, a section over 64 KiB): the caller fails the call.
 */
export function encodeRequest(
  id: number,
  methodId: number,
  path: string | undefined,
  timeoutMs: number,
  md: Metadata,
  body: Uint8Array,
): Buffer | undefined {
  const mdBytes = writeMetadata(md);
  if (mdBytes < 0) return undefined;
  const pathBytes = path === undefined ? 0 : 2 + path.length;
  const b = header(
    FrameKind.REQUEST,
    path === undefined ? 0 : FLAG_METHOD_PATH,
    id,
    2 + pathBytes + 6 + mdBytes + body.byteLength,
  );
  let at = b.writeUInt16BE(methodId, HEADER_BYTES);
  if (path !== undefined) {
    at = b.writeUInt16BE(path.length, at);
    at += b.write(path, at, 'latin1');
  }
  at = b.writeUInt32BE(timeoutMs, at);
  at = b.writeUInt16BE(mdBytes, at);
  scratch.copy(b, at, 0, mdBytes);
  b.set(body, at + mdBytes);
  return b;
}

/** A decoded request header; one per connection, overwritten by {@link decodeRequest}. */
export interface RequestView {
  methodId: number;
  /** The method path when the frame binds one. */
  path: string | undefined;
  timeoutMs: number;
  metadata: Metadata;
  /** Offset of the protobuf body in the frame buffer. */
  bodyStart: number;
}

function validKeyByte(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e;
}

function validPathByte(c: number): boolean {
  return c > 0x20 && c < 0x7f;
}

function isAscii(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return false;
  return true;
}

/**
 * Decodes the header of a request frame (`b[start..end)` is the payload after the frame header)
 * into `view`. Returns undefined, or what is malformed. Never throws.
 */
export function decodeRequest(
  b: Buffer,
  start: number,
  end: number,
  flags: number,
  view: RequestView,
): string | undefined {
  let at = start;
  if (end - at < 2) return 'request too short';
  view.methodId = b.readUInt16BE(at);
  at += 2;
  view.path = undefined;
  if (flags & FLAG_METHOD_PATH) {
    if (end - at < 2) return 'request too short';
    const n = b.readUInt16BE(at);
    at += 2;
    if (n === 0 || end - at < n) return 'bad method path length';
    for (let i = at; i < at + n; i++) if (!validPathByte(b[i]!)) return 'method path is not printable ASCII';
    view.path = b.toString('latin1', at, at + n);
    at += n;
  } else if (flags !== 0) {
    return `unknown request flags ${flags}`;
  }
  if (end - at < 6) return 'request too short';
  view.timeoutMs = b.readUInt32BE(at);
  const mdEnd = at + 6 + b.readUInt16BE(at + 4);
  at += 6;
  if (mdEnd > end) return 'metadata longer than the frame';
  const md: Metadata = {};
  while (at < mdEnd) {
    const keyId = b[at++]!;
    let key: string;
    if (keyId === 0) {
      if (at >= mdEnd) return 'metadata truncated';
      const n = b[at++]!;
      if (n === 0 || at + n > mdEnd) return 'bad metadata key length';
      for (let i = at; i < at + n; i++)
        if (!validKeyByte(b[i]!)) return 'metadata key is not lower-case ASCII';
      key = b.toString('latin1', at, at + n);
      if (key === '__proto__') return 'reserved metadata key';
      at += n;
    } else {
      const known = WELL_KNOWN_KEYS[keyId];
      if (known === undefined) return `unknown metadata key id ${keyId}`;
      key = known;
    }
    if (mdEnd - at < 2) return 'metadata truncated';
    const n = b.readUInt16BE(at);
    at += 2;
    if (at + n > mdEnd) return 'metadata value longer than the section';
    // ASCII (every value Refront sends) needs no UTF-8 decoding: latin1 reads it byte for byte.
    if (isAscii(b, at, at + n)) md[key] = b.toString('latin1', at, at + n);
    else if (isUtf8(b.subarray(at, at + n))) md[key] = b.toString('utf8', at, at + n);
    else return 'metadata value is not UTF-8';
    at += n;
  }
  view.metadata = md;
  view.bodyStart = at;
  return undefined;
}

/** Receives what a {@link FrameDecoder} reads. */
export interface FrameSink {
  /** The peer's preface (first 16 bytes). Return false to stop reading. */
  onPreface(b: Buffer, at: number): boolean;
  /** One frame: its payload is `b[start..end)`. Return false to stop reading. */
  onFrame(kind: number, flags: number, id: number, b: Buffer, start: number, end: number): boolean;
  /** The byte stream broke the framing; the decoder reads nothing more. */
  onMalformed(reason: string): void;
}

/**
 * A streaming decoder: frames split across chunks and many frames per chunk. Whole frames inside
 * a chunk are handed over as views of that chunk (no copy); only a frame split across chunks is
 * copied, once, into a buffer of its exact size.
 */
export class FrameDecoder {
  private partial: Buffer | undefined;
  private filled = 0;
  private prefaceDone = false;
  private stopped = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly sink: FrameSink,
  ) {}

  /** Bytes held of an incomplete frame (non-zero at end of stream means a truncated frame). */
  get buffered(): number {
    return this.filled;
  }

  /** Stops reading: later chunks are ignored. */
  stop(): void {
    this.stopped = true;
    this.partial = undefined;
    this.filled = 0;
  }

  /** Feeds one chunk. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    let at = 0;
    if (this.partial) {
      at = this.fill(chunk);
      if (at < 0) return;
    }
    this.scan(chunk, at);
  }

  /** Completes the held partial frame from `chunk`; returns where the rest of the chunk starts, or -1. */
  private fill(chunk: Buffer): number {
    let partial = this.partial!;
    let at = 0;
    if (this.prefaceDone && partial.length === 4 && this.filled < 4) {
      // Only the length prefix was known to be split: learn the frame size first.
      const take = Math.min(4 - this.filled, chunk.length);
      chunk.copy(partial, this.filled, 0, take);
      this.filled += take;
      at = take;
      if (this.filled < 4) return -1;
      const size = this.frameSize(partial, 0);
      if (size < 0) return -1;
      const whole = Buffer.allocUnsafe(size);
      partial.copy(whole, 0, 0, 4);
      this.partial = partial = whole;
    }
    const take = Math.min(partial.length - this.filled, chunk.length - at);
    chunk.copy(partial, this.filled, at, at + take);
    this.filled += take;
    at += take;
    if (this.filled < partial.length) return -1;
    this.partial = undefined;
    this.filled = 0;
    if (!this.deliver(partial, 0)) return -1;
    return at;
  }

  /** Total bytes of the frame whose length prefix is at `at`, or -1 after reporting it as malformed. */
  private frameSize(b: Buffer, at: number): number {
    const length = b.readUInt32BE(at);
    if (length > this.maxFrameBytes) {
      this.fail(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
      return -1;
    }
    if (length < HEADER_AFTER_LENGTH) {
      this.fail(`frame length ${length} is shorter than a frame header`);
      return -1;
    }
    return length + 4;
  }

  private scan(chunk: Buffer, start: number): void {
    let at = start;
    const n = chunk.length;
    while (at < n && !this.stopped) {
      const left = n - at;
      let size: number;
      if (!this.prefaceDone) size = PREFACE_BYTES;
      else if (left < 4) size = 4;
      else {
        size = this.frameSize(chunk, at);
        if (size < 0) return;
      }
      if (left < size) {
        // Keep the tail; a frame of unknown size keeps just its length prefix for now.
        this.partial = Buffer.allocUnsafe(size);
        chunk.copy(this.partial, 0, at, n);
        this.filled = left;
        return;
      }
      if (!this.deliver(chunk, at)) return;
      at += size;
    }
  }

  /** Hands over the preface or frame at `at`; false when reading must stop. */
  private deliver(b: Buffer, at: number): boolean {
    if (!this.prefaceDone) {
      this.prefaceDone = true;
      if (!this.sink.onPreface(b, at)) this.stopped = true;
      return !this.stopped;
    }
    const end = at + 4 + b.readUInt32BE(at);
    if (!this.sink.onFrame(b[at + 4]!, b[at + 5]!, b.readUInt32BE(at + 6), b, at + HEADER_BYTES, end)) {
      this.stopped = true;
    }
    return !this.stopped;
  }

  private fail(reason: string): void {
    this.stop();
    this.sink.onMalformed(reason);
  }
}
