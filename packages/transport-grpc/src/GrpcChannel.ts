import {
  type CallOptions,
  Client,
  type ClientUnaryCall,
  connectivityState,
  type Metadata as GrpcMetadata,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  type Call,
  type Channel,
  type ClientMethod,
  CoreReason,
  createLogger,
  encodeMessage,
  invalidOption,
  type Logger,
  type Metadata,
  type MetricsRegistry,
  RefrontError,
  type Registry,
} from '@refront/core';
import {
  type BalancerOptions,
  createInstancePool,
  type InstancePool,
  type PooledInstance,
} from '@refront/discovery';
import {
  cancelSignalOf,
  createDefaultPolicy,
  DEFAULT_FAILURE_STATUSES,
  type ResilienceAttemptContext,
  type ResiliencePolicy,
} from '@refront/resilience';
import { fromGrpcError } from './errors.js';
import { asBuffer, callerAgent, identity, toGrpcMetadata } from './internal/metadata.js';
import {
  type ClientTlsOptions,
  type ConnectionOptions,
  channelCredentials,
  channelOptions,
} from './options.js';

/** Options of {@link createGrpcChannel}: where calls go and how they are guarded. */
export interface GrpcChannelOptions extends ConnectionOptions {
  /**
   * One fixed target, in grpc-js syntax (`10.0.0.7:50051`, `dns:///tickets:50051`, `unix:/run/t.sock`).
   * Give either `target` or `discovery` with `service`.
   */
  readonly target?: string;
  /** Where the instances of `service` are; each instance gets its own connection. */
  readonly discovery?: Registry;
  /** The service name in `discovery` (`tickets`). */
  readonly service?: string;
  /** How instances are picked. @default least-outstanding with outlier detection */
  readonly balancer?: Omit<BalancerOptions, 'service'>;
  /**
   * The resilience policy every call runs under; its breaker layer guards each instance
   * (`service/address:port`). `false` opts out (not recommended). @default createDefaultPolicy()
   */
  readonly policy?: ResiliencePolicy | false;
  /** TLS from PEM files; with certFile and keyFile, mutual TLS. @default none (plaintext) */
  readonly tls?: ClientTlsOptions;
  /** Registry for the default policy's counters. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** Logger for the default policy and discovery. @default a logger for `refront-grpc` */
  readonly logger?: Logger | undefined;
  /**
   * Name of the calling service, announced once per connection in `user-agent`
   * (`refront/<caller> grpc-node-js/…`, which a Refront server reads as the caller): calls whose
   * `x-refront-caller` is this name then do not carry the header. A name with a space or a
   * non-ASCII character, or a `grpc.primary_user_agent` in `grpcOptions`, keeps the header on
   * every call. {@link createGrpcClient} sets it from its `caller`.
   * @default none (every call carries its `x-refront-caller`)
   */
  readonly caller?: string | undefined;
}

/** A gRPC {@link Channel}: give it to core's `createClient`. Owns its connections. */
export interface GrpcChannel extends Channel, AsyncDisposable {
  /** The policy calls run under, if any. */
  readonly policy: ResiliencePolicy | undefined;
  /** Ids of the instances with an open connection (discovery only). */
  connectedInstances(): string[];
  /** Stops the discovery watch, closes every connection and the default policy; idempotent. */
  close(): Promise<void>;
}

const INSTANCE_FAILURES: ReadonlySet<string> = new Set(DEFAULT_FAILURE_STATUSES);

/** One picked instance with its own grpc-js client. */
type Picked = PooledInstance<Client>;

/** grpc-js would fail a call at once on a connection in TRANSIENT_FAILURE: pass its instance over. */
function isDown(client: Client): boolean {
  return client.getChannel().getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE;
}

function decodeFailed(path: string, e: unknown): RefrontError {
  return new RefrontError('INTERNAL', CoreReason.DECODE_FAILED, `response of ${path} does not decode`, {
    cause: e,
    retryable: false,
  });
}

/** Call options without a deadline (grpc-js only reads them). */
const NO_DEADLINE = {};

/** Whether the attempt was aborted: its full signal (the policy's timeout included) is made only when asked. */
function wasAborted(abort: AbortSignal | ResilienceAttemptContext | undefined): boolean {
  return abort === undefined ? false : abort instanceof AbortSignal ? abort.aborted : abort.signal.aborted;
}

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

/**
 * One grpc-js unary call with raw bytes on `client`; the caller's cancel (from `abort`) cancels
 * it and rejects with its reason, unchanged. With `picked`, the outcome is reported to its
 * balancer slot in the grpc-js callback itself (no further promise): a failure counts against
 * the instance unless the attempt was aborted (read only on failure: an attempt the policy's
 * timeout ended is not the instance's fault). `announced` is the caller the connection's
 * `user-agent` names (its `x-refront-caller` is not sent again).
 */
