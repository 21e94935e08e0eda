import { counterOf, type MetricsRegistry } from '@refront/core';
import type { ErrorFactory, EventEnvelope } from '@refront/core/transport';
import type { ConsumeMessage } from 'amqplib';
import type { Counter } from 'prom-client';
import type { EventOwnership } from '../EventOwners.js';
import { AmqpErrors } from '../errors.js';
import type { TopologyNames } from '../names.js';
import { HEADERS } from './amqpEnvelope.js';

/** Why a delivery is refused before any handler sees it. */
export interface Refusal {
  readonly reason: string;
  readonly error: string;
}

/** What the check needs from the bus. */
export interface PublisherCheckOptions {
  readonly names: TopologyNames;
  /** The broker user this bus connects as: what its own retry queues give back carries it. */
  readonly selfUser: string;
  /** Ownership of event types; undefined leaves publishers unchecked (opt-in, decision 0048). */
  readonly ownership: EventOwnership | undefined;
}

/**
 * Checks a delivery against where it came from, before it is decoded: its routing (a body
 * published to a domain exchange under a key that is not its type, or to another domain's
 * exchange) and, with ownership on, its publisher: the validated `user_id` must be the owner's
 * broker user and `source` the owner. Returns the refusal, or undefined when it may be handled.
 */
export function checkPublisher(
  o: PublisherCheckOptions,
  msg: ConsumeMessage,
  envelope: EventEnvelope,
): Refusal | undefined {
  const { exchange, routingKey } = msg.fields;
  // Straight from a domain exchange; from the default exchange it is a command (send) or a
  // message back from a retry queue, whose routing key is a queue name.
  if (exchange !== '' && (routingKey !== envelope.type || exchange !== o.names.exchange(envelope.type)))
    return refusal(AmqpErrors.ROUTING_MISMATCH, envelope.type, exchange, routingKey);
  if (!o.ownership) return undefined;
  const owner = o.ownership.ownerOf(envelope.type);
  if (owner === undefined) return refusal(AmqpErrors.UNTRUSTED_PUBLISHER, envelope.type);
  const ownerUser = o.ownership.brokerUserOf(owner);
  const userId = msg.properties.userId as unknown;
  const publisher = typeof userId === 'string' ? userId : undefined;
  const vouched = msg.properties.headers?.[HEADERS.publisherUser] as unknown;
  const trusted =
    publisher === ownerUser ||
    // Back from this consumer's own retry queue: it checked the first publisher and wrote it down.
    (exchange === '' && publisher === o.selfUser && vouched === ownerUser);
  const owned = { service: owner, user: ownerUser };
  if (!trusted) return refusal(AmqpErrors.UNTRUSTED_PUBLISHER, envelope.type, owned, publisher);
  if (envelope.source !== owner)
    return refusal(AmqpErrors.FORGED_EVENT, envelope.type, owned, envelope.source);
  return undefined;
}

/** A refusal with the reason and message of a dead-letter reason of {@link AmqpErrors}. */
function refusal<A extends unknown[]>(reason: ErrorFactory<string, A>, ...args: A): Refusal {
  return { reason: reason.reason, error: reason.format(...args) };
}

/**
 * The publisher to record on a message forwarded to a retry queue or the DLQ: its validated
 * `user_id` when it came from outside, the recorded one when it came back from a retry queue.
 */
export function publisherOf(msg: ConsumeMessage, selfUser: string): string | undefined {
  const userId = msg.properties.userId as unknown;
  const vouched = msg.properties.headers?.[HEADERS.publisherUser] as unknown;
  if (msg.fields.exchange === '' && userId === selfUser && typeof vouched === 'string') return vouched;
  return typeof userId === 'string' ? userId : undefined;
}

/** The counter of deliveries refused by {@link checkPublisher} (dead-lettered, no handler ran). */
export function refusedCounter(registry: MetricsRegistry): Counter<'group' | 'event_type' | 'reason'> {
  return counterOf(
    registry,
    'refront_events_refused_total',
    'Deliveries dead-lettered before any handler: untrusted publisher, forged source or mismatched routing',
    ['group', 'event_type', 'reason'],
  );
}
