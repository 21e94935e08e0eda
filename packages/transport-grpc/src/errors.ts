import { Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import {
  CoreErrors,
  CoreReason,
  defineErrors,
  type ErrorDetails,
  type FieldViolation,
  isRefrontError,
  RefrontError,
  type Status,
} from '@refront/core';
import { type RefrontErrorOptions, reasonsOf, STATUS_CODES, statusFromCode } from '@refront/core/transport';
import type { Any } from './gen/google/protobuf/any.js';
import { BadRequest, ErrorInfo, RetryInfo } from './gen/google/rpc/error_details.js';
import { Status as RpcStatus } from './gen/google/rpc/status.js';

/**
 * The errors `@refront/transport-grpc` raises itself, each declared once with its status and
 * meaning (listed in `docs/errors.md#refronttransport-grpc`). Errors a server sent are rebuilt on
 * the client with the status and reason they carry ({@link fromGrpcError}), not through a
 * registry; a status without Refront details gets `GRPC_STATUS` ({@link GrpcReason}), whose
 * status is the one received.
 *
 * @example
 * if (GrpcErrors.BIND_FAILED.is(e)) process.exit(1);
 */
export const GrpcErrors = defineErrors('GRPC', {
  BAD_CREDENTIALS: {
    status: 'INVALID_ARGUMENT',
    message: (label: string, file: string) => `cannot read ${label} ${file}`,
    description:
      'A PEM file of the `tls` option could not be read (thrown at construction); the file is named.',
  },
  REFLECTION_FAILED: {
    status: 'INVALID_ARGUMENT',
    message: (protoFiles: readonly string[]) => `reflection: cannot load ${protoFiles.join(', ')}`,
    description: "Reflection's `.proto` files did not load (thrown at construction).",
  },
  BIND_FAILED: {
    status: 'UNAVAILABLE',
    message: (address: string) => `cannot bind ${address}`,
    description:
      '`start()` could not bind the address (taken, or not allowed); `cause` has the socket error.',
  },
});

/**
 * The reason codes `@refront/transport-grpc` sets: those of {@link GrpcErrors}, and `STATUS` for a
 * gRPC status received without Refront details (any non-Refront server, or grpc-js itself), which
 * keeps the status received.
 */
export const GrpcReason = Object.freeze({ ...reasonsOf(GrpcErrors), STATUS: 'GRPC_STATUS' } as const);

/** One of {@link GrpcReason}. */
export type GrpcReasonCode = (typeof GrpcReason)[keyof typeof GrpcReason];

/** Trailer carrying the serialized google.rpc.Status (the gRPC richer error model). */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
/** ErrorInfo metadata key that carries `retryable` when it differs from the status's default. */
export const RETRYABLE_KEY = 'refront-retryable';

const TYPE_PREFIX = 'type.googleapis.com/';
const ERROR_INFO = `${TYPE_PREFIX}${ErrorInfo.$type}`;
const BAD_REQUEST = `${TYPE_PREFIX}${BadRequest.$type}`;
const RETRY_INFO = `${TYPE_PREFIX}${RetryInfo.$type}`;

/** Core's default of `retryable` per status (RefrontError's constructor). */
function defaultRetryable(status: Status): boolean {
  return status === 'UNAVAILABLE' || status === 'RESOURCE_EXHAUSTED' || status === 'ABORTED';
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function pack(typeUrl: string, value: Uint8Array): Any {
  return { typeUrl, value: toBuffer(value) };
}

/**
 * Serializes `error` as a google.rpc.Status: ErrorInfo (reason, domain, metadata), BadRequest
 * (field violations) and RetryInfo (retry delay), so any gRPC client can read the details.
 */
export function encodeStatusDetails(error: RefrontError, domain: string): Buffer {
  const metadata: Record<string, string> = { ...(error.details.metadata ?? {}) };
  if (error.retryable !== defaultRetryable(error.status)) metadata[RETRYABLE_KEY] = String(error.retryable);
  const details: Any[] = [
    pack(ERROR_INFO, ErrorInfo.encode({ reason: error.reason, domain, metadata }).finish()),
  ];
  const violations = error.details.fieldViolations;
  if (violations && violations.length > 0) {
    const fieldViolations = violations.map((v) => ({
      field: v.field,
      description: v.description,
      reason: v.reason ?? '',
    }));
    details.push(pack(BAD_REQUEST, BadRequest.encode({ fieldViolations }).finish()));
  }
  const delay = error.details.retryDelayMs;
  if (delay !== undefined && delay >= 0) {
    const retryDelay = { seconds: Math.floor(delay / 1000), nanos: Math.round((delay % 1000) * 1e6) };
    details.push(pack(RETRY_INFO, RetryInfo.encode({ retryDelay }).finish()));
  }
  return toBuffer(RpcStatus.encode({ code: error.code, message: error.message, details }).finish());
}

/**
 * The gRPC status a server answers for `error`: code, message, and google.rpc.Status details in
 * the `grpc-status-details-bin` trailer. `cause` and the stack never leave the process.
 */
export function toGrpcStatus(error: RefrontError, domain: string): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(error, domain));
  return { code: error.code, details: error.message, metadata };
}

interface Decoded {
  reason?: string;
  metadata?: Record<string, string>;
  fieldViolations?: FieldViolation[];
  retryDelayMs?: number;
}

