import type {
  CallOptions,
  Client,
  ClientUnaryCall,
  Metadata as GrpcMetadata,
  ServiceError,
} from '@grpc/grpc-js';
import { type Call, CoreReason, RefrontError } from '@refront/core';
import { type ClientMethod, decodeMessage, type Reply } from '@refront/core/transport';
import { InstancePicks, type InstancePool, type PooledInstance } from '@refront/discovery';
import {
  cancelSignalOf,
  isInstanceFailure,
  type PolicyCall,
  type ResilienceAttemptContext,
  type ResiliencePolicy,
} from '@refront/resilience';
import { fromGrpcError } from '../errors.js';
import { identity, toGrpcMetadata } from './metadata.js';

/** One picked instance with its own grpc-js client. */
type Picked = PooledInstance<Client>;

/** What an {@link OutgoingCall} needs of its channel. */
export interface CallRoute {
  /** The instances (discovery), or undefined with one fixed target. */
  readonly pool: InstancePool<Client> | undefined;
  /** The client of the fixed target, when there is no pool. */
  readonly single: Client | undefined;
  /** The service (discovery) or target name. */
  readonly name: string;
  /** The policy calls run under: its breaker's `failureStatuses` decide what counts against an instance. */
  readonly policy: ResiliencePolicy | undefined;
  /** The caller the connections' `user-agent` names (its `x-refront-caller` is not sent again). */
  readonly announced: string | undefined;
}

/** Call options without a deadline (grpc-js only reads them). */
const NO_DEADLINE: CallOptions = {};

/**
 * Starts the grpc-js call with no stack captured: `makeUnaryRequest` makes an `Error` per call
 * only to append the caller's stack to a failed call's error (3-4 µs per call on a 2-core VM,
 * more than all of this package's own work), and from here that stack would hold only Refront's
 * frames. Refront's errors wrap grpc-js's as `cause`, so nothing a user sees loses a frame.
 */
function startCall(
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

function decodeFailed(path: string, e: unknown): RefrontError {
  return new RefrontError('INTERNAL', CoreReason.DECODE_FAILED, `response of ${path} does not decode`, {
    cause: e,
    retryable: false,
  });
}

/**
 * One call on a gRPC channel, as one object: the policy's view of it (options, target picker,
 * attempts, outcome; see `PolicyCall`), the grpc-js callback and abort listener of each attempt,
 * and the instance picks of its attempts (an instance per attempt, so its breaker guards it and a
 * retry goes to another one when there is one; see `InstancePicks`). Each attempt is one
 * `makeUnaryRequest`; the only function made per call is the callback grpc-js requires, shared by
 * every attempt. No promise.
 */
export class OutgoingCall extends InstancePicks<Client> implements PolicyCall<Buffer>, Reply {
  readonly signal: AbortSignal | undefined;
  readonly deadline: number | undefined;
  readonly idempotent: boolean;
  readonly target: string;
  /** The attempt in flight: its context (undefined without a policy) and where its outcome goes. */
  private ctx: ResilienceAttemptContext | undefined = undefined;
  private done: Reply | undefined = undefined;
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
    private readonly route: CallRoute,
    private readonly method: ClientMethod,
    private readonly call: Call<unknown>,
    private readonly body: Buffer,
    private readonly reply: Reply,
  ) {
    super(route.pool);
    this.signal = call.signal;
    this.deadline = call.deadline;
    this.idempotent = method.info.idempotent;
    this.target = route.name;
    this.onStatus = (err, res) => this.status(err, res);
  }

  /** Sends the call once, without a policy: one instance, the call's own deadline and signal. */
  sendOnce(): void {
    let picked: Picked | undefined;
    try {
      picked = this.take();
    } catch (e: unknown) {
      this.reply.fail(e);
      return;
    }
    this.send(picked, undefined, this, this.call.deadline, this.call.signal);
  }

  attempt(ctx: ResilienceAttemptContext, done: Reply): void {
    const picked = this.take();
    // grpc-js ends the call at ctx.deadline itself; only the caller's cancel needs a listener.
    this.send(picked, ctx, done, ctx.deadline ?? this.call.deadline, cancelSignalOf(ctx));
  }

  private send(
    picked: Picked | undefined,
    ctx: ResilienceAttemptContext | undefined,
    done: Reply,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): void {
    this.ctx = ctx;
    this.done = done;
    const call = this.call;
    call.target = picked?.key ?? this.route.name;
    if (signal?.aborted) {
      this.end(true, signal.reason);
      return;
    }
    try {
      this.inFlight = startCall(
        picked?.connection ?? (this.route.single as Client),
        this.method.info.path,
        this.body,
        toGrpcMetadata(call.metadata, this.route.announced),
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
    if (err) {
      const e = fromGrpcError(err);
      // The attempt's full signal (deadline included) is read only on failure: an attempt the
      // policy's timeout ended is not the instance's fault.
      const aborted = this.ctx ? this.ctx.signal.aborted : this.call.signal?.aborted === true;
      this.end(aborted || !isInstanceFailure(e, this.route.policy), e);
      return;
    }
    const done = this.done as Reply;
    this.done = undefined;
    this.settle(true);
    done.ok(res);
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

  /** Reports the attempt in flight as failed with `error`; `instanceOk` is what its pick records. */
  private end(instanceOk: boolean, error: unknown): void {
    const done = this.done as Reply;
    this.done = undefined;
    this.settle(instanceOk);
    done.fail(error);
  }

  /** The policy (or the only attempt): the call succeeded; the response is decoded here, once. */
  ok(response: unknown): void {
    let decoded: unknown;
    try {
      decoded = decodeMessage(this.method.responseType, response as Buffer);
    } catch (e: unknown) {
      this.reply.fail(decodeFailed(this.method.info.path, e));
      return;
    }
    this.reply.ok(decoded);
  }

  /** The policy (or the only attempt): the call failed; a pick no attempt took ends as a failure of its instance. */
  fail(error: unknown): void {
    this.abandon();
    this.reply.fail(error);
  }
}
