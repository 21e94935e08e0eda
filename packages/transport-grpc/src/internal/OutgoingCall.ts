import type {
  CallOptions,
  Client,
  ClientUnaryCall,
  Metadata as GrpcMetadata,
  ServiceError,
} from '@grpc/grpc-js';
import type { Call } from '@refront/core';
import { type ClientMethod, decodeMessage, type Reply } from '@refront/core/transport';
import { type CallRoute, RpcOutgoingCall, responseDecodeFailed } from '@refront/rpc';
import { fromGrpcError } from '../errors.js';
import type { GrpcConnector } from './GrpcConnector.js';
import { asBuffer, identity, toGrpcMetadata } from './metadata.js';

/** Call options without a deadline (grpc-js only reads them). */
const NO_DEADLINE: CallOptions = {};

/**
 * Starts the grpc-js call with no stack captured: `makeUnaryRequest` makes an `Error` per call
 * only to append the caller's stack to a failed call's error (3-4 µs per call on a 2-core VM,
 * more than all of this package's own work), and from here that stack would hold only Refront's
 * frames. Refront's errors wrap grpc-js's as `cause`, so nothing a user sees loses a frame.
 */
function startGrpcCall(
  client: Client,
  path: string,
  body: Buffer,
  metadata: GrpcMetadata,
  options: CallOptions,
  callback: (err: ServiceError | null, res?: Buffer) => void,
): ClientUnaryCall {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return client.makeUnaryRequest<Buffer, Buffer>(
      path,
      identity,
      identity,
      body,
      metadata,
      options,
      callback,
    );
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * One call on a gRPC channel (see `RpcOutgoingCall`): each attempt is one `makeUnaryRequest`,
 * with grpc-js's callback and the caller's abort listener; the only function made per call is
 * the callback grpc-js requires, shared by every attempt. The response is decoded once, after the
 * policy. No promise.
 */
export class OutgoingCall extends RpcOutgoingCall<Client, GrpcConnector> {
  /** The grpc-js call of the attempt in flight, and the cancel signal it listens to. */
  private inFlight: ClientUnaryCall | undefined = undefined;
  private listening: AbortSignal | undefined = undefined;
  /**
   * Callbacks grpc-js still owes for attempts already reported (cancelled on abort). grpc-js calls
   * back exactly once per call, and a cancelled call's status comes before any later call's.
   */
  private owed = 0;
  /** grpc-js's callback for every attempt of this call. */
  private readonly onStatus: (err: ServiceError | null, res?: Buffer) => void;

  constructor(
    route: CallRoute<Client, GrpcConnector>,
    method: ClientMethod,
    call: Call<unknown>,
    body: Uint8Array,
    reply: Reply,
  ) {
    // grpc-js sends Buffers: a view on the same bytes, made once per call.
    super(route, method, call, asBuffer(body), reply);
    this.onStatus = (err, res) => this.status(err, res);
  }

  protected transmit(client: Client, deadline: number | undefined, signal: AbortSignal | undefined): void {
    if (signal?.aborted) {
      this.end(true, signal.reason);
      return;
    }
    try {
      this.inFlight = startGrpcCall(
        client,
        this.method.info.path,
        this.body as Buffer,
        toGrpcMetadata(this.call.metadata, this.route.connector.announced),
        deadline === undefined ? NO_DEADLINE : { deadline },
        this.onStatus,
      );
    } catch (e: unknown) {
      // Refused before it went out (a metadata value grpc-js rejects): not the instance's fault.
      this.end(true, e);
      return;
    }
    if (signal) {
      this.listening = signal;
      signal.addEventListener('abort', this);
    }
  }

  /** grpc-js: the attempt in flight ended. */
  private status(err: ServiceError | null, res: Buffer | undefined): void {
    if (this.owed > 0) {
      this.owed--;
      return;
    }
    this.inFlight = undefined;
    const signal = this.listening;
    if (signal) {
      this.listening = undefined;
      signal.removeEventListener('abort', this);
      if (signal.aborted) {
        this.end(true, signal.reason);
        return;
      }
    }
    if (err) this.failed(fromGrpcError(err));
    else this.answered(res);
  }

  /** The caller's cancel signal aborted the attempt in flight (EventListener object: no closure). */
  handleEvent(): void {
    const signal = this.listening;
    const inFlight = this.inFlight;
    if (!signal || !inFlight) return;
    signal.removeEventListener('abort', this);
    this.listening = undefined;
    this.inFlight = undefined;
    // Counted before cancel(): whenever grpc-js calls back for this call, it is ignored.
    this.owed++;
    inFlight.cancel();
    this.end(true, signal.reason);
  }

  /** The policy (or the only attempt): the call succeeded; the response is decoded here, once. */
  override ok(response: unknown): void {
    let decoded: unknown;
    try {
      decoded = decodeMessage(this.method.responseType, response as Buffer);
    } catch (e: unknown) {
      this.reply.fail(responseDecodeFailed(this.method.info.path, e));
      return;
    }
    this.reply.ok(decoded);
  }
}
