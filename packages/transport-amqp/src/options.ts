import { randomUUID } from 'node:crypto';
import type { Logger, MessageValidator, MetricsRegistry } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import type { BrokerUsers, EventOwners } from './EventOwners.js';
import type { AlternateExchangeMode } from './internal/topology.js';
import { urlUser } from './internal/urlUser.js';

/** Options of {@link createAmqpEventBus}. */
export interface AmqpEventBusOptions {
  /** Broker URL, `amqp://user:pass@host:5672/vhost` (amqplib's URL options apply: `?heartbeat=10`). */
  readonly url: string;
  /** Name of this service: `source` of published envelopes, prefix of the connection name. */
  readonly service: string;
  /** Logger for connection and consumer events. */
  readonly logger: Logger;
  /** Registry for consumer RED metrics. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /**
   * Checks events against their contracts' rules before their handlers, for every subscription
   * that sets no `validator` of its own: an event that breaks them is dead-lettered at once
   * (`CORE_INVALID_MESSAGE`, no retry). @default none
   */
  readonly validator?: MessageValidator | undefined;
  /** Prefix of every exchange and queue name (see docs/amqp.md). @default DEFAULT_NAMESPACE ('refront') */
  readonly namespace?: string;
  /** Connection name shown by `rabbitmqctl list_connections` (client property `connection_name`). @default `<service>-<random>` */
  readonly connectionName?: string;
  /** Published messages not yet confirmed by the broker, at most; more publishes wait. @default DEFAULT_MAX_UNCONFIRMED (1000) */
  readonly maxUnconfirmed?: number;
  /** Time a publish may wait for its confirm (including a reconnect), in ms. @default DEFAULT_PUBLISH_TIMEOUT_MS (30000) */
  readonly publishTimeoutMs?: number;
  /** Deliveries of one message before the broker dead-letters it, for consumers that crash on it. @default DEFAULT_DELIVERY_LIMIT (20) */
  readonly deliveryLimit?: number;
  /** First reconnect delay, in ms; doubles up to `maxReconnectDelayMs`, with ±20 % jitter. @default 100 */
  readonly reconnectDelayMs?: number;
  /** Longest reconnect delay, in ms. @default 10000 */
  readonly maxReconnectDelayMs?: number;
  /** AMQP heartbeat, in s; a dead peer is noticed within about two of them. @default 10 */
  readonly heartbeatSeconds?: number;
  /**
   * How domain exchanges get `<ns>.unrouted` as their alternate exchange: `'argument'` declares it
   * on every exchange; `'policy'` declares exchanges without it, for an operator who set it by
   * policy instead (exchanges that predate it; see docs/amqp.md and decision 0047). @default 'argument'
   */
  readonly alternateExchange?: AlternateExchangeMode;
  /**
   * The broker user this bus connects as, set as `user_id` on every message it publishes (the
   * broker refuses one that is not the connection's user). Give it when the URL names none (a
   * certificate login). @default the URL's user name, else `guest` (amqplib's default login)
   */
  readonly brokerUser?: string;
  /**
   * Who may publish each event type (docs/amqp.md, "Who may publish what"). When set, a delivery
   * is dead-lettered before any handler unless its validated `user_id` is the broker user of its
   * type's owner (`AMQP_UNTRUSTED_PUBLISHER`) and its `source` is the owner (`AMQP_FORGED_EVENT`).
   * @default none: publishers are not checked (opt-in; the demo turns it on, decisions 0048, 0049)
   */
  readonly owners?: EventOwners;
  /** The broker user each owning service connects as. @default the service's name */
  readonly brokerUsers?: BrokerUsers;
}

/** Default prefix of exchange and queue names. */
export const DEFAULT_NAMESPACE = 'refront';
/** Default bound on unconfirmed publishes. */
export const DEFAULT_MAX_UNCONFIRMED = 1_000;
/** Default time a publish may wait for its confirm, in ms. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000;
/** Default delivery limit of group queues. */
export const DEFAULT_DELIVERY_LIMIT = 20;
/** Default first reconnect delay, in ms. */
export const DEFAULT_RECONNECT_DELAY_MS = 100;
/** Default longest reconnect delay, in ms. */
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 10_000;
/** Default AMQP heartbeat, in s. */
export const DEFAULT_HEARTBEAT_SECONDS = 10;

/** The options with every default applied and checked. */
export type ResolvedOptions = Required<
  Omit<AmqpEventBusOptions, 'metrics' | 'owners' | 'brokerUsers' | 'validator'>
> &
  Pick<AmqpEventBusOptions, 'metrics' | 'owners' | 'brokerUsers' | 'validator'>;

const NAMESPACE = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw invalidOption(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Applies the defaults and checks every option.
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) for a bad URL, namespace, limit or mode.
 */
export function resolveOptions(options: AmqpEventBusOptions): ResolvedOptions {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE.test(namespace)) throw invalidOption(`invalid namespace "${namespace}"`);
  if (typeof options.url !== 'string' || !/^amqps?:\/\//.test(options.url))
    throw invalidOption('url must be an amqp:// or amqps:// URL');
  const o: ResolvedOptions = {
    ...options,
    namespace,
    connectionName: options.connectionName ?? `${options.service}-${randomUUID().slice(0, 8)}`,
    maxUnconfirmed: positiveInt('maxUnconfirmed', options.maxUnconfirmed ?? DEFAULT_MAX_UNCONFIRMED),
    publishTimeoutMs: positiveInt('publishTimeoutMs', options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS),
    deliveryLimit: positiveInt('deliveryLimit', options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT),
    reconnectDelayMs: positiveInt('reconnectDelayMs', options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS),
    maxReconnectDelayMs: positiveInt(
      'maxReconnectDelayMs',
      options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS,
    ),
    heartbeatSeconds: positiveInt('heartbeatSeconds', options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS),
    alternateExchange: options.alternateExchange ?? 'argument',
    brokerUser: options.brokerUser ?? urlUser(options.url),
  };
  if (!o.brokerUser) throw invalidOption('brokerUser must not be empty');
  if (o.alternateExchange !== 'argument' && o.alternateExchange !== 'policy')
    throw invalidOption(`alternateExchange must be 'argument' or 'policy', got ${o.alternateExchange}`);
  return o;
}
