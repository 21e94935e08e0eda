import { ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { decodeEventBody } from './decodeEventBody.js';

const event = ThingHappened.fromPartial({ id: 'order-42', sequence: 42, note: 'hello' });
const binary = ThingHappened.encode(event).finish();
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('decodeEventBody', () => {
  it('decodes binary protobuf under every name publishers give it, and with no content type', () => {
    for (const type of [
      'application/x-protobuf',
      'application/protobuf',
      'Application/Vnd.Google.Protobuf; proto=refront.testing.v1.ThingHappened',
      'application/octet-stream',
      '',
    ])
      expect(decodeEventBody(ThingHappened, type, binary)).toEqual(event);
  });

  it('decodes the protobuf JSON mapping of an object', () => {
    const body = json({ id: 'order-42', sequence: 42, note: 'hello' });
    expect(decodeEventBody(ThingHappened, 'application/json', body)).toEqual(event);
    expect(decodeEventBody(ThingHappened, 'application/json; charset=utf-8', body)).toEqual(event);
    expect(decodeEventBody(ThingHappened, 'application/vnd.acme.thing+json', body)).toEqual(event);
  });

  it('refuses JSON that does not parse or is not an object, as CORE_DECODE_FAILED', () => {
    for (const body of [new TextEncoder().encode('{"id": '), json([1, 2]), json('order-42'), json(null)])
      expect(() => decodeEventBody(ThingHappened, 'application/json', body)).toThrow(
        expect.objectContaining({
          status: 'INVALID_ARGUMENT',
          reason: 'CORE_DECODE_FAILED',
          retryable: false,
        }),
      );
    expect(() =>
      decodeEventBody(ThingHappened, 'application/json', new Uint8Array([0x7b, 0xff, 0x7d])),
    ).toThrow(/not UTF-8 JSON/);
  });

  it('refuses a body that does not decode as protobuf, as CORE_DECODE_FAILED', () => {
    expect(() =>
      decodeEventBody(ThingHappened, 'application/x-protobuf', new Uint8Array([0x0a, 0xff, 0xff])),
    ).toThrow(expect.objectContaining({ reason: 'CORE_DECODE_FAILED', retryable: false }));
  });

  it('refuses any other content type instead of decoding it as protobuf', () => {
    // "hello" happens to decode as protobuf into a message of defaults: it must not reach a handler.
    const text = new TextEncoder().encode('hello');
    for (const type of ['text/plain', 'application/xml', 'application/avro'])
      expect(() => decodeEventBody(ThingHappened, type, text)).toThrow(
        expect.objectContaining({
          status: 'INVALID_ARGUMENT',
          reason: 'CORE_UNSUPPORTED_CONTENT_TYPE',
          retryable: false,
        }),
      );
  });
});
