/**
 * The Refront error model: one error class whose `status` is a gRPC status name and whose
 * `reason` is a package-prefixed code, mapped to gRPC codes and HTTP statuses from one table.
 */

/** gRPC status names and their numeric codes (google.rpc.Code). */
export const STATUS_CODES = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC status name other than OK: the coarse class of a failure. */
export type Status = Exclude<keyof typeof STATUS_CODES, 'OK'>;

/**
 * HTTP status per gRPC status. Follows google.rpc's mapping, except FAILED_PRECONDITION, which
 * answers 409 Conflict: a request that is valid but conflicts with the resource's state.
 */
export const HTTP_STATUS: Readonly<Record<Status, number>> = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 409,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

/** Statuses a caller may retry without knowing anything about the operation. */
/** The statuses whose errors are retryable unless said otherwise. @internal */
export const RETRYABLE_BY_DEFAULT: ReadonlySet<Status> = new Set<Status>([
  'UNAVAILABLE',
  'RESOURCE_EXHAUSTED',
  'ABORTED',
]);

const CODE_TO_STATUS: readonly Status[] = (Object.keys(STATUS_CODES) as (keyof typeof STATUS_CODES)[]).filter(
  (k): k is Status => k !== 'OK',
);

/** One field that failed validation (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  /** Path of the field, dotted (`lines.0.amount`). */
  readonly field: string;
  /** What was expected, for a human. */
  readonly description: string;
  /**
   * The rule that failed, as a stable id a program can match (google.rpc.BadRequest's
   * FieldViolation `reason`), e.g. protovalidate's `string.uuid` or `required`. @default none
   */
  readonly reason?: string;
}

/** Structured details carried by a {@link RefrontError}; every transport keeps them. */
export interface ErrorDetails {
  /** Field violations for INVALID_ARGUMENT (google.rpc.BadRequest). */
  readonly fieldViolations?: readonly FieldViolation[];
  /** Extra facts about the failure (google.rpc.ErrorInfo metadata). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** How long the caller should wait before retrying (google.rpc.RetryInfo), in ms. */
  readonly retryDelayMs?: number;
}

/** Options of the {@link RefrontError} constructor. */
export interface RefrontErrorOptions {
  /** Structured details. @default {} */
  readonly details?: ErrorDetails;
  /** Whether retrying may succeed. @default true for UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED */
  readonly retryable?: boolean;
  /** The error this one wraps (a grpc-js error, an amqplib error…). */
  readonly cause?: unknown;
  /**
   * The server provably did not run a handler for this call: it was never sent, refused before
   * dispatch, or refused locally; any operation may be retried. Set by the client transport from
   * what it knows; never sent on the wire. @default false
   */
  readonly unprocessed?: boolean;
}

/** The JSON shape of a {@link RefrontError}, as sent over transports and the HTTP gateway. */
export interface RefrontErrorJson {
  readonly status: Status;
  readonly reason: string;
  readonly message: string;
  readonly details?: ErrorDetails;
  readonly retryable?: boolean;
}

const BRAND = Symbol.for('@refront/core/RefrontError');

/**
 * The one error type of Refront. `status` is the coarse gRPC status every transport maps;
 * `reason` is a specific, package-prefixed code (`RESILIENCE_CIRCUIT_OPEN`).
 *
 * @example
 * throw new RefrontError('NOT_FOUND', 'TICKETS_TICKET_NOT_FOUND', `ticket ${id} does not exist`);
 */
export class RefrontError extends Error {
  /** The gRPC status name. */
  readonly status: Status;
  /** A specific code with a package prefix. */
  readonly reason: string;
  /** Structured details (field violations, metadata, retry delay). */
  readonly details: ErrorDetails;
  /** Whether the same call may succeed if retried. */
  readonly retryable: boolean;
  /**
   * The server provably did not run a handler for this call: it was never sent, refused before
   * dispatch, or refused locally; any operation may be retried. Set by the client transport from
   * what it knows (like Finagle's restartable failures and gRPC's transparent retry of refused
   * streams), never sent on the wire: an error a server answers arrives with `false`, unless the
   * transport knows the answer is the server's refusal before dispatch (`CORE_DRAINING`).
   */
  readonly unprocessed: boolean;

  constructor(status: Status, reason: string, message: string, options: RefrontErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RefrontError';
    this.status = status;
    this.reason = reason;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(status);
    this.unprocessed = options.unprocessed ?? false;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** The numeric gRPC status code. */
  get code(): number {
    return STATUS_CODES[this.status];
  }

  /** The HTTP status the gateway answers with. */
  get httpStatus(): number {
    return HTTP_STATUS[this.status];
  }

  /** The wire shape; `cause`, `unprocessed` and the stack stay in this process. */
  toJSON(): RefrontErrorJson {
    const json: { -readonly [K in keyof RefrontErrorJson]: RefrontErrorJson[K] } = {
      status: this.status,
      reason: this.reason,
      message: this.message,
    };
    if (Object.keys(this.details).length > 0) json.details = this.details;
    if (this.retryable !== RETRYABLE_BY_DEFAULT.has(this.status)) json.retryable = this.retryable;
    return json;
  }

  /** Rebuilds an error from its wire shape (the inverse of {@link RefrontError.toJSON}). */
  static fromJSON(json: RefrontErrorJson, cause?: unknown): RefrontError {
    const options: RefrontErrorOptions = { cause };
    return new RefrontError(json.status, json.reason, json.message, {
      ...options,
      ...(json.details ? { details: json.details } : {}),
      ...(json.retryable !== undefined ? { retryable: json.retryable } : {}),
    });
  }
}

/**
 * The same error marked {@link RefrontError.unprocessed}, for a client transport that learns only
 * after the error was made that the server never ran a handler for the call (a draining refusal
 * decoded from the wire, a connection failure that came before the request was written). Returns
 * `error` itself when it is already marked; the copy keeps status, reason, message, details,
 * `retryable`, `cause` and stack.
 *
 * @example
 * const err = errorFromWire(json);
 * reply.failed(err.reason === CoreReason.DRAINING ? asUnprocessed(err) : err);
 */
export function asUnprocessed(error: RefrontError): RefrontError {
  if (error.unprocessed) return error;
  const copy = new RefrontError(error.status, error.reason, error.message, {
    details: error.details,
    retryable: error.retryable,
    cause: error.cause,
    unprocessed: true,
  });
  if (error.stack !== undefined) copy.stack = error.stack;
  return copy;
}

/**
 * Whether `e` is a {@link RefrontError}, even one from another copy of this package.
 *
 * @example
 * if (isRefrontError(e) && e.status === 'NOT_FOUND') return undefined;
 */
export function isRefrontError(e: unknown): e is RefrontError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** Whether `s` names a non-OK gRPC status. */
export function isStatus(s: unknown): s is Status {
  return typeof s === 'string' && s !== 'OK' && Object.hasOwn(STATUS_CODES, s);
}

/** The status name of a numeric gRPC code; unknown codes become UNKNOWN. */
export function statusFromCode(code: number): Status {
  return CODE_TO_STATUS[code - 1] ?? 'UNKNOWN';
}
