import { CoreErrors, defineErrors, type RefrontError } from '@refront/core';
import { reasonsOf } from '@refront/core/transport';

/**
 * The errors `@refront/rpc` raises itself, each declared once with its status and meaning (listed
 * in `docs/errors.md#refrontrpc`). The lanes built on it raise core's reasons for the rest: a
 * request body that does not decode is `CORE_DECODE_FAILED`, a channel or server used after
 * `close()` `CORE_CLOSED`, `add()` after `start()` `CORE_INVALID_STATE`.
 *
 * @example
 * if (RpcErrors.RESPONSE_DECODE_FAILED.is(e)) reportContractMismatch(e);
 */
export const RpcErrors = defineErrors('RPC', {
  BAD_TLS_MATERIAL: {
    status: 'INVALID_ARGUMENT',
    message: (files: string, why: string) => `TLS files ${files} are not a usable set: ${why}`,
    description:
      'A server or channel was created with TLS files that do not make a whole set: a certificate or CA bundle that does not parse, or a private key that does not match the certificate. Nothing was started. (A later rotation to such a set is refused without an error: the current files stay, a warning is logged and `refront_tls_reloads_total{outcome="rejected"}` counts it.)',
  },
  REQUEST_ENCODE_FAILED: {
    status: 'INVALID_ARGUMENT',
    message: (path: string) => `request for ${path} does not encode`,
    description:
      "The client could not encode the request for its method's contract (a value of the wrong type for a field): refused before any attempt, nothing was sent. `cause` has the encoder's error.",
  },
  RESPONSE_DECODE_FAILED: {
    status: 'INTERNAL',
    message: (path: string) => `response of ${path} does not decode`,
    retryable: false,
    description:
      "The server's answer is not valid wire data for the method's response type (the two sides disagree on the contract): the call may have run. `cause` has the decoder's error.",
  },
});

/** The reason codes of {@link RpcErrors}, for comparisons: `e.reason === RpcReason.RESPONSE_DECODE_FAILED`. */
export const RpcReason = reasonsOf(RpcErrors);

/**
 * What a server answers a request body that does not decode: INVALID_ARGUMENT
 * `CORE_DECODE_FAILED`, not retryable, the decoder's message in `details.metadata.error`.
 *
 * @example
 * try { request = decodeMessage(method.requestType, body); } catch (e: unknown) { reply.fail(requestDecodeFailed(path, e)); }
 */
export function requestDecodeFailed(path: string, e: unknown): RefrontError {
  const why = e instanceof Error ? e.message : String(e);
  return CoreErrors.DECODE_FAILED.with(
    { cause: e, details: { metadata: { error: why } } },
    `request for ${path}`,
    why,
  );
}

/**
 * What a client's call fails with when the response body does not decode: INTERNAL
 * `RPC_RESPONSE_DECODE_FAILED`, not retryable.
 *
 * @example
 * try { res = decodeMessage(method.responseType, body); } catch (e: unknown) { reply.fail(responseDecodeFailed(path, e)); }
 */
export function responseDecodeFailed(path: string, e: unknown): RefrontError {
  return RpcErrors.RESPONSE_DECODE_FAILED.with({ cause: e }, path);
}
