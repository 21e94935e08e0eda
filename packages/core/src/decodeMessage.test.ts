import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { EchoRequest, EchoResponse, SleepRequest } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import type { MessageType } from './contracts.js';
import { decodeMessage } from './decodeMessage.js';
import { encodeMessage } from './encodeMessage.js';

const bytes = (...b: number[]) => new Uint8Array(b);

/** Expects `decodeMessage` to refuse `body` as INVALID_ARGUMENT CORE_DECODE_FAILED, its message matching `why`. */
function expectRefused(type: MessageType<unknown>, body: Uint8Array, why: RegExp): void {
  let caught: unknown;
  try {
    decodeMessage(type, body);
  } catch (e: unknown) {
    caught = e;
  }
  expect(caught).toMatchObject({
    status: 'INVALID_ARGUMENT',
    reason: 'CORE_DECODE_FAILED',
    retryable: false,
  });
  expect((caught as Error).message).toMatch(why);
}

/** A message of one double (field 1) and, optionally, a nested one of the same type (field 2). */
interface Point {
  x: number;
  inner: Point | undefined;
}

/**
 * A codec written by hand (the test contracts have no fixed-width field): reads field 1 as a
 * double, through the reader's DataView, and decodes field 2 with a second `decodeMessage`, as
 * code that decodes an embedded body while being decoded would.
 */
const PointType: MessageType<Point> = {
  $type: 'test.Point',
  encode(message, writer = new BinaryWriter()) {
    writer.uint32(9).double(message.x);
    if (message.inner) writer.uint32(18).bytes(PointType.encode(message.inner).finish());
    return writer;
  },
  decode(input) {
    const reader = input instanceof BinaryReader ? input : new BinaryReader(input);
    const out: Point = { x: 0, inner: undefined };
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag === 9) out.x = reader.double();
      else if (tag === 18) out.inner = decodeMessage(PointType, reader.bytes());
      else reader.skip(tag & 7);
    }
    return out;
  },
  fromPartial: (o) => ({ x: o.x ?? 0, inner: undefined }),
  fromJSON: () => ({ x: 0, inner: undefined }),
  toJSON: (m) => m,
};

