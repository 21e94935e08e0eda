import { CoreReason, RefrontError } from '@refront/core';

/**
 * What a server answers a request body that does not decode: INVALID_ARGUMENT
 * `CORE_DECODE_FAILED`, not retryable, the decoder's message in `details.metadata.error`.
 *
 * @example
 * try { request = decodeMessage(method.requestType, body); } catch (e: unknown) { reply.fail(requestDecodeFailed(path, e)); }
 */
export function requestDecodeFailed(path: string, e: unknown): RefrontError {
  return new RefrontError(
    'INVALID_ARGUMENT',
    CoreReason.DECODE_FAILED,
    `request for ${path} does not decode`,
    {
      cause: e,
      retryable: false,
      details: { metadata: { error: e instanceof Error ? e.message : String(e) } },
    },
  );
}

/**
 * What a client's call fails with when the response body does not decode: INTERNAL
 * `CORE_DECODE_FAILED`, not retryable.
 *
 * @example
 * try { res = decodeMessage(method.responseType, body); } catch (e: unknown) { reply.fail(responseDecodeFailed(path, e)); }
 */
export function responseDecodeFailed(path: string, e: unknown): RefrontError {
  return new RefrontError('INTERNAL', CoreReason.DECODE_FAILED, `response of ${path} does not decode`, {
    cause: e,
    retryable: false,
  });
}
