import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import {
  CoreReason,
  RefrontError,
  type RpcServer,
  type ServiceDefinition,
  type ServiceImplementation,
} from '@refront/core';
import {
  createDispatcher,
  DeadlineWheel,
  type Dispatcher,
  type DispatcherOptions,
  invalidOption,
} from '@refront/core/transport';
import { defaultPeerIdentity, type ServerAuthOptions, serverAuthInterceptor } from './auth.js';
import { encodePreface } from './internal/codec.js';
import { ServerConnection, type ServerConnectionContext } from './internal/ServerConnection.js';
import { errorToWire } from './internal/wireError.js';
import { type KeepaliveOptions, positiveInt, type ServerTlsOptions, serverTlsOptions } from './options.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_SERVER_KEEPALIVE_TIME_MS,
  DEFAULT_WRITE_HIGH_WATER_BYTES,
  MIN_MAX_FRAME_BYTES,
  MUX_PROTOCOL_VERSION,
  MUX_SYSTEM,
  MuxReason,
} from './protocol.js';

/** Default address a server binds. */
export const DEFAULT_MUX_HOST = '0.0.0.0';
/** How long `close()` lets connections end on their own before cutting them, in ms. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** Options of {@link createMuxServer}. */
export interface MuxServerOptions extends Omit<DispatcherOptions, 'system'> {
  /** Address to bind. @default DEFAULT_MUX_HOST ('0.0.0.0') */
  readonly host?: string;
  /** Port to bind; 0 picks a free one (read it from `port` after `start()`). @default 0 */
  readonly port?: number;
  /** TLS from PEM files; with `clientCaFile`, mutual TLS. @default none (plaintext) */
  readonly tls?: ServerTlsOptions;
  /** Authentication (bearer token verifier, mTLS identity), run after the default interceptors. @default none */
  readonly auth?: ServerAuthOptions;
  /** Largest frame accepted, in bytes; a bigger one closes that connection. @default DEFAULT_MAX_FRAME_BYTES (4 MiB) */
  readonly maxFrameBytes?: number;
  /** Requests run at once per connection before the server stops reading it. @default 1000 */
  readonly maxConcurrentRequests?: number;
  /** Bytes queued for a slow client above which the server stops reading its connection. @default 1 MiB */
  readonly writeHighWaterBytes?: number;
  /** Time a client has to send its preface, in ms. @default 10 000 */
  readonly handshakeTimeoutMs?: number;
  /** Keepalive pings to clients. @default { timeMs: 60 000, timeoutMs: 10 000 } */
  readonly keepalive?: KeepaliveOptions;
  /** See {@link DEFAULT_CLOSE_TIMEOUT_MS}. @default 5000 */
  readonly closeTimeoutMs?: number;
}

/** A mux server: core's {@link RpcServer} on node:net / node:tls; also a `ServiceComponent` (`service.use(server)`). */
export interface MuxServer extends RpcServer, AsyncDisposable {
  readonly name: string;
  /** The dispatcher behind it (calls in flight, draining state). */
  readonly dispatcher: Dispatcher;
  /** The bound port, once started. */
  readonly port: number;
  /** `host:port` to dial, once started. */
  readonly address: string;
  /** Open client connections. */
  readonly connections: number;
  /** Whether the server is started and not draining. */
  ready(): boolean;
}

class MuxServerImpl implements MuxServer {
  readonly name = 'mux';
  readonly dispatcher: Dispatcher;
  private readonly server: Server;
  private readonly conns = new Set<ServerConnection>();
  private readonly ctx: ServerConnectionContext;
  private readonly wheel = new DeadlineWheel();
  private readonly closeTimeoutMs: number;
  private boundPort = 0;
  private state: 'created' | 'started' | 'draining' | 'closed' = 'created';
  private goawayPayload: string | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private emptied: (() => void) | undefined;

