import { isRefrontError, type RefrontError } from '@refront/core';
import type { Channel } from 'amqplib';
import { AmqpErrors } from '../errors.js';
import type { TopologyNames } from '../names.js';

/**
 * How domain exchanges get their alternate exchange: the `alternate-exchange` argument on every
 * declaration, or a broker policy the operator set (decision 0047).
 */
export type AlternateExchangeMode = 'argument' | 'policy';

/**
 * Length bound of the notices queue: a copy per unrouted event waiting to be counted. Fixed (not
 * an option) because every bus of a namespace declares it and differing arguments would conflict.
 */
export const UNROUTED_NOTICES_MAX_LENGTH = 10_000;

/** What one consumer group needs declared. */
export interface GroupTopology {
  readonly group: string;
  /** Fully-qualified event types bound to the group's queue. */
  readonly types: readonly string[];
  /** Distinct retry delays, in ms. */
  readonly retryDelaysMs: readonly number[];
  /** Deliveries of one message before the broker dead-letters it (crash loops). */
  readonly deliveryLimit: number;
  /** How the domain exchanges get their alternate exchange. */
  readonly alternateExchange: AlternateExchangeMode;
}

/** Quorum queue arguments shared by every queue Refront declares. */
function quorum(extra: Record<string, unknown>): Record<string, unknown> {
  return { 'x-queue-type': 'quorum', ...extra };
}

/**
 * Arguments of a group's main queue. Broker-side dead-lettering (the delivery limit) goes to the
 * group's DLQ at least once, which RabbitMQ allows only with `reject-publish` overflow.
 */
export function groupQueueArguments(names: TopologyNames, group: string, deliveryLimit: number) {
  return quorum({
    'x-delivery-limit': deliveryLimit,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': names.deadLetterQueue(group),
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
  });
}

/**
 * Declares a group's topology: its DLQ, its retry queues (message TTL, dead-lettering back to
 * the group's queue), its queue, the domain exchanges and one binding per event type. Every
 * declaration is idempotent: run again after each reconnect with the same arguments.
 * @throws RefrontError FAILED_PRECONDITION `AMQP_TOPOLOGY_CONFLICT` when an object exists with other arguments.
 */
export async function declareGroup(ch: Channel, names: TopologyNames, t: GroupTopology): Promise<void> {
  const queue = names.queue(t.group);
  try {
    await ch.assertQueue(names.deadLetterQueue(t.group), { durable: true, arguments: quorum({}) });
    for (const delay of t.retryDelaysMs) {
      await ch.assertQueue(names.retryQueue(t.group, delay), {
        durable: true,
        arguments: quorum({
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        }),
      });
    }
    await ch.assertQueue(queue, {
      durable: true,
      arguments: groupQueueArguments(names, t.group, t.deliveryLimit),
    });
    for (const type of t.types) {
      const exchange = names.exchange(type);
      await declareDomainExchange(ch, names, exchange, t.alternateExchange);
      await ch.bindQueue(queue, exchange, type);
    }
  } catch (e: unknown) {
    throw topologyError(e, `consumer group ${t.group}`, names);
  }
}

/**
 * Declares where unrouted events go: the fanout `<ns>.unrouted`, the parked queue bound to it
 * (read only by replay) and the bounded notices queue (one active consumer counts and logs).
 */
export async function declareUnrouted(ch: Channel, names: TopologyNames): Promise<void> {
  await ch.assertExchange(names.unroutedExchange, 'fanout', { durable: true });
  await ch.assertQueue(names.unroutedQueue, { durable: true, arguments: quorum({}) });
  await ch.assertQueue(names.unroutedNoticesQueue, {
    durable: true,
    // drop-head: when nobody counts for a while, the oldest notices go; the parked copy stays.
    arguments: quorum({ 'x-single-active-consumer': true, 'x-max-length': UNROUTED_NOTICES_MAX_LENGTH }),
  });
  await ch.bindQueue(names.unroutedQueue, names.unroutedExchange, '');
  await ch.bindQueue(names.unroutedNoticesQueue, names.unroutedExchange, '');
}

/**
 * Declares a domain (topic) exchange with `<ns>.unrouted` as its alternate exchange, declaring
 * that first. In `policy` mode the argument is left to the operator's policy.
 * @throws RefrontError FAILED_PRECONDITION `AMQP_ALTERNATE_EXCHANGE_MISSING` when the exchange exists without it.
 */
export async function declareDomainExchange(
  ch: Channel,
  names: TopologyNames,
  exchange: string,
  mode: AlternateExchangeMode,
): Promise<void> {
  await declareUnrouted(ch, names);
  await ch.assertExchange(
    exchange,
    'topic',
    mode === 'argument' ? { durable: true, alternateExchange: names.unroutedExchange } : { durable: true },
  );
}

/** The `rabbitmqctl set_policy` command giving every exchange of the namespace its alternate exchange. */
export function alternateExchangePolicy(names: TopologyNames): string {
  const ns = names.namespace.replace(/\./g, '\\.');
  return `rabbitmqctl set_policy ${names.namespace}-unrouted '^${ns}\\.' '{"alternate-exchange":"${names.unroutedExchange}"}' --apply-to exchanges`;
}

function alternateExchangeMissing(e: unknown, names: TopologyNames): RefrontError {
  const message = e instanceof Error ? e.message : String(e);
  const exchange = /for exchange '([^']+)'/.exec(message)?.[1] ?? 'a domain exchange';
  return AmqpErrors.ALTERNATE_EXCHANGE_MISSING.with(
    { cause: e },
    exchange,
    names.unroutedExchange,
    alternateExchangePolicy(names),
    message,
  );
}
/** Maps a refused declaration to a typed error; other failures (connection lost) become UNAVAILABLE. */
export function topologyError(e: unknown, what: string, names: TopologyNames): RefrontError {
  if (isRefrontError(e)) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const brokerSaid = e instanceof Error ? e.message : String(e);
  if (code === 406 && e instanceof Error && e.message.includes("'alternate-exchange'"))
    return alternateExchangeMissing(e, names);
  if (code === 406) return AmqpErrors.TOPOLOGY_CONFLICT.with({ cause: e }, what, brokerSaid);
  return AmqpErrors.DISCONNECTED.with({ cause: e }, `declare ${what}`, `lost the broker: ${brokerSaid}`);
}
