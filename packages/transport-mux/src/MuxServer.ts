import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { CoreErrors } from '@refront/core';
import { DeadlineWheel } from '@refront/core/transport';
import {
  type KeepaliveOptions,
  type NetworkRpcServer,
  positiveInt,
  RpcServerBase,
  type RpcServerOptions,
  resolveKeepalive,
  type TlsReloader,
} from '@refront/rpc';
import { MuxErrors } from './errors.js';
import { encodePreface } from './internal/codec.js';
import { ServerConnection, type ServerConnectionContext } from './internal/ServerConnection.js';
import { errorToWire } from './internal/wireError.js';
import { resolveMaxFrameBytes, secureContextOptions, serverTlsReloader } from './options.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_WRITE_HIGH_WATER_BYTES,
  MUX_PROTOCOL_VERSION,
  MUX_SYSTEM,
} from './protocol.js';

/** Options of {@link createMuxServer}. */
export interface MuxServerOptions extends RpcServerOptions {
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
}

/** A mux server: a {@link NetworkRpcServer} on node:net / node:tls; also a `ServiceComponent` (`service.use(server)`). */
export interface MuxServer extends NetworkRpcServer {
  /** Open client connections. */
  readonly connections: number;
}

class MuxServerImpl extends RpcServerBase<MuxServerOptions> implements MuxServer {
  readonly name = 'mux';
  private readonly server: Server;
  /** The TLS files, kept current: each reload becomes the context of new handshakes. */
  private readonly tls: TlsReloader | undefined;
  private readonly conns = new Set<ServerConnection>();
  private readonly ctx: ServerConnectionContext;
  private readonly wheel = new DeadlineWheel();
  private goawayPayload: string | undefined;
  private emptied: (() => void) | undefined;

  constructor(options: MuxServerOptions) {
    super(options, { system: MUX_SYSTEM, bindFailed: MuxErrors.BIND_FAILED });
    const maxFrameBytes = resolveMaxFrameBytes(options.maxFrameBytes);
    const maxConcurrentRequests = positiveInt(
      'maxConcurrentRequests',
      options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
      0xffffffff,
    );
    const keepalive = resolveKeepalive(options.keepalive, 'server');
    const identify = this.peerIdentity;
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
      keepaliveTimeMs: keepalive.timeMs,
      keepaliveTimeoutMs: keepalive.timeoutMs,
      preface: encodePreface(MUX_PROTOCOL_VERSION, maxFrameBytes, maxConcurrentRequests),
      peerIdentity: identify
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
    this.tls = options.tls ? serverTlsReloader(options.tls, options.logger, options.metrics) : undefined;
    this.server = this.tls
      ? // No half-open under TLS: a client that fails the handshake and leaves must not keep its socket.
        createTlsServer(
          {
            ...secureContextOptions(this.tls.current),
            ...(options.tls?.clientCaFile ? { requestCert: true, rejectUnauthorized: true } : {}),
            handshakeTimeout: this.ctx.handshakeTimeoutMs,
          },
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

  get connections(): number {
    return this.conns.size;
  }

  protected async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const tlsServer = this.server as TlsServer;
    // Established connections keep the context they shook hands with.
    this.tls?.subscribe((m) => tlsServer.setSecureContext(secureContextOptions(m)));
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  /** Sends GOAWAY to every client, once: new calls go elsewhere, calls that crossed it get `CORE_DRAINING`. */
  protected draining(): void {
    if (this.goawayPayload !== undefined) return;
    this.goawayPayload = errorToWire(CoreErrors.DRAINING(this.options.service));
    for (const conn of this.conns) conn.goaway(this.goawayPayload);
  }

  protected async release(started: boolean): Promise<void> {
    this.tls?.close();
    const listenerClosed =
      started && this.server.listening
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
