import { CoreErrors, type Logger } from '@refront/core';
import type { ErrorFactory } from '@refront/core/transport';
import { type ChannelModel, connect, type RecoveringChannelModel } from 'amqplib';
import { corkWrites } from './amqplibInternals.js';

/** What {@link BusConnection.connected} raises when the broker stays unreachable: `AmqpErrors.DISCONNECTED` or `PUBLISH_TIMEOUT`. */
export type Unreachable = ErrorFactory<string, [what: string, why: string]>;

/** Connection states reported by `AmqpEventBus.onStateChange`. */
export type AmqpConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** What the connection needs from the bus's options. */
export interface BusConnectionOptions {
  readonly url: string;
  readonly service: string;
  readonly connectionName: string;
  readonly logger: Logger;
  readonly heartbeatSeconds: number;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  /** Longest wait for a connection in {@link BusConnection.connected}, in ms. */
  readonly publishTimeoutMs: number;
  /**
   * Runs on every new connection, before the state turns `connected` and waiters resume: reopens
   * the publisher channel and the consumers.
   */
  readonly onConnect: (model: ChannelModel) => Promise<void>;
  /** Runs when the connection is lost (caches tied to it are cleared). */
  readonly onDisconnect: () => void;
}

/**
 * The bus's broker connection: amqplib's recovering connection (reconnects with backoff), its
 * state and listeners, and waits for it. One per bus.
 */
export class BusConnection {
  private conn: Promise<RecoveringChannelModel | undefined> = Promise.resolve(undefined);
  private current: ChannelModel | undefined;
  private state: AmqpConnectionState = 'connecting';
  private readonly stateListeners = new Set<(s: AmqpConnectionState, error?: unknown) => void>();
  private readonly waiters = new Set<() => void>();
  private closing = false;
  private warnedUncorked = false;

  constructor(private readonly o: BusConnectionOptions) {}

  /** Starts connecting in the background (once); amqplib reconnects from then on until {@link close}. */
  open(): void {
    this.conn = this.connect();
  }

  private connect(): Promise<RecoveringChannelModel | undefined> {
    const url = new URL(this.o.url);
    if (!url.searchParams.has('heartbeat'))
      url.searchParams.set('heartbeat', String(this.o.heartbeatSeconds));
    // With waitForConnect false amqplib resolves at once and makes its first attempt on the next
    // turn, so the listeners below see every connect.
    return connect(url.toString(), {
      clientProperties: { connection_name: this.o.connectionName, service: this.o.service },
      recovery: { waitForConnect: false, calculateDelay: (attempt: number) => this.backoffMs(attempt) },
    }).then(
      (conn) => {
        conn.on('connect', (model: ChannelModel) => void this.connectedTo(model));
        conn.on('disconnect', (e: Error) => this.disconnected(e));
        conn.on('connect-failed', (e: Error) => this.setState('disconnected', e));
        conn.on('error', (e: Error) => this.o.logger.warn({ err: e }, 'amqp connection error'));
        return conn;
      },
      (e: unknown) => {
        this.o.logger.error({ err: e }, 'amqp connection setup failed');
        return undefined;
      },
    );
  }

  private async connectedTo(model: ChannelModel): Promise<void> {
    model.on('error', (e: unknown) => this.o.logger.warn({ err: e }, 'amqp connection error'));
    if (!corkWrites(model) && !this.warnedUncorked) {
      this.warnedUncorked = true;
      this.o.logger.warn(
        'amqplib internals not found: frames are written one at a time (see amqplibInternals.ts)',
      );
    }
    this.current = model;
    await this.o.onConnect(model);
    this.setState('connected');
    for (const w of this.waiters) w();
  }

  private disconnected(error: unknown): void {
    this.current = undefined;
    this.o.onDisconnect();
    if (this.state !== 'closed') this.setState('disconnected', error);
  }

  private setState(state: AmqpConnectionState, error?: unknown): void {
    if (this.state === state) return;
    this.state = state;
    const log = { state, connection: this.o.connectionName, err: error };
    if (state === 'disconnected') this.o.logger.warn(log, 'amqp connection lost; reconnecting');
    else this.o.logger.info(log, `amqp ${state}`);
    for (const l of this.stateListeners) l(state, error);
  }

  /** The connection now, if any. */
  model(): ChannelModel | undefined {
    return this.current;
  }

  /** Whether the bus is closing (no new waits, no reopened channels). */
  get isClosing(): boolean {
    return this.closing;
  }

  /** The connection state now. */
  get connectionState(): AmqpConnectionState {
    return this.state;
  }

  /** Delay before the n-th reconnect or reopen attempt: doubling, bounded, ±20 % jitter. */
  backoffMs(attempt: number): number {
    const base = Math.min(
      this.o.maxReconnectDelayMs,
      this.o.reconnectDelayMs * 2 ** Math.max(0, attempt - 1),
    );
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** Calls `listener` on every state change; returns an unsubscribe function. */
  onStateChange(listener: (state: AmqpConnectionState, error?: unknown) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Resolves once connected (the first time, or again after a loss).
   * @throws the signal's reason when it aborts first; RefrontError UNAVAILABLE `CORE_CLOSED` once closing.
   */
  waitUntilConnected(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.closing) return Promise.reject(CoreErrors.CLOSED('the event bus'));
    if (this.current) return Promise.resolve();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiters.delete(done);
        reject(signal?.reason);
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Waits for a connection up to `publishTimeoutMs` (or `signal`).
   * @throws RefrontError UNAVAILABLE of `unreachable` (`AMQP_DISCONNECTED`, `AMQP_PUBLISH_TIMEOUT`) saying
   *   it cannot do `what`; the signal's reason; `CORE_CLOSED`.
   */
  async connected(what: string, unreachable: Unreachable, signal?: AbortSignal): Promise<ChannelModel> {
    if (this.current) return this.current;
    const deadline = AbortSignal.timeout(this.o.publishTimeoutMs);
    try {
      await this.waitUntilConnected({ signal: signal ? AbortSignal.any([signal, deadline]) : deadline });
    } catch (e: unknown) {
      if (signal?.aborted) throw signal.reason;
      if (this.closing) throw e;
      throw unreachable.with(
        { cause: e },
        what,
        `the broker has been unreachable for ${this.o.publishTimeoutMs} ms`,
      );
    }
    return this.current!;
  }

  /** Refuses new waits from now on: the bus is closing. */
  beginClose(): void {
    this.closing = true;
  }

  /** Reports `closed` and closes the connection (amqplib stops reconnecting). */
  async close(): Promise<void> {
    this.closing = true;
    this.setState('closed');
    const conn = await this.conn;
    await conn?.close().catch(() => {});
    this.current = undefined;
  }
}
