import {
  type ServiceDefinition as GrpcServiceDefinition,
  Server,
  type ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { CoreErrors, type RefrontError, type ServiceDefinition, toRefrontError } from '@refront/core';
import {
  type Dispatcher,
  decodeMessage,
  encodeMessage,
  METADATA_PEER_IDENTITY,
  type ServerMethod,
  type ServiceState,
} from '@refront/core/transport';
import {
  type NetworkRpcServer,
  RpcServerBase,
  type RpcServerOptions,
  requestDecodeFailed,
  type TlsReloader,
} from '@refront/rpc';
import { HealthImplementation } from 'grpc-health-check';
import { GrpcErrors, toGrpcStatus } from './errors.js';
import { cancelReason } from './internal/cancelReason.js';
import { asBuffer, fromGrpcMetadata, identity } from './internal/metadata.js';
import { type ConnectionOptions, channelOptions, serverCredentials } from './options.js';
import { addReflection, type ReflectionOptions } from './reflection.js';

/** `rpc.system` of gRPC spans. */
export const GRPC_SYSTEM = 'grpc';

/** Where health learns readiness: a core `Service` fits. */
export interface ReadinessSource {
  readonly state: ServiceState;
  onStateChange(listener: (state: ServiceState) => void): () => void;
}

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions extends RpcServerOptions, ConnectionOptions {
  /** Serve `grpc.health.v1.Health` (Check, Watch, List). @default true */
  readonly health?: boolean;
  /**
   * Health follows this service's readiness: SERVING only while it is `ready`. Without it, health
   * is SERVING from `start()` until `drain()`. @default none
   */
  readonly readiness?: ReadinessSource;
  /** Serve `grpc.reflection.v1` (and v1alpha) from the given `.proto` files. @default none */
  readonly reflection?: ReflectionOptions;
}

/** A gRPC server: a {@link NetworkRpcServer} on grpc-js; also a `ServiceComponent` (`service.use(server)`). */
export interface GrpcServer extends NetworkRpcServer {
  /** Sets the health of every served service (and of the server, `""`). */
  setServing(serving: boolean): void;
}

function encodeFailed(e: unknown): RefrontError {
  return CoreErrors.INTERNAL.with({ cause: e }, 'response does not encode');
}

function deadlineOf(call: ServerUnaryCall<Buffer, Buffer>): number | undefined {
  const d = call.getDeadline();
  if (d instanceof Date) return d.getTime();
  return Number.isFinite(d) ? d : undefined;
}

/** The handle core's dispatcher returns for a call it runs. */
type CallHandle = NonNullable<ReturnType<Dispatcher['dispatch']>>;

/**
 * One call's answer to grpc-js, handed to the dispatcher as its reply (no promise per call), and
 * the cancel grpc-js reports for it. Settles once: grpc-js's 'cancelled' after the status is
 * sent, or a second outcome, is ignored.
 */
class GrpcReply {
  /** The dispatcher's handle of the call, once dispatched (undefined when it refused the call). */
  handle: CallHandle | undefined = undefined;
  private settled = false;
  private readonly arrivedAt = Date.now();

  constructor(
    private readonly callback: sendUnaryData<Buffer>,
    private readonly responseType: ServerMethod['responseType'],
    private readonly domain: string,
    private readonly deadline: number | undefined,
  ) {}

  ok(response: unknown): void {
    if (this.settled) return;
    this.settled = true;
    let body: Buffer;
    try {
      body = asBuffer(encodeMessage(this.responseType, response));
    } catch (e: unknown) {
      this.callback(toGrpcStatus(encodeFailed(e), this.domain) as never);
      return;
    }
    this.callback(null, body);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.callback(toGrpcStatus(toRefrontError(error), this.domain) as never);
  }

  /** grpc-js reported the call cancelled (client gone, deadline passed, or status already sent). */
  cancelled(): void {
    if (!this.settled) this.handle?.cancel(cancelReason(this.deadline, this.arrivedAt, Date.now()));
  }
}

class GrpcServerImpl extends RpcServerBase<GrpcServerOptions> implements GrpcServer {
  readonly name = 'grpc';
  private readonly server: Server;
  private readonly health: HealthImplementation | undefined;
  private readonly watches = new Set<ServerWritableStream<unknown, unknown>>();
  private readonly domain: string;
  private readonly credentials: ServerCredentials;
  private readonly tls: TlsReloader | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(options: GrpcServerOptions) {
    super(options, { system: GRPC_SYSTEM, bindFailed: GrpcErrors.BIND_FAILED });
    this.domain = options.service;
    ({ credentials: this.credentials, tls: this.tls } = serverCredentials(options.tls, options));
    this.server = new Server(channelOptions('server', options));
    if (options.health ?? true) {
      this.health = new HealthImplementation({ '': 'NOT_SERVING' });
      this.health.addToServer({ addService: (def, impl) => this.addTracked(def, impl) });
    }
    if (options.reflection) addReflection(this.server, options.reflection);
  }

  /** Adds the health service with its Watch streams tracked, so `close()` can end them. */
  private addTracked(def: GrpcServiceDefinition, impl: UntypedServiceImplementation): void {
    const watch = impl.watch as (call: ServerWritableStream<unknown, unknown>) => void;
    this.server.addService(def, {
      ...impl,
      watch: (call: ServerWritableStream<unknown, unknown>) => {
        this.watches.add(call);
        call.on('cancelled', () => this.watches.delete(call));
        watch(call);
      },
    });
  }

  protected override added(definition: ServiceDefinition): void {
    for (const def of Object.values(definition.methods)) {
      const path = `/${definition.fullName}/${def.name}`;
      const method = this.dispatcher.method(path);
      if (method) this.server.register(path, this.handler(path, method), identity, identity, 'unary');
    }
    this.health?.setStatus(definition.fullName, 'NOT_SERVING');
  }

  private handler(path: string, method: ServerMethod) {
    const { dispatcher, domain, peerIdentity } = this;
    const { requestType, responseType } = method;
    return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
      let request: unknown;
      try {
        request = decodeMessage(requestType, call.request);
      } catch (e: unknown) {
        callback(toGrpcStatus(requestDecodeFailed(path, e), domain) as never);
        return;
      }
      const metadata = fromGrpcMetadata(call.metadata);
      if (peerIdentity) {
        const cert = call.getAuthContext().sslPeerCertificate;
        const id = cert ? peerIdentity(cert) : undefined;
        if (id !== undefined) metadata[METADATA_PEER_IDENTITY] = id;
      }
      const deadline = deadlineOf(call);
      const reply = new GrpcReply(callback, responseType, domain, deadline);
      // grpc-js ends the call at its deadline and emits 'cancelled' (once) then, when the client
      // goes away, and also once the status is sent: only a call still running is cancelled. No
      // AbortController per call: the dispatcher makes the signal only if a handler reads it.
      call.on('cancelled', () => reply.cancelled());
      reply.handle = dispatcher.dispatch(
        path,
        { request, metadata, deadline, cancelsThroughHandle: true, peer: call.getPeer() },
        reply,
      );
    };
  }

  setServing(serving: boolean): void {
    if (!this.health) return;
    const status = serving && this.state === 'started' ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    for (const name of this.dispatcher.services) this.health.setStatus(name, status);
  }

  protected listen(host: string, port: number): Promise<number> {
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${hostPart}:${port}`, this.credentials, (err, bound) => {
        if (err) reject(err);
        else resolve(bound);
      });
    });
  }

  protected override started(): void {
    const source = this.options.readiness;
    if (source) {
      this.unsubscribe = source.onStateChange((s) => this.setServing(s === 'ready'));
      this.setServing(source.state === 'ready');
    } else {
      this.setServing(true);
    }
  }

  protected draining(): void {
    this.setServing(false);
  }

  protected async release(): Promise<void> {
    this.unsubscribe?.();
    this.tls?.close();
    for (const call of this.watches) call.end();
    this.watches.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, this.closeTimeoutMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * Creates a gRPC server for ts-proto contracts. Each call runs through core's dispatcher: request
 * context (deadline, signal, caller, tenant, logger, trace), a SERVER span, RED metrics, error
 * mapping to gRPC status with google.rpc details, and `auth` when given. A body that does not
 * decode gets INVALID_ARGUMENT and an unknown method UNIMPLEMENTED; the server keeps serving.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for a bad option; `GRPC_BAD_CREDENTIALS` when a PEM file cannot be read.
 * @example
 * const server = createGrpcServer({ service: 'tickets', logger, metrics, port: 50051 });
 * server.add(TicketsServiceDefinition, tickets);
 * await server.start();
 * // on shutdown: health NOT_SERVING, new calls UNAVAILABLE, in-flight calls finish
 * await server.drain(AbortSignal.timeout(10_000));
 * await server.close();
 */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  return new GrpcServerImpl(options);
}
