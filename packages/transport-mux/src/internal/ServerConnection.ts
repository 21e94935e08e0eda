import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CoreErrors, type Logger, type RefrontError, toRefrontError } from '@refront/core';
import type { CallHandle, DeadlineWheel, Expirable, Reply } from '@refront/core/transport';
import {
  type Dispatcher,
  decodeMessage,
  encodeMessage,
  type Inbound,
  METADATA_PEER_IDENTITY,
  type Metadata,
  RESERVED_METADATA,
  type ServerMethod,
} from '@refront/core/transport';
import { requestDecodeFailed } from '@refront/rpc';
import { MuxErrors } from '../errors.js';
import { FrameKind, MUX_PROTOCOL_VERSION } from '../protocol.js';
import {
  decodePreface,
  decodeRequest,
  encodeBody,
  encodeControl,
  FrameDecoder,
  type RequestView,
} from './codec.js';
import { FrameWriter } from './FrameWriter.js';
import { IdTable } from './IdTable.js';
import { Keepalive } from './Keepalive.js';
import { errorToWire } from './wireError.js';

/** What a connection needs from its server. */
export interface ServerConnectionContext {
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  readonly wheel: DeadlineWheel;
  readonly maxFrameBytes: number;
  readonly maxConcurrentRequests: number;
  readonly writeHighWaterBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  /** The preface this server sends. */
  readonly preface: Buffer;
  /** mTLS peer identity of a TLS socket, when client certificates are required. */
  readonly peerIdentity: ((socket: TLSSocket) => string | undefined) | undefined;
  /** The GOAWAY payload once the server drains, else undefined. */
  goaway(): string | undefined;
  /** The connection closed. */
  closed(conn: ServerConnection): void;
}

interface BoundMethod {
  readonly path: string;
  readonly method: ServerMethod | undefined;
}

/**
 * One request being served: the dispatcher's Inbound and Reply, and the wheel's entry, in one
 * object per request (no closure per request).
 */
class ServerRequest implements Inbound<unknown>, Reply, Expirable {
  slot = 0;
  done = false;
  /** The dispatcher's handle, to cancel the call; undefined once answered or refused. */
  call: CallHandle | undefined = undefined;
  readonly cancelsThroughHandle = true;

  constructor(
    readonly conn: ServerConnection,
    readonly id: number,
    readonly method: ServerMethod,
    readonly request: unknown,
    readonly metadata: Metadata,
    readonly deadline: number,
    readonly peer: string | undefined,
  ) {}

  ok(response: unknown): void {
    this.conn.answer(this, response);
  }

  fail(error: unknown): void {
    this.conn.failed(this, error);
  }

  expire(): void {
    this.conn.expired(this);
  }
}

const NO_DEADLINE = Number.POSITIVE_INFINITY;

/**
 * The server end of one mux connection: reads frames, runs requests through the dispatcher,
 * writes answers (coalesced), enforces deadlines through the server's wheel, answers pings,
 * applies back-pressure, and closes itself, with a logged reason, on any protocol violation.
 */
export class ServerConnection {
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private readonly keepalive: Keepalive;
  private readonly inflight = new IdTable<ServerRequest>();
  private readonly methods: (BoundMethod | undefined)[] = [];
  private readonly view: RequestView = {
    methodId: 0,
    path: undefined,
    timeoutMs: 0,
    metadata: {},
    bodyStart: 0,
  };
  private handshake: NodeJS.Timeout | undefined;
  private peerMaxFrameBytes = 0;
  private identity: string | undefined;
  private now = 0;
  private paused = false;
  private goawaySent = false;
  private closeReason: string | undefined;
  readonly peer: string;