function decodeDetails(bytes: Buffer): Decoded {
  const status = RpcStatus.decode(bytes);
  const out: Decoded = {};
  for (const any of status.details) {
    if (any.typeUrl === ERROR_INFO) {
      const info = ErrorInfo.decode(any.value);
      out.reason = info.reason;
      out.metadata = info.metadata;
    } else if (any.typeUrl === BAD_REQUEST) {
      out.fieldViolations = BadRequest.decode(any.value).fieldViolations.map((v) =>
        v.reason === ''
          ? { field: v.field, description: v.description }
          : { field: v.field, description: v.description, reason: v.reason },
      );
    } else if (any.typeUrl === RETRY_INFO) {
      const d = RetryInfo.decode(any.value).retryDelay;
      if (d) out.retryDelayMs = d.seconds * 1000 + Math.round(d.nanos / 1e6);
    }
  }
  return out;
}

/** Reason of a status that came without details: core's where one means the same. */
function bareReason(status: Status): string {
  if (status === 'UNIMPLEMENTED') return CoreReason.UNIMPLEMENTED;
  if (status === 'DEADLINE_EXCEEDED') return CoreReason.DEADLINE_EXCEEDED;
  if (status === 'CANCELLED') return CoreReason.CANCELLED;
  return GrpcReason.STATUS;
}

/**
 * grpc-js's own UNAVAILABLE for a call it never sent (its source, 1.14: the picker's "No
 * connection established", prefixed by the balancer's name for round_robin; the resolver's "Name
 * resolution failed"; a RST_STREAM REFUSED_STREAM, "Stream refused by server", which HTTP/2
 * guarantees the server did not process and a GOAWAY gives every stream past its last id).
 */
const NEVER_SENT =
  /^(?:[a-z_]+: )?No connection established|^Name resolution failed|^Stream refused by server$/;
/**
 * grpc-js's own UNAVAILABLE for a call whose stream had started when the connection went
 * ("Connection dropped" from the transport's disconnect, or the socket's ECONNRESET / ETIMEDOUT
 * surfaced through RST_STREAM INTERNAL_ERROR): the server may have run it.
 */
const LOST_IN_FLIGHT = /^Connection dropped$|ECONNRESET|ETIMEDOUT/;

/**
 * How a status without Refront details was delivered: never sent (unprocessed), lost in flight,
 * or unknown (anything else: an answer of a foreign server or proxy; the safe side).
 */
function bareError(status: Status, text: string, e: ServiceError): RefrontError {
  if (status === 'UNAVAILABLE' && NEVER_SENT.test(text))
    return new RefrontError(status, GrpcReason.STATUS, text, { cause: e, unprocessed: true });
  if (status === 'UNAVAILABLE' && LOST_IN_FLIGHT.test(text))
    return CoreErrors.LOST_IN_FLIGHT.with(
      { cause: e },
      `${text}: the connection was lost with the call in flight; the server may have processed it`,
    );
  return new RefrontError(status, bareReason(status), text, { cause: e });
}

function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}

/**
 * Rebuilds the {@link RefrontError} a server sent, from the gRPC status and its
 * `grpc-status-details-bin` trailer; the grpc-js error stays in `cause`. A status without
 * Refront details (another gRPC server, or grpc-js's own UNAVAILABLE) gets reason
 * `GRPC_STATUS`, or core's reason for UNIMPLEMENTED, DEADLINE_EXCEEDED and CANCELLED; grpc-js's
 * UNAVAILABLE for a call it never sent is `unprocessed`, and for a connection dropped under a
 * started call is `CORE_LOST_IN_FLIGHT`. A Refront server's `CORE_DRAINING` (its refusal before
 * dispatch) is `unprocessed`.
 */
export function fromGrpcError(e: unknown): RefrontError {
  if (isRefrontError(e)) return e;
  if (!isServiceError(e)) return CoreErrors.INTERNAL.with({ cause: e }, String(e));
  const status: Status = e.code === STATUS_CODES.OK ? 'UNKNOWN' : statusFromCode(e.code);
  const raw = e.metadata?.get(STATUS_DETAILS_KEY)[0];
  const text = e.details ?? e.message;
  if (!(raw instanceof Buffer)) return bareError(status, text, e);
  let decoded: Decoded = {};
  try {
    decoded = decodeDetails(raw);
  } catch {
    // A malformed trailer from a foreign server: keep the code and message.
  }
  const metadata = decoded.metadata ?? {};
  const retryFlag = metadata[RETRYABLE_KEY];
  if (retryFlag !== undefined) delete metadata[RETRYABLE_KEY];
  const details: { -readonly [K in keyof ErrorDetails]: ErrorDetails[K] } = {};
  if (decoded.fieldViolations && decoded.fieldViolations.length > 0)
    details.fieldViolations = decoded.fieldViolations;
  if (Object.keys(metadata).length > 0) details.metadata = metadata;
  if (decoded.retryDelayMs !== undefined) details.retryDelayMs = decoded.retryDelayMs;
  const reason = decoded.reason || bareReason(status);
  const options: RefrontErrorOptions = {
    cause: e,
    details,
    ...(retryFlag === undefined ? {} : { retryable: retryFlag === 'true' }),
    ...(reason === CoreReason.DRAINING ? { unprocessed: true } : {}),
  };
  return new RefrontError(status, reason, text, options);
}
