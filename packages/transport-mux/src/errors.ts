import { defineErrors } from '@refront/core';
import { reasonsOf } from '@refront/core/transport';

/**
 * The errors `@refront/transport-mux` raises itself, each declared once with its status and
 * meaning (listed in `docs/errors.md#refronttransport-mux`). Errors a server sends in an ERROR
 * frame are rebuilt on the client with the status and reason they carry, not through a registry.
 *
 * @example
 * if (MuxErrors.VERSION_MISMATCH.is(e)) upgradeClient();
 */
export const MuxErrors = defineErrors('MUX', {
  VERSION_MISMATCH: {
    status: 'UNAVAILABLE',
    message: (what: string) => what,
    description:
      'The peer speaks another mux protocol version; the connection was closed (both sides log it). Another instance may speak this one.',
  },
  PROTOCOL_ERROR: {
    status: 'UNAVAILABLE',
    message: (what: string) => what,
    description:
      'The peer broke the protocol (bad preface, malformed or oversized frame, a malformed error frame); the connection was closed.',
  },
  INVALID_METADATA: {
    status: 'INVALID_ARGUMENT',
    message:
      'metadata keys must be lower-case ASCII (a-z 0-9 - _ .), up to 255 bytes; values up to 64 KiB in all',
    description:
      "The call's metadata cannot be framed (a key that is not lower-case ASCII or longer than 255 bytes, values over 64 KiB in all): refused before it was sent.",
  },
  CONNECTION_FAILED: {
    status: 'UNAVAILABLE',
    message: (what: string) => what,
    description:
      'The connection to the instance could not be made (refused, no handshake within `connectTimeoutMs`, request ids exhausted) or closed; a call never sent is `unprocessed`.',
  },
  KEEPALIVE_TIMEOUT: {
    status: 'UNAVAILABLE',
    message: (peer: string, timeoutMs: number) => `${peer} answered no keepalive ping within ${timeoutMs} ms`,
    description: 'The peer did not answer a keepalive ping in time; the connection was closed.',
  },
  FRAME_TOO_LARGE: {
    status: 'RESOURCE_EXHAUSTED',
    message: (what: 'request' | 'response', bytes: number, peer: 'server' | 'client', limit: number) =>
      `${what} of ${bytes} bytes exceeds the ${peer}'s limit of ${limit}`,
    retryable: false,
    description:
      "A request or response is larger than the peer's `maxFrameBytes`: a request is refused before it is sent (`unprocessed`), a response is answered with this error instead.",
  },
  BAD_CREDENTIALS: {
    status: 'INVALID_ARGUMENT',
    message: (label: string, file: string) => `cannot read ${label} ${file}`,
    description:
      'A PEM file of the `tls` option could not be read (thrown at construction); the file is named.',
  },
  BIND_FAILED: {
    status: 'UNAVAILABLE',
    message: (address: string) => `cannot bind ${address}`,
    description:
      '`start()` could not bind the address (taken, or not allowed); `cause` has the socket error.',
  },
});

/** The reason codes of {@link MuxErrors}, for comparisons: `e.reason === MuxReason.CONNECTION_FAILED`. */
export const MuxReason = reasonsOf(MuxErrors);

/** One of {@link MuxReason}. */
export type MuxReasonCode = (typeof MuxReason)[keyof typeof MuxReason];
