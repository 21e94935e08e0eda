import { Client, connectivityState } from '@grpc/grpc-js';
import {
  type Call,
  type Channel,
  CoreReason,
  createLogger,
  type Logger,
  type MetricsRegistry,
  RefrontError,
  type Registry,
} from '@refront/core';
import { type ClientMethod, encodeMessage, invalidOption, type Reply } from '@refront/core/transport';
import { type BalancerOptions, createInstancePool, type InstancePool } from '@refront/discovery';
import { createDefaultPolicy, type ResiliencePolicy, startCall } from '@refront/resilience';
import { asBuffer, callerAgent } from './internal/metadata.js';
import { type CallRoute, OutgoingCall } from './internal/OutgoingCall.js';
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
  /**
   * See `Channel.send`: the gRPC channel reports to a reply (one grpc-js call per attempt and
   * no promise of its own; `unary` is this in a promise).
   */
  send<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void;
  /** The policy calls run under, if any. */
  readonly policy: ResiliencePolicy | undefined;
  /** Ids of the instances with an open connection (discovery only). */
  connectedInstances(): string[];
  /** Stops the discovery watch, closes every connection and the default policy; idempotent. */
  close(): Promise<void>;
}

/** grpc-js would fail a call at once on a connection in TRANSIENT_FAILURE: pass its instance over. */
function isDown(client: Client): boolean {
  return client.getChannel().getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE;
}

class GrpcChannelImpl implements GrpcChannel, CallRoute {
  readonly policy: ResiliencePolicy | undefined;
  private readonly ownsPolicy: boolean;
  readonly pool: InstancePool<Client> | undefined;
  readonly single: Client | undefined;
  readonly name: string;
  /** The caller named in the connections' `user-agent`, if any. */
  readonly announced: string | undefined;
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
    return new Promise<Res>((resolve, reject) =>
      this.send(method, call, { ok: resolve as (res: unknown) => void, fail: reject }),
    );
  }

  send<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void {
    if (this.closing) {
      reply.fail(
        new RefrontError('UNAVAILABLE', CoreReason.CLOSED, `channel to ${this.name} is closed`, {
          unprocessed: true,
        }),
      );
      return;
    }
    let body: Buffer;
    try {
      body = asBuffer(encodeMessage(method.requestType, call.request));
    } catch (e: unknown) {
      reply.fail(
        new RefrontError('INVALID_ARGUMENT', CoreReason.DECODE_FAILED, 'request does not encode', {
          cause: e,
        }),
      );
      return;
    }
    const out = new OutgoingCall(this, method as ClientMethod, call as Call<unknown>, body, reply);
    startCall(out, this.policy, this.pool);
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
