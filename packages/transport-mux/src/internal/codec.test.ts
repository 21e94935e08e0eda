import { describe, expect, it } from 'vitest';
import { FrameKind, MUX_PROTOCOL_VERSION } from '../protocol.js';
import {
  decodeRequest,
  encodeBody,
  encodeControl,
  encodePreface,
  encodeRequest,
  FrameDecoder,
  type RequestView,
} from './codec.js';

type Seen = { kind: number; id: number; payload: string };

function decoder(max = 1 << 20) {
  const frames: Seen[] = [];
  const malformed: string[] = [];
  let prefaces = 0;
  const d = new FrameDecoder(max, {
    onPreface: () => {
      prefaces++;
      return true;
    },
    onFrame: (kind, _flags, id, b, start, end) => {
      frames.push({ kind, id, payload: b.toString('latin1', start, end) });
      return true;
    },
    onMalformed: (r) => malformed.push(r),
  });
  return { d, frames, malformed, prefaces: () => prefaces };
}

const stream = Buffer.concat([
  encodePreface(MUX_PROTOCOL_VERSION, 4096, 10),
  encodeBody(FrameKind.RESPONSE, 1, Buffer.from('hello')),
  encodeControl(FrameKind.PING, 2),
  encodeBody(FrameKind.ERROR, 3, '{"status":"NOT_FOUND"}'),
  encodeBody(FrameKind.RESPONSE, 4, Buffer.alloc(300, 0x61)),
]);
const expected: Seen[] = [
  { kind: FrameKind.RESPONSE, id: 1, payload: 'hello' },
  { kind: FrameKind.PING, id: 2, payload: '' },
  { kind: FrameKind.ERROR, id: 3, payload: '{"status":"NOT_FOUND"}' },
  { kind: FrameKind.RESPONSE, id: 4, payload: 'a'.repeat(300) },
];

