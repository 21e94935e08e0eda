import { invalidOption } from '@refront/core/transport';
import { domainOf } from './names.js';

/**
 * Which service owns (alone may publish) each event type: a map from a fully-qualified type
 * (`refront.tickets.v1.TicketCreated`) or a protobuf package (`refront.tickets.v1`, for every type
 * in it) to a service name, or a function of the type. `undefined` from the function (or no entry)
 * means no service owns the type: its deliveries are refused once ownership is on.
 */
export type EventOwners = Readonly<Record<string, string>> | ((eventType: string) => string | undefined);

/**
 * The broker user each service connects as: a map from service name to user, or a function.
 * A service missing from the map connects as the user named like it.
 */
export type BrokerUsers = Readonly<Record<string, string>> | ((service: string) => string);

/** Resolved ownership: the service owning a type, and the broker user it publishes as. */
export interface EventOwnership {
  /** The service owning `eventType`, or undefined when none does. */
  ownerOf(eventType: string): string | undefined;
  /** The broker user `service` connects as. */
  brokerUserOf(service: string): string;
}

/**
 * Resolves the `owners` and `brokerUsers` options of the bus.
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) when a map holds an empty name.
 * @example
 * const o = eventOwnership({ 'refront.tickets.v1': 'tickets' });
 * o.ownerOf('refront.tickets.v1.TicketCreated'); // 'tickets'
 * o.brokerUserOf('tickets'); // 'tickets'
 */
export function eventOwnership(owners: EventOwners, brokerUsers?: BrokerUsers): EventOwnership {
  if (typeof owners !== 'function') checkNames('owners', owners);
  if (brokerUsers !== undefined && typeof brokerUsers !== 'function') checkNames('brokerUsers', brokerUsers);
  const ownerOf =
    typeof owners === 'function'
      ? owners
      : (type: string) => own(owners, type) ?? own(owners, domainOf(type));
  const brokerUserOf =
    brokerUsers === undefined
      ? (service: string) => service
      : typeof brokerUsers === 'function'
        ? brokerUsers
        : (service: string) => own(brokerUsers, service) ?? service;
  return { ownerOf, brokerUserOf };
}

/** An own property only: a type named `constructor` must not find Object.prototype's. */
function own(map: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function checkNames(option: string, map: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(map))
    if (!k || typeof v !== 'string' || !v) throw invalidOption(`${option}: empty name in "${k}" → "${v}"`);
}
