import type { MessageType } from './contracts.js';
import { CoreErrors } from './coreErrors.js';
import { decodeMessage } from './decodeMessage.js';
import type { RefrontError } from './errors.js';
import { PROTOBUF_CONTENT_TYPE } from './events.js';

/** Content type of an event body in the protobuf JSON mapping, which consumers also accept. */
export const JSON_CONTENT_TYPE = 'application/json';

/** Names publishers use for binary protobuf; an absent content type means protobuf too. */
const PROTOBUF_TYPES = new Set([
  '',
  PROTOBUF_CONTENT_TYPE,
  'application/protobuf',
  'application/vnd.google.protobuf',
  'application/x-google-protobuf',
  'application/octet-stream',
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes an event body by its envelope's content type: binary protobuf (Refront's own, and what
 * other publishers call it), or the protobuf JSON mapping (`application/json`, a JSON object, as
 * a publisher in another language without generated code would send). Any other content type is
 * refused rather than decoded as protobuf: bytes of another format can decode "successfully" into
 * an event of default values, which the handler would then act on.
 *
 * @throws RefrontError INVALID_ARGUMENT: `CORE_UNSUPPORTED_CONTENT_TYPE` for a content type it
 *   does not decode, `CORE_DECODE_FAILED` for a body that does not decode, strictly for protobuf
 *   (see `decodeMessage`); neither retryable.
 */
export function decodeEventBody<T>(type: MessageType<T>, contentType: string, body: Uint8Array): T {
  // The hot path: every event Refront publishes.
  if (contentType === PROTOBUF_CONTENT_TYPE) return decodeMessage(type, body);
  const media = mediaType(contentType);
  if (PROTOBUF_TYPES.has(media)) return decodeMessage(type, body);
  if (media === JSON_CONTENT_TYPE || media.endsWith('+json')) return fromJson(type, body);
  throw CoreErrors.UNSUPPORTED_CONTENT_TYPE(contentType);
}

/** `Application/JSON; charset=utf-8` → `application/json`. */
function mediaType(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function fromJson<T>(type: MessageType<T>, body: Uint8Array): T {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch (e: unknown) {
    throw decodeFailed(type, `not UTF-8 JSON: ${String(e)}`);
  }
  // ts-proto's fromJSON turns anything into a message of defaults; only an object is one.
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw decodeFailed(type, 'the JSON body is not an object');
  try {
    return type.fromJSON(value);
  } catch (e: unknown) {
    throw decodeFailed(type, String(e));
  }
}

function decodeFailed(type: MessageType<unknown>, why: string): RefrontError {
  return CoreErrors.DECODE_FAILED(`the body of ${type.$type}`, why);
}