describe('frame codec', () => {
  it('decodes many frames from one chunk', () => {
    const { d, frames, prefaces } = decoder();
    d.push(stream);
    expect(prefaces()).toBe(1);
    expect(frames).toEqual(expected);
    expect(d.buffered).toBe(0);
  });

  it('decodes the same frames split at every possible point, and byte by byte', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { d, frames } = decoder();
      d.push(stream.subarray(0, cut));
      d.push(stream.subarray(cut));
      expect(frames, `cut at ${cut}`).toEqual(expected);
    }
    const { d, frames } = decoder();
    for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1));
    expect(frames).toEqual(expected);
  });

  it('reports an oversized or too short frame once and reads nothing more', () => {
    const { d, frames, malformed } = decoder(100);
    const big = encodeBody(FrameKind.RESPONSE, 1, Buffer.alloc(200));
    d.push(Buffer.concat([encodePreface(1, 4096, 1), big, encodeControl(FrameKind.PING, 1)]));
    expect(malformed).toEqual(['frame of 206 bytes exceeds the limit of 100']);
    expect(frames).toEqual([]);
    const short = decoder();
    const b = Buffer.alloc(4);
    short.d.push(Buffer.concat([encodePreface(1, 4096, 1), b]));
    expect(short.malformed[0]).toMatch(/shorter than a frame header/);
  });

  it('round-trips a request: method binding, deadline, well-known and literal metadata, body', () => {
    const md = { traceparent: 'tp', 'x-refront-caller': 'me', 'x-custom': 'ünïcode' };
    const frame = encodeRequest(9, 3, '/a.B/C', 1234, md, Buffer.from('body'))!;
    const view: RequestView = { methodId: 0, path: undefined, timeoutMs: 0, metadata: {}, bodyStart: 0 };
    expect(decodeRequest(frame, 10, frame.length, frame[5]!, view)).toBeUndefined();
    expect(view).toMatchObject({ methodId: 3, path: '/a.B/C', timeoutMs: 1234, metadata: md });
    expect(frame.toString('latin1', view.bodyStart)).toBe('body');
    expect(encodeRequest(1, 1, undefined, 0, { 'Bad Key': 'x' }, Buffer.alloc(0))).toBeUndefined();
  });

  it('round-trips metadata values of every shape: empty, ASCII, non-ASCII at any place, long, surrogate pairs', () => {
    const long = 'a'.repeat(200);
    const md = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x-refront-caller': '',
      'x-refront-tenant': 'tenant-é',
      authorization: `${long}é`,
      'x-a': 'é-first',
      'x-b': `${'b'.repeat(127)}é`,
      'x-c': '𝄞 clef',
      'x-d': long,
    };
    const frame = encodeRequest(2, 1, undefined, 0, md, Buffer.from('x'))!;
    const view: RequestView = { methodId: 0, path: undefined, timeoutMs: 0, metadata: {}, bodyStart: 0 };
    expect(decodeRequest(frame, 10, frame.length, frame[5]!, view)).toBeUndefined();
    expect(view.metadata).toEqual(md);
    expect(frame.toString('latin1', view.bodyStart)).toBe('x');
  });

  it('refuses a metadata section over 64 KiB, and encodes one just under it intact after a larger one', () => {
    const view: RequestView = { methodId: 0, path: undefined, timeoutMs: 0, metadata: {}, bodyStart: 0 };
    // 'x-big' literal entry: 1 + 1 + 5 key bytes, 2 length bytes, then the value.
    const fits = { 'x-big': 'v'.repeat(0xffff - 9) };
    expect(
      encodeRequest(1, 1, undefined, 0, { 'x-big': 'v'.repeat(0xffff - 8) }, Buffer.alloc(0)),
    ).toBeUndefined();
    expect(
      encodeRequest(1, 1, undefined, 0, { 'x-big': 'é'.repeat(40_000) }, Buffer.alloc(0)),
    ).toBeUndefined();
    expect(
      encodeRequest(1, 1, undefined, 0, { 'x-big': 'v'.repeat(70_000) }, Buffer.alloc(0)),
    ).toBeUndefined();
    const frame = encodeRequest(1, 1, undefined, 0, fits, Buffer.from('tail'))!;
    expect(decodeRequest(frame, 10, frame.length, 0, view)).toBeUndefined();
    expect(view.metadata).toEqual(fits);
    expect(frame.toString('latin1', view.bodyStart)).toBe('tail');
    // A small section after the large ones: nothing of theirs leaks into it.
    const small = encodeRequest(2, 1, undefined, 0, { 'x-k': 'v' }, Buffer.from('b'))!;
    expect(decodeRequest(small, 10, small.length, 0, view)).toBeUndefined();
    expect(view.metadata).toEqual({ 'x-k': 'v' });
  });

  it('checks a literal key on every request, not once: a key refused stays refused', () => {
    for (let i = 0; i < 3; i++) {
      expect(encodeRequest(1, 1, undefined, 0, { 'x-ok': 'v' }, Buffer.alloc(0))).toBeDefined();
      expect(encodeRequest(1, 1, undefined, 0, { 'X-Bad': 'v' }, Buffer.alloc(0))).toBeUndefined();
      expect(encodeRequest(1, 1, undefined, 0, { ['k'.repeat(256)]: 'v' }, Buffer.alloc(0))).toBeUndefined();
    }
  });

  it('rejects malformed request headers without throwing', () => {
    const view: RequestView = { methodId: 0, path: undefined, timeoutMs: 0, metadata: {}, bodyStart: 0 };
    const frame = encodeRequest(1, 1, '/a.B/C', 0, { 'x-k': 'v' }, Buffer.alloc(0))!;
    for (let end = 10; end < frame.length; end++) {
      expect(() => decodeRequest(frame, 10, end, frame[5]!, view)).not.toThrow();
    }
    expect(decodeRequest(frame, 10, 12, 1, view)).toBe('request too short');
    expect(decodeRequest(frame, 10, frame.length, 0x80, view)).toBe('unknown request flags 128');
    const literal = encodeRequest(1, 1, undefined, 0, { 'x-aa': 'v' }, Buffer.alloc(0))!;
    literal.write('\u00ff', literal.indexOf('x-aa'), 'latin1');
    expect(decodeRequest(literal, 10, literal.length, 0, view)).toBe('metadata key is not lower-case ASCII');
  });
});