describe('decodeMessage', () => {
  it('reads fixed-width fields of each body, not of the one decoded before, nested decodes included', () => {
    const body = (x: number, inner?: Point) => PointType.encode({ x, inner }).finish();
    expect(decodeMessage(PointType, body(1.5)).x).toBe(1.5);
    expect(decodeMessage(PointType, body(2.5)).x).toBe(2.5);
    const nested = decodeMessage(PointType, body(3.5, { x: 4.5, inner: undefined }));
    expect(nested).toEqual({ x: 3.5, inner: { x: 4.5, inner: undefined } });
    expect(decodeMessage(PointType, body(-7.25)).x).toBe(-7.25);
  });

  it('decodes what the generated codec encodes, nested messages included', () => {
    const m = EchoResponse.fromPartial({
      message: 'hi',
      payload: Buffer.from([1, 2]),
      seen: { caller: 'tickets' },
    });
    expect(decodeMessage(EchoResponse, encodeMessage(EchoResponse, m))).toEqual(m);
    expect(decodeMessage(EchoRequest, bytes())).toEqual(EchoRequest.fromPartial({}));
  });

  it('still decodes a valid message with unknown fields of every wire type, dropping them', () => {
    const known = encodeMessage(EchoRequest, EchoRequest.fromPartial({ message: 'a' }));
    // field 15 varint 300, field 16 fixed64, field 17 length-delimited "xy", field 18 fixed32
    const unknown = [0x78, 0xac, 0x02, 0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x8a, 0x01, 2, 0x78, 0x79];
    const fixed32 = [0x95, 0x01, 1, 2, 3, 4];
    const body = bytes(...unknown, ...known, ...fixed32);
    expect(decodeMessage(EchoRequest, body)).toEqual(EchoRequest.fromPartial({ message: 'a' }));
  });

  it('refuses field number 0, which the generated codec takes as the end of the message', () => {
    expect(EchoRequest.decode(bytes(0x00))).toEqual(EchoRequest.fromPartial({})); // the lenient codec
    expectRefused(EchoRequest, bytes(0x00), /field number 0 at offset 0/);
    expectRefused(EchoRequest, bytes(0x0a, 0x01, 0x61, 0x00, 0x0a, 0x01, 0x62), /field number 0 at offset 3/);
  });

  it('refuses a lone end-group tag, a start group and wire types 6 and 7', () => {
    expect(EchoRequest.decode(bytes(0x0c))).toEqual(EchoRequest.fromPartial({}));
    expectRefused(EchoRequest, bytes(0x0c), /group \(wire type 4\) of field 1 at offset 0/);
    expectRefused(EchoRequest, bytes(0x0a, 0x00, 0x1b, 0x1c), /group \(wire type 3\) of field 3 at offset 2/);
    expectRefused(EchoRequest, bytes(0x0e), /invalid wire type 6/);
    expectRefused(EchoRequest, bytes(0x0f), /invalid wire type 7/);
  });

  it('refuses a truncated varint, tag, length or fixed-width field', () => {
    expectRefused(SleepRequest, bytes(0x08, 0x80), /truncated or over-long varint of field 1 at offset 1/);
    expectRefused(SleepRequest, bytes(0x08, ...Array<number>(10).fill(0xff), 0x01), /over-long varint/);
    expectRefused(EchoRequest, bytes(0x80), /truncated tag at offset 0/);
    expectRefused(
      EchoRequest,
      bytes(0x0a, 0x05, 0x61),
      /length-delimited field 1 at offset 0 runs past the end/,
    );
    expectRefused(EchoRequest, bytes(0x0a, 0x80), /truncated length of field 1 at offset 1/);
    expectRefused(EchoRequest, bytes(0x7d, 1, 2), /fixed-width field 15 at offset 0 runs past the end/);
  });

  it('refuses field number 0 or an end group inside a nested message (a map entry)', () => {
    // seen = { k: … }: the entry holds key "k", then field 0, then value "v". The generated codec
    // stops the entry at field 0, and its parent reads the entry's rest ("v") as its own payload.
    const entry = [0x0a, 0x01, 0x6b, 0x00, 0x12, 0x01, 0x76];
    const body = bytes(0x0a, 0x01, 0x61, 0x1a, entry.length, ...entry);
    expect(EchoResponse.decode(body).payload).toEqual(Buffer.from('v')); // the lenient codec
    expectRefused(EchoResponse, body, /field number 0 at offset 8/);
    // Ending the entry exactly at its end, so only a check of the entry itself sees it.
    expectRefused(EchoResponse, bytes(0x1a, 0x04, 0x0a, 0x01, 0x6b, 0x00), /field number 0 at offset 5/);
    expectRefused(
      EchoResponse,
      bytes(0x1a, 0x04, 0x0a, 0x01, 0x6b, 0x14),
      /group \(wire type 4\) of field 2/,
    );
    expectRefused(EchoResponse, bytes(0x1a, 0x04, 0x0a, 0x05, 0x6b, 0x6b), /runs past the end/);
  });

  it('refuses a string that is not UTF-8', () => {
    expect(EchoRequest.decode(bytes(0x0a, 0x01, 0xff)).message).toBe('\ufffd');
    expectRefused(EchoRequest, bytes(0x0a, 0x01, 0xff), /refront\.testing\.v1\.EchoRequest does not decode/);
  });

  it('decodes strings of every shape: empty, ASCII short and long, non-ASCII at any place, surrogate pairs', () => {
    const shapes = [
      '',
      'hello, 32 bytes of payload text!',
      'a'.repeat(256),
      'a'.repeat(257),
      'a'.repeat(5000),
      'é-first',
      `${'b'.repeat(255)}é`,
      `${'b'.repeat(300)}é`,
      '𝄞 clef',
      '\u0000\u007f',
    ];
    for (const message of shapes) {
      const body = encodeMessage(EchoRequest, EchoRequest.fromPartial({ message }));
      expect(decodeMessage(EchoRequest, body).message).toBe(message);
    }
    // A valid prefix then an invalid byte past the scanned ASCII: still refused.
    const invalid = new Uint8Array([0x0a, 0x03, 0x61, 0x62, 0xff]);
    expectRefused(EchoRequest, invalid, /does not decode/);
  });
});
