import {
  create,
  type DescMessage,
  fromBinary,
  fromJson,
  isMessage,
  type JsonValue,
  type Message,
  type Registry,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { type BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import type { MessageType } from '@refront/core';

/**
 * A core {@link MessageType} made from a descriptor instead of generated code: protobuf-es
 * messages inside, protobuf's JSON mapping outside (`fromJSON` is strict: an unknown field or a
 * value of the wrong type throws, which a caller reports as INVALID_ARGUMENT). It encodes to the
 * same bytes as the generated type of the same contract, so it crosses every lane (the in-process
 * network copies through the codecs of both ends; gRPC and mux send the bytes).
 */
export function dynamicMessageType(schema: DescMessage, registry: Registry): MessageType<Message> {
  return {
    $type: schema.typeName,
    encode(message: Message, writer?: BinaryWriter) {
      const bytes = toBinary(schema, message);
      return (writer ?? new BinaryWriter()).raw(bytes);
    },
    decode(input: BinaryReader | Uint8Array, length?: number) {
      if (input instanceof Uint8Array) return fromBinary(schema, input);
      return fromBinary(schema, remaining(input, length));
    },
    fromPartial: (object) => (isMessage(object, schema) ? object : create(schema, object as never)),
    fromJSON: (object) => fromJson(schema, object as JsonValue, { registry }),
    toJSON: (message) => toJson(schema, message, { registry, alwaysEmitImplicit: true }),
  };
}

/** The fields left in `reader` (up to `length` bytes), re-encoded as they were read. */
function remaining(reader: BinaryReader, length: number | undefined): Uint8Array {
  const end = length === undefined ? reader.len : reader.pos + length;
  const out = new BinaryWriter();
  while (reader.pos < end) {
    const [no, wireType] = reader.tag();
    out.tag(no, wireType).raw(reader.skip(wireType, no));
  }
  return out.finish();
}
