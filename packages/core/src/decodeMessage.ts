import { BinaryReader } from '@bufbuild/protobuf/wire';
import type { MessageType } from './contracts.js';
import { CoreErrors } from './coreErrors.js';
import { isRefrontError, type RefrontError } from './errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const decodeUtf8 = (bytes: Uint8Array): string => strictUtf8.decode(bytes);

/**
 * Decodes `bytes` as `type`, refusing what is not valid wire data for a proto3 contract. ts-proto's
 * generated `decode()` stops at field number 0 or an end-group tag and returns the fields it has
 * read so far, so such a body decodes as a message of defaults (an "empty" request). Here every
 * message is checked before it is decoded: the top level here, each nested message (map entries
 * included) when the generated code enters it. Refused: field number 0, groups (wire types 3 and
 * 4, not part of proto3), wire types 6 and 7, a truncated or over-long varint, a fixed-width or
 * length-delimited field that runs past its message, a string that is not UTF-8, and a decode
 * that does not end exactly at the end of the body. Unknown fields still decode (and are dropped).
 * Every lane decodes request, response and event bodies through this.
 *
 * It costs one pass over each message's tags (length-delimited contents are skipped, not read);
 * the reader is reused from call to call (the generated `decode(bytes)` would make one, and its
 * DataView, per message).
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_DECODE_FAILED` (not retryable), its message naming
 *   the problem and its byte offset in `bytes`.
 * @example
 * const request = decodeMessage(GetTicketRequest, body);
 */
export function decodeMessage<T>(type: MessageType<T>, bytes: Uint8Array): T {
  const problem = wireProblem(bytes, 0, bytes.length);
  if (problem !== undefined) throw decodeFailed(type, problem);
  const reader = readerFor(bytes);
  let message: T;
  let end: number;
  try {
    message = type.decode(reader);
    end = reader.pos;
  } catch (e: unknown) {
    if (e instanceof NestedProblem) throw decodeFailed(type, e.message);
    if (isRefrontError(e)) throw e;
    throw decodeFailed(type, `${e instanceof Error ? e.message : String(e)} (near offset ${reader.pos})`);
  } finally {
    if (reader === pooled) reader.release();
  }
  if (end !== bytes.length) throw decodeFailed(type, `decoding stopped at offset ${end}`);
  return message;
}

function decodeFailed(type: MessageType<unknown>, why: string): RefrontError {
  return CoreErrors.DECODE_FAILED(type.$type, why);
}

/** What the strict reader throws at a nested message that breaks the wire format. */
class NestedProblem extends Error {}

/**
 * A reader that checks each nested message as the generated code enters it. ts-proto's `decode`
 * keeps its recursion depth on the reader (`__tsProtoDecodeDepth`), raising it on entry, after the
 * caller has read the nested message's length: so on entry the bytes just before `pos` are that
 * length, and `[pos, pos + length)` is the message about to be decoded. (A test with a nested
 * field 0 pins this; a ts-proto that stops keeping the depth there fails it.)
 */
class StrictReader extends BinaryReader {
  private depth = 0;
  private body: Uint8Array;
  /** Whether a decode is using this reader (the pooled one is lent to one decode at a time). */
  busy = false;
  /** The DataView over `body`, made when a fixed-width field first needs it (see `view` below). */
  lazyView: DataView | undefined;

  constructor(bytes: Uint8Array) {
    super(bytes, decodeUtf8);
    this.body = bytes;
  }

  /** Points the reader at `bytes`, as a new reader would be; the DataView waits until it is needed. */
  reset(bytes: Uint8Array): void {
    const fields = this as unknown as ReaderFields;
    fields.buf = bytes;
    fields.len = bytes.length;
    this.pos = 0;
    this.body = bytes;
    this.depth = 0;
    this.lazyView = undefined;
    this.busy = true;
  }

  /** Gives the pooled reader back, holding on to no message bytes. */
  release(): void {
    this.reset(EMPTY);
    this.busy = false;
  }

  /**
   * A string field. ASCII up to {@link MAX_SCANNED_CHARS} bytes (ids, names, most text) is read
   * with one native latin1 slice; `BinaryReader`'s own ASCII path builds an array of char codes
   * per string and spreads it into `String.fromCharCode`, about twice the instructions for a
   * 32-byte string. Anything else goes through the strict UTF-8 decoder, as before.
   */
  override string(): string {
    const fields = this as unknown as ReaderFields;
    const len = this.uint32();
    const start = this.pos;
    const end = start + len;
    if (end > fields.len) throw new RangeError('premature EOF');
    this.pos = end;
    const buf = fields.buf;
    if (len <= MAX_SCANNED_CHARS && latin1Slice !== undefined) {
      let i = start;
      while (i < end && (buf[i] as number) < 0x80) i++;
      if (i === end) return latin1Slice.call(buf, start, end);
    }
    return decodeUtf8(buf.subarray(start, end));
  }

