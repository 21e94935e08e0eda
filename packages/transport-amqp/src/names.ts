/**
 * How Refront names its RabbitMQ objects. Every name starts with the bus `namespace`, so several
 * systems (or test runs) share one vhost without colliding. See docs/amqp.md for the diagram.
 */
export interface TopologyNames {
  /** The prefix of every name. */
  readonly namespace: string;
  /** Topic exchange of the domain an event type belongs to (its protobuf package). */
  exchange(eventType: string): string;
  /** Durable quorum queue of a consumer group. */
  queue(group: string): string;
  /** Retry queue holding a group's messages for `delayMs` before they return to its queue. */
  retryQueue(group: string, delayMs: number): string;
  /** Dead-letter queue of a consumer group. */
  deadLetterQueue(group: string): string;
  /** Fanout exchange every domain exchange names as its alternate exchange: events no binding took. */
  readonly unroutedExchange: string;
  /** Durable queue parking unrouted events until {@link replayUnrouted} republishes them. */
  readonly unroutedQueue: string;
  /** Bounded queue of copies the buses consume (one at a time) to count and log unrouted events. */
  readonly unroutedNoticesQueue: string;
}

/** Consumer group names that would collide with the unrouted queues (`unrouted`, `unrouted.*`). */
export function isReservedGroup(group: string): boolean {
  return group === 'unrouted' || group.startsWith('unrouted.');
}

/** The protobuf package of a fully-qualified type name: the domain its exchange is named after. */
export function domainOf(eventType: string): string {
  const i = eventType.lastIndexOf('.');
  return i <= 0 ? 'default' : eventType.slice(0, i);
}

/**
 * The names used under `namespace`:
 * `<ns>.<package>` (exchange), `<ns>.<group>` (queue), `<ns>.<group>.retry.<delay>ms`, `<ns>.<group>.dlq`;
 * `<ns>.unrouted` (fanout exchange and parked queue), `<ns>.unrouted.notices`.
 *
 * @example
 * topologyNames('refront').queue('billing'); // 'refront.billing'
 */
export function topologyNames(namespace: string): TopologyNames {
  return {
    namespace,
    exchange: (eventType) => `${namespace}.${domainOf(eventType)}`,
    queue: (group) => `${namespace}.${group}`,
    retryQueue: (group, delayMs) => `${namespace}.${group}.retry.${delayMs}ms`,
    deadLetterQueue: (group) => `${namespace}.${group}.dlq`,
    unroutedExchange: `${namespace}.unrouted`,
    unroutedQueue: `${namespace}.unrouted`,
    unroutedNoticesQueue: `${namespace}.unrouted.notices`,
  };
}