  constructor(private readonly options: MuxServerOptions) {
    const auth = options.auth ? [serverAuthInterceptor(options.auth)] : [];
    this.dispatcher = createDispatcher({
      ...options,
      system: MUX_SYSTEM,
      interceptors: [...auth, ...(options.interceptors ?? [])],
    });
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    if (!(this.closeTimeoutMs >= 0)) throw invalidOption('closeTimeoutMs must be >= 0');
    const maxFrameBytes = positiveInt(
      'maxFrameBytes',
      options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      0xffffffff,
    );
    if (maxFrameBytes < MIN_MAX_FRAME_BYTES)
      throw invalidOption(`maxFrameBytes must be >= ${MIN_MAX_FRAME_BYTES}`);
    const maxConcurrentRequests = positiveInt(
      'maxConcurrentRequests',
      options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
      0xffffffff,
    );
    const mtls = options.tls?.clientCaFile !== undefined;
    const identify = options.auth?.peerIdentity ?? defaultPeerIdentity;
    this.ctx = {
      dispatcher: this.dispatcher,
      logger: options.logger,
      wheel: this.wheel,
      maxFrameBytes,
      maxConcurrentRequests,
      writeHighWaterBytes: positiveInt(
        'writeHighWaterBytes',
        options.writeHighWaterBytes ?? DEFAULT_WRITE_HIGH_WATER_BYTES,
      ),
      handshakeTimeoutMs: positiveInt(
        'handshakeTimeoutMs',
        options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      ),
      keepaliveTimeMs: positiveInt(
        'keepalive.timeMs',
        options.keepalive?.timeMs ?? DEFAULT_SERVER_KEEPALIVE_TIME_MS,
      ),
      keepaliveTimeoutMs: positiveInt(
        'keepalive.timeoutMs',
        options.keepalive?.timeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      ),
      preface: encodePreface(MUX_PROTOCOL_VERSION, maxFrameBytes, maxConcurrentRequests),
      peerIdentity: mtls
        ? (socket: TLSSocket) => {
            const cert = socket.getPeerCertificate();
            return cert && Object.keys(cert).length > 0 ? identify(cert) : undefined;
          }
        : undefined,
      goaway: () => this.goawayPayload,
      closed: (conn) => {
        this.conns.delete(conn);
        if (this.conns.size === 0) this.emptied?.();
      },
    };
    const onSocket = (socket: Socket): void => {
      if (this.state === 'closed') {
        socket.destroy();
        return;
      }
      this.conns.add(new ServerConnection(socket, this.ctx));
    };
    this.server = options.tls
      ? // No half-open under TLS: a client that fails the handshake and leaves must not keep its socket.
        createTlsServer(
          { ...serverTlsOptions(options.tls), handshakeTimeout: this.ctx.handshakeTimeoutMs },
          onSocket,
        )
      : createNetServer({ allowHalfOpen: true, noDelay: true }, onSocket);
    if (options.tls) {
      this.server.on('tlsClientError', (e: Error, socket: TLSSocket) => {
        options.logger.warn(
          { peer: `${socket.remoteAddress}:${socket.remotePort}`, reason: e.message },
          'mux TLS handshake failed: %s',
          e.message,
        );
        socket.destroy();
      });
    }
    this.server.on('error', (e: Error) => options.logger.error({ err: e }, 'mux server error'));
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    const host = this.options.host ?? DEFAULT_MUX_HOST;
    return `${host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${this.boundPort}`;
  }

  get connections(): number {
    return this.conns.size;
  }

  add<S extends ServiceDefinition>(definition: S, implementation: ServiceImplementation<S>): void {
    if (this.state !== 'created') {
      throw new RefrontError(
        'FAILED_PRECONDITION',
        CoreReason.INVALID_OPTION,
        'add() must come before start()',
      );
    }
    this.dispatcher.add(definition, implementation);
  }

  start(): Promise<void> {
    this.starting ??= this.bind();
    return this.starting;
  }

  private async bind(): Promise<void> {
    if (this.state !== 'created')
      throw new RefrontError('FAILED_PRECONDITION', CoreReason.CLOSED, 'server closed');
    const host = this.options.host ?? DEFAULT_MUX_HOST;
    const port = this.options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        reject(
          new RefrontError('UNAVAILABLE', MuxReason.BIND_FAILED, `cannot bind ${host}:${port}`, { cause: e }),
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : port;
    this.state = 'started';
  }

  ready(): boolean {
    return this.state === 'started';
  }

  async drain(signal?: AbortSignal): Promise<void> {
    if (this.state === 'started') this.state = 'draining';
    const drained = this.dispatcher.drain(signal);
    this.sendGoaway();
    await drained;
  }

  private sendGoaway(): void {
    if (this.goawayPayload !== undefined) return;
    this.goawayPayload = errorToWire(
      new RefrontError('UNAVAILABLE', CoreReason.DRAINING, `${this.options.service} is shutting down`),
    );
    for (const conn of this.conns) conn.goaway(this.goawayPayload);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'started') this.state = 'draining';
    const drained = this.dispatcher.drain(AbortSignal.abort());
    this.sendGoaway();
    await drained;
    const wasListening = this.state !== 'created' && this.server.listening;
    this.state = 'closed';
    const listenerClosed = wasListening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    for (const conn of this.conns) conn.end();
    if (this.conns.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const conn of this.conns) conn.destroy();
        }, this.closeTimeoutMs);
        this.emptied = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await listenerClosed;
    this.wheel.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a mux server for ts-proto contracts: the same handlers, interceptors (context, span,
 * metrics, auth) and error mapping as the gRPC server, over multiplexed length-prefixed frames
 * (docs/mux-protocol.md). A malformed or oversized frame closes only that connection, with a
 * logged reason; a body that does not decode gets INVALID_ARGUMENT, an unknown method
 * UNIMPLEMENTED. `drain()` sends GOAWAY to every client, refuses new calls with UNAVAILABLE
 * (retryable) and lets in-flight calls finish.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for a bad option; `MUX_BAD_CREDENTIALS` when a PEM file cannot be read.
 * @example
 * const server = createMuxServer({ service: 'tickets', logger, metrics, port: 7070 });
 * server.add(TicketsServiceDefinition, tickets);
 * await server.start();
 * await server.drain(AbortSignal.timeout(10_000));
 * await server.close();
 */
export function createMuxServer(options: MuxServerOptions): MuxServer {
  return new MuxServerImpl(options);
}
