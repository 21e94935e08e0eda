import { EchoResponse } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import type { MessageType } from './contracts.js';
import { encodeMessage } from './encodeMessage.js';

const response = (message: string, payload = Buffer.alloc(0)) =>
  EchoResponse.fromPartial({ message, payload, seen: { caller: 'tickets', tenant: 'acme' } });

describe('encodeMessage', () => {
  it('gives the same bytes as the generated codec, with nested messages', () => {
    const m = response('hello');
    expect(encodeMessage(EchoResponse, m)).toEqual(EchoResponse.encode(m).finish());
    expect(EchoResponse.decode(encodeMessage(EchoResponse, m))).toEqual(m);
  });

  it('returns bytes that later calls do not overwrite', () => {
    const first = encodeMessage(EchoResponse, response('first'));
    const copy = Uint8Array.from(first);
    encodeMessage(EchoResponse, response('second, and longer than the first'));
    expect(first).toEqual(copy);
    expect(EchoResponse.decode(first).message).toBe('first');
  });

  it('encodes correctly after a codec threw half-way through', () => {
    const throwing: MessageType<{ message: string }> = {
      ...(EchoResponse as unknown as MessageType<{ message: string }>),
      encode(message, writer) {
        writer?.uint32(10).string(message.message).fork();
        throw new TypeError('cannot encode this field');
      },
    };
    expect(() => encodeMessage(throwing, { message: 'partial bytes left in the writer' })).toThrow(TypeError);
    const m = response('after the failure');
    expect(encodeMessage(EchoResponse, m)).toEqual(EchoResponse.encode(m).finish());
  });

  it('gives a codec that encodes through encodeMessage a writer of its own', () => {
    const inner = response('inner');
    const outer: MessageType<{ message: string }> = {
      ...(EchoResponse as unknown as MessageType<{ message: string }>),
      encode(message, writer) {
        // A hand-written codec embedding another message's bytes.
        const nested = encodeMessage(EchoResponse, inner);
        return writer!.uint32(10).string(message.message).uint32(18).bytes(nested);
      },
    };
    const bytes = encodeMessage(outer, { message: 'outer' });
    const decoded = EchoResponse.decode(bytes);
    expect(decoded.message).toBe('outer');
    expect(EchoResponse.decode(decoded.payload)).toEqual(inner);
  });

  it('encodes small messages correctly after a large one', () => {
    const large = response('large', Buffer.alloc(200_000, 7));
    expect(EchoResponse.decode(encodeMessage(EchoResponse, large)).payload.length).toBe(200_000);
    const small = response('small');
    expect(encodeMessage(EchoResponse, small)).toEqual(EchoResponse.encode(small).finish());
  });
});
