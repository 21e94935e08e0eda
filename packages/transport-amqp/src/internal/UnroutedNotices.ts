import { counterOf, type Logger, type MetricsRegistry } from '@refront/core';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Counter } from 'prom-client';
import type { TopologyNames } from '../names.js';
import { declareUnrouted } from './topology.js';

/** What the notices consumer needs from its bus. */
export interface UnroutedNoticesHost {
  readonly names: TopologyNames;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry | undefined;
  /** The connection now, if any. */
  model(): ChannelModel | undefined;
  /** Delay before reopening after the n-th failed attempt, in ms. */
  backoffMs(attempt: number): number;
}

/** Notices taken per round trip: counting is cheap, and the queue is bounded anyway. */
const PREFETCH = 64;

function unroutedCounter(registry: MetricsRegistry): Counter<'exchange' | 'type'> {
  return counterOf(
    registry,
    'refront_events_unrouted_total',
    'Events no binding routed, parked in the unrouted queue (counted by the active notices consumer)',
    ['exchange', 'type'],
  );
}

/**
 * Consumes `<ns>.unrouted.notices`, the copy the unrouted fanout makes of every parked event: counts
 * it in `refront_events_unrouted_total{exchange,type}`, logs a warning, acks. The queue has
 * `x-single-active-consumer`, so of all the buses of a namespace one counts at a time (each event
 * once); the others stand by. The delivery's exchange and routing key are the original ones.
 */
export class UnroutedNotices {
  private channel: Channel | undefined;
  private opening: Promise<void> | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private readonly counter: Counter<'exchange' | 'type'> | undefined;

  constructor(private readonly host: UnroutedNoticesHost) {
    this.counter = host.metrics ? unroutedCounter(host.metrics) : undefined;
  }

  /** Opens (again) on the current connection unless consuming; failures retry with backoff. */
  ensureOpen(): void {
    if (this.opening || this.channel || this.closed) return;
    const model = this.host.model();
    if (!model) return;
    this.opening = this.open(model)
      .catch((e: unknown) => {
        this.failures++;
        this.host.logger.warn({ err: e }, 'unrouted notices consumer could not open; will retry');
        this.scheduleReopen();
      })
      .finally(() => {
        this.opening = undefined;
      });
  }

  private scheduleReopen(): void {
    if (this.reopenTimer || this.closed) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      this.ensureOpen();
    }, this.host.backoffMs(this.failures));
    this.reopenTimer.unref();
  }

  private async open(model: ChannelModel): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', (e: unknown) => this.host.logger.debug({ err: e }, 'unrouted notices channel error'));
    ch.on('close', () => {
      if (this.channel !== ch) return;
      this.channel = undefined;
      // A channel-only loss; after a connection loss the bus calls ensureOpen on reconnect.
      if (!this.closed && this.host.model() === model) {
        this.failures++;
        this.scheduleReopen();
      }
    });
    try {
      await declareUnrouted(ch, this.host.names);
      await ch.prefetch(PREFETCH);
      await ch.consume(this.host.names.unroutedNoticesQueue, (m) => this.onNotice(ch, m), { noAck: false });
      this.channel = ch;
      this.failures = 0;
      if (this.closed) await ch.close();
    } catch (e: unknown) {
      await ch.close().catch(() => {});
      throw e;
    }
  }

  private onNotice(ch: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      ch.close().catch(() => {}); // cancelled by the broker (queue deleted): reopen re-declares
      return;
    }
    const { exchange, routingKey } = msg.fields;
    const type = typeof msg.properties.type === 'string' ? msg.properties.type : 'unknown';
    this.counter?.inc({ exchange, type });
    this.host.logger.warn(
      {
        exchange,
        routingKey,
        type,
        messageId: msg.properties.messageId,
        queue: this.host.names.unroutedQueue,
      },
      'unrouted event parked: no queue is bound for its routing key (replay it once a consumer binds it)',
    );
    try {
      ch.ack(msg);
    } catch {
      // The channel closed: the broker redelivers the notice to the next active consumer.
    }
  }

  /** Stops consuming. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    await this.opening;
    const ch = this.channel;
    this.channel = undefined;
    await ch?.close().catch(() => {});
  }
}