function send(
  client: Client,
  path: string,
  body: Buffer,
  metadata: Metadata,
  announced: string | undefined,
  deadline: number | undefined,
  abort: AbortSignal | ResilienceAttemptContext | undefined,
  picked: Picked | undefined,
): Promise<Buffer> {
  // grpc-js ends the call at `deadline` itself; only the caller's cancel needs a listener.
  const signal = abort === undefined || abort instanceof AbortSignal ? abort : cancelSignalOf(abort);
  return new Promise<Buffer>((resolve, reject) => {
    let slot = picked;
    if (signal?.aborted) {
      slot?.pick.done(true);
      reject(signal.reason);
      return;
    }
    let onAbort: (() => void) | undefined;
    const call = startCall(
      client,
      path,
      body,
      toGrpcMetadata(metadata, announced),
      deadline === undefined ? NO_DEADLINE : { deadline },
      (err, res) => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) {
          slot?.pick.done(true);
          reject(signal.reason);
        } else if (err) {
          const e = fromGrpcError(err);
          slot?.pick.done(!INSTANCE_FAILURES.has(e.status) || wasAborted(abort));
          reject(e);
        } else {
          slot?.pick.done(true);
          resolve(res as Buffer);
        }
      },
    );
    if (signal) {
      onAbort = () => {
        call.cancel();
        slot?.pick.done(true);
        slot = undefined;
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

class GrpcChannelImpl implements GrpcChannel {
  readonly policy: ResiliencePolicy | undefined;
  private readonly ownsPolicy: boolean;
  private readonly pool: InstancePool<Client> | undefined;
  private readonly single: Client | undefined;
  private readonly name: string;
  /** The caller named in the connections' `user-agent`, if any. */
  private readonly announced: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: GrpcChannelOptions) {
    const { target, discovery, service } = options;
    if ((target === undefined) === (discovery === undefined)) {
      throw invalidOption('give either target or discovery (with service)');
    }
    if (discovery && !service) throw invalidOption('discovery needs the service name to resolve');
    this.name = service ?? (target as string);
    const logger = options.logger ?? createLogger({ service: 'refront-grpc' });
    const creds = channelCredentials(options.tls);
    const opts = channelOptions('client', options, options.tls);
    const agent = callerAgent(options.caller);
    if (agent !== undefined && opts['grpc.primary_user_agent'] === undefined) {
      opts['grpc.primary_user_agent'] = agent;
      this.announced = options.caller;
    }
    if (discovery) {
      // Each instance gets its own HTTP/2 connection, so calls spread over every pod even behind one DNS name.
      this.pool = createInstancePool({
        registry: discovery,
        service: this.name,
        connect: (_instance, hostPort) => new Client(hostPort, creds, opts),
        close: (client) => client.close(),
        isDown,
        balancer: options.balancer,
        logger,
      });
    } else {
      this.single = new Client(target as string, creds, opts);
    }
    this.ownsPolicy = options.policy === undefined;
    this.policy =
      options.policy === false
        ? undefined
        : (options.policy ?? createDefaultPolicy({ name: this.name, metrics: options.metrics, logger }));
  }

  unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res> {
    if (this.closing) {
      return Promise.reject(
        new RefrontError('UNAVAILABLE', CoreReason.CLOSED, `channel to ${this.name} is closed`),
      );
    }
    let body: Buffer;
    try {
      body = asBuffer(encodeMessage(method.requestType, call.request));
    } catch (e: unknown) {
      return Promise.reject(
        new RefrontError('INVALID_ARGUMENT', CoreReason.DECODE_FAILED, 'request does not encode', {
          cause: e,
        }),
      );
    }
    const pool = this.pool;
    if (pool && !pool.isReady) {
      return pool.whenReady(call.signal).then(() => this.run(method, call, body));
    }
    return this.run(method, call, body);
  }

  private run<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, body: Buffer): Promise<Res> {
    const path = method.info.path;
    const decode = (buf: Buffer): Res => {
      try {
        return method.responseType.decode(buf);
      } catch (e: unknown) {
        throw decodeFailed(path, e);
      }
    };
    const policy = this.policy;
    if (!policy) {
      const picked = this.pool?.pick();
      return this.attempt(picked, call, path, body, call.deadline, call.signal).then(decode);
    }
    // An instance per attempt: its breaker guards it, and a retry goes to another one when there is one.
    const attempts = this.pool?.attempts();
    return policy
      .execute(
        // grpc-js ends the call at ctx.deadline itself; only the caller's cancel needs a listener.
        (ctx: ResilienceAttemptContext) =>
          this.attempt(attempts?.take(), call, path, body, ctx.deadline ?? call.deadline, ctx),
        {
          signal: call.signal,
          deadline: call.deadline,
          idempotent: method.info.idempotent,
          target: this.name,
          pickTarget: attempts?.pickTarget,
        },
      )
      .then(decode, attempts?.abandon);
  }

  private attempt(
    picked: Picked | undefined,
    call: Call<unknown>,
    path: string,
    body: Buffer,
    deadline: number | undefined,
    abort: AbortSignal | ResilienceAttemptContext | undefined,
  ): Promise<Buffer> {
    call.target = picked?.key ?? this.name;
    return send(
      picked?.connection ?? (this.single as Client),
      path,
      body,
      call.metadata,
      this.announced,
      deadline,
      abort,
      picked,
    );
  }

  connectedInstances(): string[] {
    return this.pool?.connected() ?? [];
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.single?.close();
      await this.pool?.close();
      if (this.ownsPolicy) await this.policy?.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a gRPC channel for core's `createClient`. Each call: resolve (once per service, then a
 * background watch) → balancer → resilience policy (timeout, bulkhead, retry, a circuit breaker per
 * instance) → grpc-js call on that instance's own connection, with the remaining deadline as
 * `grpc-timeout` and the call's metadata (traceparent, caller, tenant).
 *
 * @throws RefrontError `CORE_INVALID_OPTION` without exactly one of target and discovery, or for
 *   a bad limit; `GRPC_BAD_CREDENTIALS` when a PEM file cannot be read.
 * @example
 * const channel = createGrpcChannel({ discovery: registry, service: 'tickets' });
 * const tickets = createClient(TicketsServiceDefinition, channel, { caller: 'time-tracking' });
 */
export function createGrpcChannel(options: GrpcChannelOptions): GrpcChannel {
  return new GrpcChannelImpl(options);
}
