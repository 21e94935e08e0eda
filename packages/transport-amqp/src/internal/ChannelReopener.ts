import type { Logger } from '@refront/core';
import type { ChannelModel } from 'amqplib';

/** What a {@link ChannelReopener} needs from its bus. */
export interface ReopenHost {
  readonly logger: Logger;
  /** The connection now, if any. */
  model(): ChannelModel | undefined;
  /** Delay before reopening after the n-th failed attempt, in ms. */
  backoffMs(attempt: number): number;
}

/** What a {@link ChannelReopener} keeps open: a consumer on a channel of its own. */
export interface Reopenable {
  /** Opens the channel on `model` and consumes; rejects (with the channel closed) when it cannot. */
  open(model: ChannelModel): Promise<void>;
  /** Whether the channel is open now. */
  isOpen(): boolean;
  /** Log fields and message for a failed open. */
  readonly label: { readonly fields: Record<string, unknown>; readonly failed: string };
}

/**
 * Keeps one consumer channel open across channel and connection losses: opens it on the current
 * connection unless it is open or opening, retries a failed open with backoff, and reopens after
 * a channel-only loss. After a connection loss the bus calls {@link ensureOpen} once it has
 * reconnected. Used by every consumer of the bus (consumer groups, unrouted notices).
 */
export class ChannelReopener {
  private opening: Promise<void> | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly host: ReopenHost,
    private readonly target: Reopenable,
  ) {}

  /** Opens on `model` now, letting the error reach the caller (a subscribe that must fail). */
  async start(model: ChannelModel): Promise<void> {
    const opening = this.target.open(model);
    this.opening = opening;
    try {
      await opening;
      this.failures = 0;
    } finally {
      this.opening = undefined;
    }
  }

  /** Opens (again) on the current connection unless open, opening or stopped; failures retry with backoff. */
  ensureOpen(): void {
    if (this.opening || this.stopped || this.target.isOpen()) return;
    const model = this.host.model();
    if (!model) return;
    this.opening = this.target
      .open(model)
      .then(
        () => {
          this.failures = 0;
        },
        (e: unknown) => {
          this.failures++;
          this.host.logger.warn({ ...this.target.label.fields, err: e }, this.target.label.failed);
          this.scheduleReopen();
        },
      )
      .finally(() => {
        this.opening = undefined;
        // The connection changed while opening: open on the new one now.
        if (!this.target.isOpen() && !this.reopenTimer && this.host.model() !== model) this.ensureOpen();
      });
  }

  /** The channel closed while consuming: reopens it after a backoff (unless stopped). */
  lost(): void {
    if (this.stopped) return;
    this.failures++;
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.reopenTimer || this.stopped) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      this.ensureOpen();
    }, this.host.backoffMs(this.failures));
    this.reopenTimer.unref();
  }

  /** Whether {@link stop} was called. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Opens no more; resolves once an open under way has settled. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    await this.opening?.catch(() => {});
  }
}
