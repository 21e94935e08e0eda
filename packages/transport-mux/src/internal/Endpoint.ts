import type { Logger } from '@refront/core';
import { CoreErrors, RefrontError } from '@refront/core';
import type { ClientMethod, Metadata } from '@refront/core/transport';
import { asUnprocessed } from '@refront/core/transport';
import { MuxErrors } from '../errors.js';
import {
  type CallReply,
  ClientConnection,
  type ClientConnectionOptions,
  type ConnectionEvents,
} from './ClientConnection.js';

/** Reconnect backoff of an endpoint. */
export interface BackoffOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random: () => number;
}

/**
 * Exponential backoff with equal jitter: a delay in `[cap/2, cap)`, `cap = min(max, base·2^(n-1))`,
 * so a dead instance is not redialled in a tight loop and clients do not redial in step.
 */
export function reconnectDelay(failures: number, o: BackoffOptions): number {
  const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(30, failures - 1));
  return cap / 2 + (o.random() * cap) / 2;
}

/**
 * The connections to one instance (`connectionsPerInstance` of them), opened on first use,
 * spread round-robin. A connection that is lost, refused or told to go away is replaced on
 * demand; after a failure the instance is not redialled before the backoff ends, and calls in
 * the meantime fail fast with the last error (UNAVAILABLE, retryable, unprocessed: they were never
 * sent) so the policy can try another instance, whatever the operation, and the instance's
 * breaker counts each of them as a failure of the instance.
 */
export class Endpoint implements ConnectionEvents {
  private readonly conns: (ClientConnection | undefined)[];
  private rr = 0;
  private failures = 0;
  private retryAt = 0;
  private lastError: RefrontError | undefined;
  private shutDown = false;
  private readonly retired = new Set<ClientConnection>();
  private onIdle: (() => void) | undefined;

  constructor(
    private readonly options: ClientConnectionOptions,
    size: number,
    private readonly backoff: BackoffOptions,
    private readonly logger: Logger,
  ) {
    this.conns = new Array<ClientConnection | undefined>(size).fill(undefined);
  }

  /** Connections open now. */
  get open(): number {
    return this.conns.filter((c) => c !== undefined).length + this.retired.size;
  }

  /** Whether the last dial failed and the backoff has not ended: a call now would fail at once. */
  get down(): boolean {
    return this.failures > 0 && Date.now() < this.retryAt;
  }

  /** Sends one call on the next usable connection, opening one when allowed; its outcome goes to `reply` (see `ClientConnection.call`). */
  call(
    method: ClientMethod,
    body: Uint8Array,
    md: Metadata,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
    reply: CallReply,
  ): void {
    const conn = this.acquire();
    if (conn instanceof RefrontError) reply.failed(conn);
    else conn.call(method, body, md, deadline, signal, reply);
  }

  private acquire(): ClientConnection | RefrontError {
    if (this.shutDown)
      return CoreErrors.CLOSED.with(
        { unprocessed: true },
        `channel to ${this.options.host}:${this.options.port}`,
      );
    const n = this.conns.length;
    const canDial = Date.now() >= this.retryAt;
    for (let i = 0; i < n; i++) {
      const slot = (this.rr + i) % n;
      let c = this.conns[slot];
      if (c && !c.usable) {
        this.retire(c);
        c = undefined;
      }
      if (!c && canDial) {
        c = new ClientConnection(this.options, this);
        this.conns[slot] = c;
      }
      if (c) {
        this.rr = (slot + 1) % n;
        return c;
      }
    }
    return (
      this.lastError ??
      MuxErrors.CONNECTION_FAILED.with(
        { unprocessed: true },
        `no connection to ${this.options.host}:${this.options.port}`,
      )
    );
  }

  private retire(c: ClientConnection): void {
    const i = this.conns.indexOf(c);
    if (i >= 0) this.conns[i] = undefined;
    if (c.state !== 'closed') this.retired.add(c);
  }

  private failed(err: RefrontError): void {
    this.failures++;
    // What the calls failed fast during the backoff get: none of them is sent.
    this.lastError = asUnprocessed(err);
    const delay = reconnectDelay(this.failures, this.backoff);
    this.retryAt = Date.now() + delay;
    this.logger.debug(
      { target: `${this.options.host}:${this.options.port}`, err, delayMs: Math.round(delay) },
      'mux reconnect backoff',
    );
  }

  goaway(conn: ClientConnection, fresh: boolean, error: RefrontError): void {
    this.retire(conn);
    // Told to go away before anything was answered (a draining server): back off like a failure.
    if (fresh) this.failed(error);
  }

  closed(conn: ClientConnection, error: RefrontError | undefined): void {
    this.retire(conn);
    this.retired.delete(conn);
    if (error) this.failed(error);
    if (this.shutDown && this.open === 0) this.onIdle?.();
  }

  answered(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = undefined;
  }

  /** Ends every connection once its calls are answered; resolves when all are closed (or after `timeoutMs`, cut). */
  close(timeoutMs: number): Promise<void> {
    this.shutDown = true;
    const all = [...this.conns.filter((c): c is ClientConnection => c !== undefined), ...this.retired];
    for (const c of all) c.finish();
    if (this.open === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const c of all) c.fail(CoreErrors.CLOSED('the channel'));
      }, timeoutMs);
      this.onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
