import { connect as netConnect, type Socket } from 'node:net';
import {
  checkServerIdentity,
  type ConnectionOptions as TlsConnectOptions,
  connect as tlsConnect,
} from 'node:tls';
import { CoreErrors, type Logger, RefrontError } from '@refront/core';
import type { DeadlineWheel, Expirable } from '@refront/core/transport';
import { asUnprocessed, type ClientMethod, decodeMessage, type Metadata } from '@refront/core/transport';
import { responseDecodeFailed } from '@refront/rpc';
import { MuxErrors } from '../errors.js';
import {
  FrameKind,
  MAX_METHOD_ID,
  MAX_REQUEST_ID,
  MAX_TIMEOUT_MS,
  MUX_PROTOCOL_VERSION,
} from '../protocol.js';
import { decodePreface, encodeControl, encodeRequest, FrameDecoder } from './codec.js';
import { FrameWriter } from './FrameWriter.js';
import { IdTable } from './IdTable.js';
import { Keepalive } from './Keepalive.js';
import { errorFromWire } from './wireError.js';

/** How a client connection is made and kept. */
export interface ClientConnectionOptions {
  readonly host: string;
  readonly port: number;
  /**
   * node:tls options of a new connection (the current secure context: TLS files rotate) and the
   * name the certificate must carry, or undefined for plaintext.
   */
  readonly tls: { options(): TlsConnectOptions; readonly serverName: string } | undefined;
  readonly preface: Buffer;
  readonly maxFrameBytes: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly wheel: DeadlineWheel;
  readonly logger: Logger;
}

/** What the owner of a connection learns about it. */
export interface ConnectionEvents {
  /** The server sent GOAWAY (or ids ran out): send no new calls here. `fresh`: no call was answered before. */
  goaway(conn: ClientConnection, fresh: boolean, error: RefrontError): void;
  /** The connection closed; `error` says why when it was not a clean close. */
  closed(conn: ClientConnection, error: RefrontError | undefined): void;
  /** A call was answered (the instance works). */
  answered(conn: ClientConnection): void;
}

/**
 * Where a connection reports how one call ended, exactly once, now or later: the decoded
 * response, or the error (`signal.reason` unchanged when the caller aborted).
 */
export interface CallReply {
  answered(response: unknown): void;
  failed(error: unknown): void;
}

/** One call in flight: its entry in the pending table, its deadline entry and its abort listener. */
class PendingCall implements Expirable {
  slot = 0;
  id = 0;
  /** Whether the request frame went out (a cancel frame is owed on abort). */
  sent = false;
  /** Held only while the call waits for the handshake. */
  body: Uint8Array | undefined = undefined;
  md: Metadata | undefined = undefined;

  constructor(
    readonly conn: ClientConnection,
    readonly method: ClientMethod,
    readonly deadline: number,
    readonly signal: AbortSignal | undefined,
    readonly reply: CallReply,
  ) {}

  expire(): void {
    this.conn.expired(this);
  }

  /** The caller's signal aborted (EventListener object: no closure per call). */
  handleEvent(): void {
    this.conn.aborted(this);
  }
}

const NO_DEADLINE = Number.POSITIVE_INFINITY;

/**
 * The error of a call whose request frame was written when its connection was lost: the server
 * may have run it (and committed) before the connection went, so only idempotent calls are retried.
 */
function lostInFlight(name: string, connectionError: RefrontError): RefrontError {
  return CoreErrors.LOST_IN_FLIGHT.with(
    { cause: connectionError },
    `connection to ${name} was lost with the call in flight; the server may have processed it: ${connectionError.message}`,
  );
}

/**
 * The client end of one mux connection: many calls multiplexed by request id, a method table,
 * coalesced writes, deadlines through the channel's wheel, cancel frames, keepalive pings and
 * dead-peer detection. Calls made before the handshake wait for it.
 */
export class ClientConnection {
  state: 'connecting' | 'ready' | 'goaway' | 'closed' = 'connecting';
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private keepalive: Keepalive | undefined;
  private readonly pending = new IdTable<PendingCall>();
  private waiting: PendingCall[] = [];
  private readonly methodIds = new Map<string, number>();
  private nextId = 1;
  private peerMaxFrameBytes = 0;
  private answeredAny = false;
  private error: RefrontError | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  readonly name: string;

