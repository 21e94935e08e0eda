import { counterOf, type MetricsRegistry } from '@refront/core';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Counter } from 'prom-client';
import type { TopologyNames } from '../names.js';
import { ChannelReopener, type ReopenHost } from './ChannelReopener.js';
import { declareUnrouted } from './topology.js';

/** What the notices consumer needs from its bus. */
export interface UnroutedNoticesHost extends ReopenHost {
  readonly names: TopologyNames;
  readonly metrics: MetricsRegistry | undefined;
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
  private readonly counter: Counter<'exchange' | 'type'> | undefined;
  private readonly reopener: ChannelReopener;

  constructor(private readonly host: UnroutedNoticesHost) {
    this.counter = host.metrics ? unroutedCounter(host.metrics) : undefined;
    this.reopener = new ChannelReopener(host, {
      open: (model) => this.open(model),
      isOpen: () => this.channel !== undefined,
      label: { fields: {}, failed: 'unrouted notices consumer could not open; will retry' },
    });
  }

  /** Opens (again) on the current connection unless consuming; failures retry with backoff. */
  ensureOpen(): void {
    this.reopener.ensureOpen();
  }

  private async open(model: ChannelModel): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', (e: unknown) => this.host.logger.debug({ err: e }, 'unrouted notices channel error'));
    ch.on('close', () => {
      if (this.channel !== ch) return;
      this.channel = undefined;
      this.reopener.lost();
    });
    try {
      await declareUnrouted(ch, this.host.names);
      await ch.prefetch(PREFETCH);
      await ch.consume(this.host.names.unroutedNoticesQueue, (m) => this.onNotice(ch, m), { noAck: false });
      this.channel = ch;
      if (this.reopener.isStopped) await ch.close();
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

  /** Stops consuming (another bus of the namespace takes over the notices). Idempotent. */
  async close(): Promise<void> {
    await this.reopener.stop();
    const ch = this.channel;
    this.channel = undefined;
    await ch?.close().catch(() => {});
  }
}