  get __tsProtoDecodeDepth(): number {
    return this.depth;
  }

  set __tsProtoDecodeDepth(depth: number) {
    if (depth > this.depth && depth > 1) {
      const problem = wireProblem(this.body, this.pos, this.pos + lengthBefore(this.body, this.pos));
      if (problem !== undefined) throw new NestedProblem(problem);
    }
    this.depth = depth;
  }
}

/** What `reset` rewrites of `BinaryReader` (private there). */
interface ReaderFields {
  buf: Uint8Array;
  len: number;
}

/** Longest string field scanned for ASCII before the native UTF-8 decoder takes over. */
const MAX_SCANNED_CHARS = 256;

/**
 * Node's latin1 slice of a byte range (on `Buffer.prototype`, callable on any `Uint8Array`): for
 * ASCII bytes it is the UTF-8 decoding, without the scan and validation. Undefined where a
 * runtime has none; the decoder is used then.
 */
const latin1Slice = (
  Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }
).latin1Slice;

const EMPTY = new Uint8Array(0);

// BinaryReader reads fixed-width fields through `this.view`, which its constructor sets by plain
// assignment: an accessor here makes the view lazily, for the reused reader's current bytes.
Object.defineProperty(StrictReader.prototype, 'view', {
  get(this: StrictReader): DataView {
    const bytes = (this as unknown as ReaderFields).buf;
    this.lazyView ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.lazyView;
  },
  set(this: StrictReader, view: DataView) {
    this.lazyView = view;
  },
});

/**
 * The one reader decodes reuse, or undefined when this protobuf runtime keeps the view as an own
 * field (an accessor could not then follow `reset`): each decode makes its own reader then.
 */
const pooled: StrictReader | undefined = (() => {
  const reader = new StrictReader(EMPTY);
  return Object.hasOwn(reader, 'view') ? undefined : reader;
})();

/** The pooled reader pointed at `bytes`, or a new one while it is in use (or not poolable). */
function readerFor(bytes: Uint8Array): StrictReader {
  if (pooled === undefined || pooled.busy) return new StrictReader(bytes);
  pooled.reset(bytes);
  return pooled;
}

/** The value of the varint that ends just before `pos` (the non-final bytes of a varint have bit 7 set). */
function lengthBefore(buf: Uint8Array, pos: number): number {
  let start = pos - 1;
  while (start > 0 && ((buf[start - 1] as number) & 0x80) !== 0) start--;
  let value = 0;
  for (let i = pos - 1; i >= start; i--) value = value * 128 + ((buf[i] as number) & 0x7f);
  return value;
}

/**
 * Walks the fields of the message in `buf[pos, end)` without decoding them and returns what makes
 * it invalid wire data, or `undefined`. Length-delimited fields are skipped whole: what they hold
 * (a string, bytes, a nested message, packed numbers) is the generated code's to read.
 */
function wireProblem(buf: Uint8Array, pos: number, end: number): string | undefined {
  while (pos < end) {
    const at = pos;
    const tag = varint(buf, pos, end);
    if (tag < 0) return `${tag === TRUNCATED ? 'truncated' : 'over-long'} tag at offset ${at}`;
    pos = varintEnd;
    if (pos - at > 5 || tag > 0xffffffff) return `tag at offset ${at} overflows 32 bits`;
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) return `field number 0 at offset ${at}`;
    if (wireType === 0) {
      if (varint(buf, pos, end) < 0)
        return `truncated or over-long varint of field ${field} at offset ${pos}`;
      pos = varintEnd;
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
      if (pos > end) return `fixed-width field ${field} at offset ${at} runs past the end`;
    } else if (wireType === 2) {
      const length = varint(buf, pos, end);
      if (length < 0) return `truncated length of field ${field} at offset ${pos}`;
      pos = varintEnd + length;
      if (pos > end) return `length-delimited field ${field} at offset ${at} runs past the end`;
    } else if (wireType === 3 || wireType === 4) {
      return `group (wire type ${wireType}) of field ${field} at offset ${at}: proto3 has no groups`;
    } else {
      return `invalid wire type ${wireType} of field ${field} at offset ${at}`;
    }
  }
  return undefined;
}

const TRUNCATED = -1;
const OVERLONG = -2;
/** Where the last {@link varint} ended (a module variable, so reading one allocates nothing). */
let varintEnd = 0;

/** The varint at `pos` as a number (exact up to 2^53), `TRUNCATED` or `OVERLONG` (> 10 bytes). */
function varint(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return TRUNCATED;
    const b = buf[pos++] as number;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      varintEnd = pos;
      return value;
    }
    scale *= 128;
  }
  return OVERLONG;
}