  constructor(
    readonly socket: Socket,
    private readonly ctx: ServerConnectionContext,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    this.decoder = new FrameDecoder(ctx.maxFrameBytes, this);
    this.writer = new FrameWriter(socket, () => this.updateReading());
    this.keepalive = new Keepalive(
      ctx.keepaliveTimeMs,
      ctx.keepaliveTimeoutMs,
      () => this.writer.write(encodeControl(FrameKind.PING, 0)),
      () => this.fail('keepalive: the client answered no ping', 'info'),
    );
    this.handshake = setTimeout(
      () => this.fail(`no preface within ${ctx.handshakeTimeoutMs} ms`),
      ctx.handshakeTimeoutMs,
    ).unref();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.updateReading());
    socket.on('error', (e: Error) => {
      this.closeReason ??= `socket error: ${e.message}`;
    });
    socket.on('close', () => this.onClose());
    socket.write(ctx.preface);
  }

  /** Requests in flight on this connection. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  private onData(chunk: Buffer): void {
    this.keepalive.touched();
    this.now = Date.now();
    try {
      this.decoder.push(chunk);
    } catch (e: unknown) {
      // The decoder and frame handlers do not throw; this is the last line that keeps the process up.
      this.fail(`internal error while reading: ${e instanceof Error ? e.message : String(e)}`, 'error');
    }
  }

  private onEnd(): void {
    if (this.decoder.buffered > 0)
      this.fail(`connection ended inside a frame (${this.decoder.buffered} bytes)`);
    else this.closeReason ??= 'client closed the connection';
    // Answers still being computed have nowhere to go once the client has ended its side and
    // gone; a client that half-closes keeps reading, so finish writing first.
    if (this.inflight.size === 0) this.socket.end();
  }

  private onClose(): void {
    this.keepalive.stop();
    if (this.handshake) clearTimeout(this.handshake);
    this.decoder.stop();
    if (this.inflight.size > 0) {
      const reason = CoreErrors.CANCELLED.with({ cause: new Error('the client connection closed') });
      for (const req of this.inflight.takeAll()) this.abandon(req, reason);
    }
    this.ctx.logger.debug({ peer: this.peer, reason: this.closeReason }, 'mux connection closed');
    this.ctx.closed(this);
  }

  /** Closes the connection for a protocol violation, with a logged reason. */
  fail(reason: string, level: 'warn' | 'info' | 'error' = 'warn'): void {
    if (this.socket.destroyed) return;
    this.closeReason = reason;
    this.decoder.stop();
    this.ctx.logger[level]({ peer: this.peer, reason }, 'mux connection closed: %s', reason);
    this.socket.destroy();
  }

  // --- FrameSink ---

  onPreface(b: Buffer, at: number): boolean {
    if (this.handshake) clearTimeout(this.handshake);
    this.handshake = undefined;
    const preface = decodePreface(b, at);
    if (typeof preface === 'string') {
      this.fail(preface);
      return false;
    }
    if (preface.version !== MUX_PROTOCOL_VERSION) {
      const err = MuxErrors.VERSION_MISMATCH(
        `the client speaks mux protocol version ${preface.version}, this server speaks ${MUX_PROTOCOL_VERSION}`,
      );
      this.ctx.logger.warn(
        { peer: this.peer, reason: err.message },
        'mux connection closed: %s',
        err.message,
      );
      this.closeReason = err.message;
      this.writer.write(encodeBody(FrameKind.ERROR, 0, errorToWire(err)));
      this.writer.flush();
      this.socket.end();
      return false;
    }
    this.peerMaxFrameBytes = preface.maxFrameBytes;
    if (this.ctx.peerIdentity) this.identity = this.ctx.peerIdentity(this.socket as TLSSocket);
    const goaway = this.ctx.goaway();
    if (goaway !== undefined) this.goaway(goaway);
    return true;
  }

  onMalformed(reason: string): void {
    this.fail(reason);
  }

  onFrame(kind: number, flags: number, id: number, b: Buffer, start: number, end: number): boolean {
    switch (kind) {
      case FrameKind.REQUEST:
        return this.onRequest(flags, id, b, start, end);
      case FrameKind.CANCEL: {
        const req = this.inflight.get(id);
        if (req) {
          const call = req.call;
          this.settle(req);
          call?.cancel(
            this.now >= req.deadline - 1
              ? CoreErrors.DEADLINE_EXCEEDED('before the handler finished')
              : CoreErrors.CANCELLED(),
          );
        }
        return true;
      }
      case FrameKind.PING:
        this.writer.write(encodeControl(FrameKind.PONG, id));
        return true;
      case FrameKind.PONG:
      case FrameKind.GOAWAY:
        return true;
      default:
        this.fail(`unexpected frame kind ${kind} from a client`);
        return false;
    }
  }

  private onRequest(flags: number, id: number, b: Buffer, start: number, end: number): boolean {
    const view = this.view;
    const malformed = decodeRequest(b, start, end, flags, view);
    if (malformed !== undefined) {
      this.fail(malformed);
      return false;
    }
    if (this.inflight.get(id) !== undefined) {
      this.fail(`request id ${id} is already in flight`);
      return false;
    }
    let bound = this.methods[view.methodId];
    if (view.path !== undefined) {
      bound = { path: view.path, method: this.ctx.dispatcher.method(view.path) };
      this.methods[view.methodId] = bound;
    } else if (bound === undefined) {
      this.fail(`method id ${view.methodId} was never bound`);
      return false;
    }
    const method = bound.method;
    if (!method) {
      this.answerError(id, CoreErrors.UNIMPLEMENTED(bound.path, this.ctx.dispatcher.options.service));
      return true;
    }
    let request: unknown;
    try {
      request = decodeMessage(method.requestType, b.subarray(view.bodyStart, end));
    } catch (e: unknown) {
      this.answerError(id, requestDecodeFailed(bound.path, e));
      return true;
    }
    const md = view.metadata;
    for (const key of RESERVED_METADATA) if (key in md) delete md[key];
    if (this.identity !== undefined) md[METADATA_PEER_IDENTITY] = this.identity;
    const deadline = view.timeoutMs === 0 ? NO_DEADLINE : this.now + view.timeoutMs;
    const req = new ServerRequest(this, id, method, request, md, deadline, this.peer);
    this.inflight.add(req);
    if (deadline !== NO_DEADLINE) this.ctx.wheel.add(req);
    if (this.inflight.size >= this.ctx.maxConcurrentRequests) this.updateReading();
    const call = this.ctx.dispatcher.dispatch(
      bound.path,
      deadline === NO_DEADLINE ? withoutDeadline(req) : req,
      req,
    );
    if (!req.done) req.call = call;
    return true;
  }

  /** The dispatcher answered `req`. @internal called by ServerRequest. */
  answer(req: ServerRequest, res: unknown): void {
    if (req.done) return;
    this.settle(req);
    let body: Uint8Array;
    try {
      body = encodeMessage(req.method.responseType, res);
    } catch (e: unknown) {
      this.ctx.logger.error({ err: e, method: req.method.info.path }, 'response does not encode');
      this.answerError(req.id, CoreErrors.INTERNAL.with({ cause: e }));
      return;
    }
    if (body.byteLength + 6 > this.peerMaxFrameBytes) {
      this.answerError(
        req.id,
        MuxErrors.FRAME_TOO_LARGE('response', body.byteLength, 'client', this.peerMaxFrameBytes),
      );
      return;
    }
    this.writer.write(encodeBody(FrameKind.RESPONSE, req.id, body));
  }

  /** The dispatcher failed `req`. @internal called by ServerRequest. */
  failed(req: ServerRequest, e: unknown): void {
    if (req.done) return;
    this.settle(req);
    this.answerError(req.id, toRefrontError(e));
  }

  private answerError(id: number, e: RefrontError): void {
    if (this.socket.destroyed) return;
    this.writer.write(encodeBody(FrameKind.ERROR, id, errorToWire(e)));
  }

  /** Marks a request answered (or abandoned): no further frame goes out for it. */
  private settle(req: ServerRequest): void {
    req.done = true;
    req.call = undefined;
    this.inflight.delete(req.id);
    if (req.deadline !== NO_DEADLINE) this.ctx.wheel.remove(req);
    if (this.paused) this.updateReading();
    if (this.inflight.size === 0 && this.socket.readableEnded) this.socket.end();
  }

  private abandon(req: ServerRequest, reason: RefrontError): void {
    req.done = true;
    if (req.deadline !== NO_DEADLINE) this.ctx.wheel.remove(req);
    const call = req.call;
    req.call = undefined;
    call?.cancel(reason);
  }

  /** The wheel says `req`'s deadline passed: answer DEADLINE_EXCEEDED and cancel its handler. */
  expired(req: ServerRequest): void {
    if (req.done) return;
    req.done = true;
    this.inflight.delete(req.id);
    if (this.paused) this.updateReading();
    const err = CoreErrors.DEADLINE_EXCEEDED('before the handler finished');
    this.answerError(req.id, err);
    const call = req.call;
    req.call = undefined;
    call?.cancel(err);
    if (this.inflight.size === 0 && this.socket.readableEnded) this.end();
  }

  /** Sends GOAWAY once: the client sends nothing new here; requests already sent are still answered. */
  goaway(payload: string): void {
    if (this.goawaySent || this.socket.destroyed) return;
    this.goawaySent = true;
    this.writer.write(encodeBody(FrameKind.GOAWAY, 0, payload));
  }

  /** Flushes and ends the connection (close of the server). */
  end(): void {
    this.writer.flush();
    this.socket.end();
  }

  /** Destroys the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Back-pressure: stop reading while the peer does not read our answers, or too much runs. */
  private updateReading(): void {
    const congested =
      this.socket.writableLength > this.ctx.writeHighWaterBytes ||
      this.inflight.size >= this.ctx.maxConcurrentRequests;
    if (congested && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!congested && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }
}

/** The dispatcher's Inbound for a request with no deadline (the wheel's sentinel stays in `req`). */
function withoutDeadline(req: ServerRequest): Inbound<unknown> {
  return {
    request: req.request,
    metadata: req.metadata,
    deadline: undefined,
    peer: req.peer,
    cancelsThroughHandle: true,
  };
}