  constructor(
    private readonly o: ClientConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.name = `${o.host}:${o.port}`;
    this.decoder = new FrameDecoder(o.maxFrameBytes, this);
    const onConnect = (): void => {
      this.socket.write(o.preface);
    };
    if (o.tls) {
      const name = o.tls.serverName;
      this.socket = tlsConnect(
        {
          ...o.tls.options(),
          host: o.host,
          port: o.port,
          ...(name !== o.host && !/^[\d.:]+$/.test(name) ? { servername: name } : {}),
          checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
        },
        onConnect,
      );
    } else {
      this.socket = netConnect({ host: o.host, port: o.port, noDelay: true }, onConnect);
    }
    this.writer = new FrameWriter(this.socket);
    this.connectTimer = setTimeout(
      () =>
        this.fail(
          MuxErrors.CONNECTION_FAILED(`no mux handshake from ${this.name} within ${o.connectTimeoutMs} ms`),
        ),
      o.connectTimeoutMs,
    ).unref();
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (e: Error) => {
      this.error ??= MuxErrors.CONNECTION_FAILED.with(
        { cause: e },
        `connection to ${this.name} failed: ${e.message}`,
      );
    });
    this.socket.on('end', () => {
      if (this.decoder.buffered > 0) this.protocolError('the server ended the connection inside a frame');
      this.socket.end();
    });
    this.socket.on('close', () => this.onClose());
  }

  /** Calls in flight or waiting for the handshake. */
  get load(): number {
    return this.pending.size + this.waiting.length;
  }

  /** Whether new calls may go here. */
  get usable(): boolean {
    return this.state === 'connecting' || this.state === 'ready';
  }

  /**
   * Sends one call and reports its outcome to `reply`, once: the response; `signal.reason`
   * unchanged when the caller aborts; DEADLINE_EXCEEDED at `deadline`; the server's RefrontError;
   * UNAVAILABLE when the connection fails: `unprocessed` when the request frame was never written
   * (the handshake never came, the connection failed first), `CORE_LOST_IN_FLIGHT` when it was. A
   * call refused at once (aborted, frame too large…) is reported before this returns, unprocessed.
   */
  call(
    method: ClientMethod,
    body: Uint8Array,
    md: Metadata,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
    reply: CallReply,
  ): void {
    if (signal?.aborted) {
      reply.failed(signal.reason);
      return;
    }
    const p = new PendingCall(this, method, deadline ?? NO_DEADLINE, signal, reply);
    if (this.state === 'ready') {
      const frame = this.frame(p, body, md);
      if (frame instanceof RefrontError) {
        reply.failed(frame);
        return;
      }
      this.send(p, frame);
    } else {
      p.body = body;
      p.md = md;
      this.waiting.push(p);
    }
    if (deadline !== undefined) this.o.wheel.add(p);
    signal?.addEventListener('abort', p);
  }

  private frame(p: PendingCall, body: Uint8Array, md: Metadata): Buffer | RefrontError {
    const id = this.nextId++;
    if (id >= MAX_REQUEST_ID) {
      this.retire();
      return asUnprocessed(MuxErrors.CONNECTION_FAILED(`${this.name}: request ids exhausted, reconnecting`));
    }
    p.id = id;
    const path = p.method.info.path;
    let methodId = this.methodIds.get(path);
    let bind: string | undefined;
    if (methodId === undefined) {
      // Id 0 is never kept: past the table's size every call carries its path.
      methodId = this.methodIds.size < MAX_METHOD_ID ? this.methodIds.size + 1 : 0;
      bind = path;
    }
    let timeoutMs = 0;
    if (p.deadline !== NO_DEADLINE)
      timeoutMs = Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.ceil(p.deadline - Date.now())));
    const frame = encodeRequest(id, methodId, bind, timeoutMs, md, body);
    if (!frame) {
      return MuxErrors.INVALID_METADATA.with({ unprocessed: true });
    }
    if (frame.length - 4 > this.peerMaxFrameBytes) return this.tooLarge(frame.length - 4);
    if (bind !== undefined && methodId !== 0) this.methodIds.set(path, methodId);
    return frame;
  }

  private tooLarge(bytes: number): RefrontError {
    return MuxErrors.FRAME_TOO_LARGE.with(
      { unprocessed: true },
      'request',
      bytes,
      'server',
      this.peerMaxFrameBytes,
    );
  }

  private send(p: PendingCall, frame: Buffer): void {
    p.sent = true;
    this.pending.add(p);
    this.writer.write(frame);
  }

  /** Removes a call that ends without an answer; false when it had already ended. */
  private drop(p: PendingCall): boolean {
    if (p.sent && this.pending.get(p.id) === p) this.pending.delete(p.id);
    else {
      const i = this.waiting.indexOf(p);
      if (i < 0) return false;
      this.waiting.splice(i, 1);
    }
    this.cleanup(p);
    return true;
  }

  private cleanup(p: PendingCall): void {
    if (p.deadline !== NO_DEADLINE) this.o.wheel.remove(p);
    p.signal?.removeEventListener('abort', p);
  }

  /** @internal the wheel: the call's deadline passed. */
  expired(p: PendingCall): void {
    // No cancel frame: the server got the same deadline and ends the call itself, with its handler
    // seeing DEADLINE_EXCEEDED rather than a cancel.
    if (!this.drop(p)) return;
    p.reply.failed(CoreErrors.DEADLINE_EXCEEDED(`before ${p.method.info.path} answered`));
    this.closeIfIdle();
  }

  /** @internal the caller aborted. */
  aborted(p: PendingCall): void {
    if (!this.drop(p)) return;
    if (p.sent) this.cancelOnServer(p.id);
    p.reply.failed(p.signal!.reason);
    this.closeIfIdle();
  }

  private cancelOnServer(id: number): void {
    if (this.state === 'ready' || this.state === 'goaway')
      this.writer.write(encodeControl(FrameKind.CANCEL, id));
  }

  private onData(chunk: Buffer): void {
    this.keepalive?.touched();
    try {
      this.decoder.push(chunk);
    } catch (e: unknown) {
      this.protocolError(`internal error while reading: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // --- FrameSink ---

  onPreface(b: Buffer, at: number): boolean {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    const preface = decodePreface(b, at);
    if (typeof preface === 'string') {
      this.protocolError(`${this.name}: ${preface}`);
      return false;
    }
    if (preface.version !== MUX_PROTOCOL_VERSION) {
      const message = `${this.name} speaks mux protocol version ${preface.version}, this client speaks ${MUX_PROTOCOL_VERSION}`;
      this.o.logger.error({ target: this.name, reason: message }, 'mux connection closed: %s', message);
      this.fail(MuxErrors.VERSION_MISMATCH(message));
      return false;
    }
    this.peerMaxFrameBytes = preface.maxFrameBytes;
    if (this.state === 'connecting') this.state = 'ready';
    this.keepalive = new Keepalive(
      this.o.keepaliveTimeMs,
      this.o.keepaliveTimeoutMs,
      () => this.writer.write(encodeControl(FrameKind.PING, 0)),
      () => this.fail(MuxErrors.KEEPALIVE_TIMEOUT(this.name, this.o.keepaliveTimeoutMs)),
    );
    const waiting = this.waiting;
    this.waiting = [];
    for (const p of waiting) {
      const frame = this.frame(p, p.body!, p.md!);
      p.body = undefined;
      p.md = undefined;
      if (frame instanceof RefrontError) {
        this.cleanup(p);
        p.reply.failed(frame);
      } else this.send(p, frame);
    }
    return true;
  }

  onMalformed(reason: string): void {
    this.protocolError(reason);
  }

  onFrame(kind: number, _flags: number, id: number, b: Buffer, start: number, end: number): boolean {
    switch (kind) {
      case FrameKind.RESPONSE:
      case FrameKind.ERROR:
        return this.onAnswer(kind, id, b, start, end);
      case FrameKind.PING:
        this.writer.write(encodeControl(FrameKind.PONG, id));
        return true;
      case FrameKind.PONG:
        return true;
      case FrameKind.GOAWAY: {
        const err = errorFromWire(b.toString('utf8', start, end)) ?? CoreErrors.DRAINING(this.name);
        this.goaway(err);
        return true;
      }
      default:
        this.protocolError(`unexpected frame kind ${kind} from the server`);
        return false;
    }
  }

  private onAnswer(kind: number, id: number, b: Buffer, start: number, end: number): boolean {
    if (id === 0 && kind === FrameKind.ERROR) {
      // A connection-level error (version mismatch…): every call here fails with it.
      const err = errorFromWire(b.toString('utf8', start, end));
      this.fail(err ?? MuxErrors.PROTOCOL_ERROR(`${this.name} refused the connection`));
      return false;
    }
    const p = this.pending.delete(id);
    if (!p) return true; // answered after we gave up (deadline, cancel): drop it
    this.cleanup(p);
    if (kind === FrameKind.RESPONSE) {
      let res: unknown;
      try {
        res = decodeMessage(p.method.responseType, b.subarray(start, end));
      } catch (e: unknown) {
        p.reply.failed(responseDecodeFailed(p.method.info.path, e));
        return true;
      }
      p.reply.answered(res);
    } else {
      const err = errorFromWire(b.toString('utf8', start, end));
      if (!err) {
        p.reply.failed(MuxErrors.PROTOCOL_ERROR(`${this.name} sent a malformed error frame`));
        this.protocolError('malformed error frame');
        return false;
      }
      p.reply.failed(err);
    }
    if (!this.answeredAny && this.state === 'ready') {
      this.answeredAny = true;
      this.events.answered(this);
    }
    this.closeIfIdle();
    return true;
  }

  private goaway(err: RefrontError): void {
    if (this.state !== 'ready' && this.state !== 'connecting') return;
    this.state = 'goaway';
    this.events.goaway(this, !this.answeredAny, err);
    this.closeIfIdle();
  }

  /** Request ids ran out: take no new calls; the owner opens another connection. */
  private retire(): void {
    this.goaway(MuxErrors.CONNECTION_FAILED(`${this.name}: request ids exhausted`));
  }

  private closeIfIdle(): void {
    if (this.state === 'goaway' && this.pending.size === 0 && this.waiting.length === 0) this.end();
  }

  private protocolError(reason: string): void {
    this.o.logger.warn({ target: this.name, reason }, 'mux connection closed: %s', reason);
    this.fail(MuxErrors.PROTOCOL_ERROR(`${this.name} broke the mux protocol: ${reason}`));
  }

  /** Closes at once; every call here fails with `err`. */
  fail(err: RefrontError): void {
    if (this.state === 'closed') return;
    this.error ??= err;
    this.decoder.stop();
    this.socket.destroy();
  }

  /** Takes no new calls and ends once those in flight are answered. */
  finish(): void {
    if (this.state === 'closed') return;
    this.state = 'goaway';
    this.closeIfIdle();
  }

  /** Ends gracefully once the writes are out. */
  end(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'goaway') this.state = 'goaway';
    this.writer.flush();
    this.socket.end();
  }

  private onClose(): void {
    const wasGoaway = this.state === 'goaway';
    this.state = 'closed';
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.keepalive?.stop();
    this.decoder.stop();
    const err = this.error ?? MuxErrors.CONNECTION_FAILED(`connection to ${this.name} closed`);
    // Calls still waiting for the handshake were never written: the server saw nothing of them.
    const waiting = this.waiting;
    this.waiting = [];
    if (waiting.length > 0) {
      const unsent = asUnprocessed(err);
      for (const p of waiting) {
        this.cleanup(p);
        p.reply.failed(unsent);
      }
    }
    const sent = this.pending.takeAll();
    if (sent.length > 0) {
      const lost = lostInFlight(this.name, err);
      for (const p of sent) {
        this.cleanup(p);
        p.reply.failed(lost);
      }
    }
    this.events.closed(this, wasGoaway && this.error === undefined ? undefined : err);
  }
}
