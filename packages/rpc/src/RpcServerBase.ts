import type { PeerCertificate } from 'node:tls';
import {
  CoreErrors,
  type RpcServer,
  type ServerAuthOptions,
  type ServiceDefinition,
  type ServiceImplementation,
} from '@refront/core';
import {
  createDispatcher,
  type Dispatcher,
  type DispatcherOptions,
  defaultPeerIdentity,
  type ErrorFactory,
  invalidOption,
} from '@refront/core/transport';
import type { ServerTlsOptions } from './tls.js';

/** Default address a server binds. */
export const DEFAULT_SERVER_HOST = '0.0.0.0';
/** How long `close()` lets connections end on their own before cutting them, in ms. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** What every network server takes. */
export interface RpcServerOptions extends Omit<DispatcherOptions, 'system'> {
  /** Address to bind. @default DEFAULT_SERVER_HOST ('0.0.0.0') */
  readonly host?: string;
  /** Port to bind; 0 picks a free one (read it from `port` after `start()`). @default 0 */
  readonly port?: number;
  /** TLS from PEM files; with `clientCaFile`, mutual TLS. @default none (plaintext) */
  readonly tls?: ServerTlsOptions;
  /** Authentication (bearer token verifier, mTLS identity), run after the default interceptors. @default none */
  readonly auth?: ServerAuthOptions;
  /** See {@link DEFAULT_CLOSE_TIMEOUT_MS}. @default 5000 */
  readonly closeTimeoutMs?: number;
}

/** A network server: core's {@link RpcServer} on a socket; also a `ServiceComponent` (`service.use(server)`). */
export interface NetworkRpcServer extends RpcServer, AsyncDisposable {
  /** The lane (`grpc`, `mux`). */
  readonly name: string;
  /** The dispatcher behind it (calls in flight, draining state). */
  readonly dispatcher: Dispatcher;
  /** The bound port, once started. */
  readonly port: number;
  /** `host:port` to dial, once started. */
  readonly address: string;
  /** Whether the server is started and not draining. */
  ready(): boolean;
}

/** What a lane tells {@link RpcServerBase} about itself. */
export interface ServerLane {
  /** `rpc.system` of the server's spans. */
  readonly system: string;
  /** The error `start()` fails with when the address (`host:port`) cannot be bound: the lane's `BIND_FAILED`. */
  readonly bindFailed: ErrorFactory<string, [address: string]>;
}

/** `host` as it stands before `:port` (an IPv6 address in brackets). */
function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The server every network lane extends: core's dispatcher with `auth` first among the user's
 * interceptors, the mTLS peer identity reader, `add()` before `start()`, a `start()` that binds
 * once, `drain()` and an idempotent `close()` (drain with no grace, then the lane releases its
 * sockets). The lane does the I/O: {@link RpcServerBase.listen}, {@link RpcServerBase.draining},
 * {@link RpcServerBase.release}.
 *
 * @example
 * class MuxServerImpl extends RpcServerBase<MuxServerOptions> implements MuxServer {
 *   readonly name = 'mux';
 *   constructor(options: MuxServerOptions) { super(options, { system: MUX_SYSTEM, bindFailed: MuxErrors.BIND_FAILED }); }
 *   protected listen(host: string, port: number): Promise<number> { … }
 *   protected draining(): void { this.sendGoaway(); }
 *   protected release(started: boolean): Promise<void> { … }
 * }
 */
export abstract class RpcServerBase<O extends RpcServerOptions> implements NetworkRpcServer {
  abstract readonly name: string;
  readonly dispatcher: Dispatcher;
  /** See {@link RpcServerOptions.closeTimeoutMs}, checked. */
  protected readonly closeTimeoutMs: number;
  /** Reads a client certificate's identity: set only when the server requires client certificates (mTLS). */
  protected readonly peerIdentity: ((certificate: PeerCertificate) => string | undefined) | undefined;
  protected state: 'created' | 'started' | 'draining' | 'closed' = 'created';
  private boundPort = 0;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  /** @throws RefrontError `CORE_INVALID_OPTION` for a negative `closeTimeoutMs`. */
  protected constructor(
    protected readonly options: O,
    private readonly lane: ServerLane,
  ) {
    this.dispatcher = createDispatcher({ ...options, system: lane.system });
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    if (!(this.closeTimeoutMs >= 0)) throw invalidOption('closeTimeoutMs must be >= 0');
    this.peerIdentity =
      options.tls?.clientCaFile === undefined
        ? undefined
        : (options.auth?.peerIdentity ?? defaultPeerIdentity);
  }

  /** Binds `host:port` and resolves with the bound port; rejects with the socket's error. */
  protected abstract listen(host: string, port: number): Promise<number>;
  /** The server started draining (or closing): tell health checks and clients. Called once per `drain()`/`close()`. */
  protected abstract draining(): void;
  /** After the last drain: end the connections (cut them after `closeTimeoutMs`); `started` says whether it ever listened. */
  protected abstract release(started: boolean): Promise<void>;
  /** Called by `add()` once the dispatcher serves `definition`. */
  protected added(_definition: ServiceDefinition): void {}
  /** Called once the server listens. */
  protected started(): void {}

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    const host = this.options.host ?? DEFAULT_SERVER_HOST;
    return `${host === '0.0.0.0' ? '127.0.0.1' : hostPart(host)}:${this.boundPort}`;
  }

  add<S extends ServiceDefinition>(definition: S, implementation: ServiceImplementation<S>): void {
    if (this.state !== 'created') {
      throw CoreErrors.INVALID_STATE('add() must come before start()');
    }
    this.dispatcher.add(definition, implementation);
    this.added(definition);
  }

  start(): Promise<void> {
    this.starting ??= this.bind();
    return this.starting;
  }

  private async bind(): Promise<void> {
    if (this.state !== 'created') throw CoreErrors.CLOSED('the server');
    const host = this.options.host ?? DEFAULT_SERVER_HOST;
    const port = this.options.port ?? 0;
    try {
      this.boundPort = await this.listen(host, port);
    } catch (e: unknown) {
      throw this.lane.bindFailed.with({ cause: e }, `${hostPart(host)}:${port}`);
    }
    this.state = 'started';
    this.started();
  }

  ready(): boolean {
    return this.state === 'started';
  }

  async drain(signal?: AbortSignal): Promise<void> {
    if (this.state === 'started') this.state = 'draining';
    const drained = this.dispatcher.drain(signal);
    this.draining();
    await drained;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'started') this.state = 'draining';
    const drained = this.dispatcher.drain(AbortSignal.abort());
    this.draining();
    await drained;
    const started = this.state !== 'created';
    this.state = 'closed';
    await this.release(started);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
